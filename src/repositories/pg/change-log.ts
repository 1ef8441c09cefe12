import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { PgDb } from '../../db/pg-client.js'
import * as schema from '../../db/schema/pg.js'
import { changeLog } from '../../db/schema/pg.js'
import type { AuditEntry } from '../flag-repository.js'

/** Drizzle over the one connection a write transaction holds. */
export type PgTx = NodePgDatabase<typeof schema>

/**
 * Run one write as one transaction that first takes the change log's write lock (readers are not
 * blocked). Writers then go one at a time, as SQLite's BEGIN IMMEDIATE makes them, which matters
 * twice over on Postgres: change-log ids are handed out in commit order, so a poller that has read
 * revision N can never later see a smaller id commit (an identity column alone does not promise
 * that); and a write's read-then-write steps (which flags a removal touches) see no one in between.
 */
export async function writeTransaction<T> (db: PgDb, fn: (tx: PgTx) => Promise<T>): Promise<T> {
  // Not db.transaction(): Drizzle 0.45 sends BEGIN before its try/finally, so a pooled connection
  // that died during an outage fails BEGIN and is never released — each outage would leak pool
  // slots until every write answered 503. Here the connection is always released, and destroyed
  // (not reused) when it broke.
  const client = await db.$client.connect()
  let broken: Error | undefined
  try {
    await client.query('begin')
    try {
      await client.query('lock table change_log in exclusive mode')
      const result = await fn(drizzle(client, { schema }))
      await client.query('commit')
      return result
    } catch (err) {
      await client.query('rollback').catch((rollbackError: Error) => { broken = rollbackError })
      throw err
    }
  } catch (err) {
    broken ??= isBrokenConnection(err) ? err as Error : undefined
    throw err
  } finally {
    client.release(broken)
  }
}

/** An error that means the connection itself is unusable (rather than the statement being refused). */
function isBrokenConnection (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && (/^(08|57P)/.test(code) || /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT)$/.test(code))) ||
    (typeof message === 'string' && /Connection terminated|not queryable|Client has encountered a connection error/.test(message))
}

/** Append the change-log row inside the caller's transaction; its id is the new revision. */
export async function appendLog (tx: PgTx, audit: AuditEntry): Promise<number> {
  const [row] = await tx.insert(changeLog)
    .values({ at: new Date(), ...audit, users: audit.users ?? [], overrides: audit.overrides ?? [] })
    .returning({ id: changeLog.id })
  return row.id
}
