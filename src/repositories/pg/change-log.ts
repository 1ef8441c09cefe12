import { sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { changeLog } from '../../db/schema/pg.js'
import type { AuditEntry } from '../flag-repository.js'

export type PgTx = Parameters<Parameters<PgDb['transaction']>[0]>[0]

/**
 * Run one write as one transaction that first takes the change log's write lock (readers are not
 * blocked). Writers then go one at a time, as SQLite's BEGIN IMMEDIATE makes them, which matters
 * twice over on Postgres: change-log ids are handed out in commit order, so a poller that has read
 * revision N can never later see a smaller id commit (an identity column alone does not promise
 * that); and a write's read-then-write steps (which flags a removal touches) see no one in between.
 */
export function writeTransaction<T> (db: PgDb, fn: (tx: PgTx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`lock table ${changeLog} in exclusive mode`)
    return await fn(tx)
  })
}

/** Append the change-log row inside the caller's transaction; its id is the new revision. */
export async function appendLog (tx: PgTx, audit: AuditEntry): Promise<number> {
  const [row] = await tx.insert(changeLog)
    .values({ at: new Date(), ...audit, users: audit.users ?? [], overrides: audit.overrides ?? [] })
    .returning({ id: changeLog.id })
  return row.id
}
