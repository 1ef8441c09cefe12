import { sql, type SQL } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { changeLog } from '../../db/schema/sqlite.js'
import type { AuditEntry } from '../flag-repository.js'

/** Append the change-log row inside the caller's transaction; its id is the new revision. */
export function appendLog (tx: Pick<SqliteDb, 'insert'>, audit: AuditEntry): number {
  return tx.insert(changeLog).values({ at: new Date(), ...audit, environment: audit.environment ?? null, flagId: audit.flagId ?? null, flag: audit.flag ?? null, users: audit.users ?? [], overrides: audit.overrides ?? [] })
    .returning({ id: changeLog.id }).get().id
}

export const isConstraint = (err: unknown, kind: 'UNIQUE' | 'PRIMARYKEY' | 'FOREIGNKEY'): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: string }).code === `SQLITE_CONSTRAINT_${kind}`

/**
 * `column IN (ids)` with the whole list bound as ONE parameter (a JSON array read by json_each):
 * `inArray` binds one parameter per id, and SQLite refuses a statement with more than 32,766 of
 * them, so a list that grows with the data (the users a customer removal detaches) must not.
 */
export const inList = (column: SQLiteColumn, ids: string[]): SQL =>
  sql`${column} in (select value from json_each(${JSON.stringify(ids)}))`
