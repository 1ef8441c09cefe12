import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import type { PoolClient } from 'pg'
import { boundsOf, destroyConnection, type PgDb } from '../../db/pg-client.js'
import * as schema from '../../db/schema/pg.js'
import { changeLog } from '../../db/schema/pg.js'
import type { AuditEntry } from '../flag-repository.js'
import { errorChain } from './errors.js'

/** Drizzle over the one connection a write transaction holds. */
export type PgTx = NodePgDatabase<typeof schema>

/** A write transaction that ran out of time; isPgUnavailable maps it to 503. */
export class WriteTimeoutError extends Error {
  readonly code = 'FLAGPOST_DB_WRITE_TIMEOUT'
  constructor (stage: string, ms: number) {
    super(`the database did not answer within ${ms} ms (${stage}); the write was rolled back`)
    this.name = 'WriteTimeoutError'
  }
}

/**
 * Run one write as one transaction that first takes the change log's write lock (readers are not
 * blocked). Writers then go one at a time, as SQLite's BEGIN IMMEDIATE makes them, which matters
 * twice over on Postgres: change-log ids are handed out in commit order, so a poller that has read
 * revision N can never later see a smaller id commit (an identity column alone does not promise
 * that); and a write's read-then-write steps (which flags a removal touches) see no one in between.
 *
 * The whole transaction answers within `bounds.transaction` ms (PG_BOUNDS): committed, or rejected
 * (→ 503) with the connection destroyed; a write that was rejected never commits afterwards.
 */
export async function writeTransaction<T> (db: PgDb, fn: (tx: PgTx) => Promise<T>): Promise<T> {
  // Why a write that gave up can never commit later. The connection is destroyed when it gives up,
  // so nothing more is ever sent on it; what was sent and still sits in a stalled link may arrive
  // later, and only a COMMIT among it could commit. Two cases:
  // - COMMIT was not sent (the deadline hit while connecting, at BEGIN, waiting for the lock, or in
  //   a statement): whatever arrives late ends with the closed socket, and Postgres rolls back.
  // - COMMIT was sent at time c. Postgres arms idle_in_transaction_session_timeout (I) before it
  //   answers the statement before COMMIT, so before c; if COMMIT has not reached it by then + I it
  //   ends the session (rolling back). So the transaction commits before c + I (+ commitMargin for
  //   a COMMIT read just in time to finish) or never. COMMIT is only sent while c ≤ deadline − I −
  //   margin, so by the deadline, when this gives up and answers 503, the outcome is settled: any
  //   commit happened before the answer, none can happen after it.
  // (A COMMIT the server has read but cannot finish, a stalled disk, is outside what this covers.)
  const bounds = boundsOf(db.$client)
  const started = performance.now()
  const deadline = started + bounds.transaction
  const lastCommit = deadline - bounds.idleInTransaction - bounds.commitMargin
  let client: PoolClient | undefined
  let timedOut = false
  const within = <R>(work: Promise<R>, until: number, stage: string): Promise<R> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true
        // Destroy now: a late answer must never reach anyone, and fn must not send anything more.
        if (client !== undefined) destroyConnection(client)
        reject(new WriteTimeoutError(stage, Math.round(performance.now() - started)))
      }, Math.max(0, until - performance.now()))
    })
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
  }

  // Not db.transaction(): Drizzle 0.45 sends BEGIN before its try/finally, so a pooled connection
  // that died during an outage fails BEGIN and is never released — each outage would leak pool
  // slots until every write answered 503. Here the connection is always released, and destroyed
  // (not reused) when it broke or timed out.
  const connecting = db.$client.connect()
  try {
    client = await within(connecting, lastCommit, 'waiting for a connection')
  } catch (err) {
    // A connection that arrives after the deadline goes straight back.
    if (timedOut) connecting.then((late) => late.release(), () => {})
    throw err
  }
  let broken: Error | undefined
  try {
    await within(client.query('begin'), lastCommit, 'begin')
    try {
      await within(client.query('lock table change_log in exclusive mode'), lastCommit, 'waiting for the write lock')
      const result = await within(fn(drizzle(client, { schema })), lastCommit, 'writing')
      if (performance.now() > lastCommit) throw new WriteTimeoutError('too late to commit', Math.round(performance.now() - started))
      await within(client.query('commit'), deadline, 'commit')
      return result
    } catch (err) {
      if (!timedOut && !isBrokenConnection(err)) {
        await within(client.query('rollback'), deadline, 'rollback').catch((rollbackError: Error) => { broken = rollbackError })
      }
      throw err
    }
  } catch (err) {
    if (err instanceof WriteTimeoutError) timedOut = true
    broken ??= timedOut || isBrokenConnection(err) ? err as Error : undefined
    throw err
  } finally {
    if (timedOut) destroyConnection(client)
    client.release(broken)
  }
}

/** An error that means the connection itself is unusable (rather than the statement being refused). */
function isBrokenConnection (err: unknown): boolean {
  for (const { code, message } of errorChain(err)) {
    if (typeof code === 'string' && (/^(08|57P)/.test(code) || /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT)$/.test(code))) return true
    if (typeof message === 'string' && /Connection terminated|not queryable|Client has encountered a connection error|Query read timeout/.test(message)) return true
  }
  return false
}

/** Append the change-log row inside the caller's transaction; its id is the new revision. */
export async function appendLog (tx: PgTx, audit: AuditEntry): Promise<number> {
  const [row] = await tx.insert(changeLog)
    .values({ at: new Date(), ...audit, environment: audit.environment ?? null, flagId: audit.flagId ?? null, flag: audit.flag ?? null, users: audit.users ?? [], overrides: audit.overrides ?? [] })
    .returning({ id: changeLog.id })
  return row.id
}
