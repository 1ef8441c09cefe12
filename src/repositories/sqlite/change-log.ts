import type { SqliteDb } from '../../db/client.js'
import { changeLog } from '../../db/schema/sqlite.js'
import type { AuditEntry } from '../flag-repository.js'

/** Append the change-log row inside the caller's transaction; its id is the new revision. */
export function appendLog (tx: Pick<SqliteDb, 'insert'>, audit: AuditEntry): number {
  return tx.insert(changeLog).values({ at: new Date(), ...audit, users: audit.users ?? [], overrides: audit.overrides ?? [] })
    .returning({ id: changeLog.id }).get().id
}

export const isConstraint = (err: unknown, kind: 'UNIQUE' | 'PRIMARYKEY' | 'FOREIGNKEY'): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: string }).code === `SQLITE_CONSTRAINT_${kind}`
