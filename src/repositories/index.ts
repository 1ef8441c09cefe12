import type { DatabaseHandle } from '../db/database.js'
import type { Repositories } from './repositories.js'

export type { Repositories }

/**
 * The repository implementations for the opened database; "cannot serve" errors become 503s. Each
 * dialect's set is loaded only when used, like its driver (db/database.ts): a SQLite process never
 * loads `pg` and Drizzle's Postgres core (about 0.1 s of every start).
 */
export async function createRepositories (handle: DatabaseHandle): Promise<Repositories> {
  if (handle.kind === 'postgres') return (await import('./pg/index.js')).createPgRepositories(handle.db)
  return (await import('./sqlite/index.js')).createSqliteRepositories(handle.db)
}
