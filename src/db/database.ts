import type { SqliteHandle } from './client.js'
import type { PgHandle } from './pg-client.js'
import { isPostgresUrl } from './pg-url.js'

/** An open database of either dialect; `kind` says which. */
export type DatabaseHandle = SqliteHandle | PgHandle

/**
 * Open the database DATABASE_URL names: Postgres (pooled; nothing connects until the first query)
 * or SQLite. Each driver is loaded only when used, so SQLite deployments never load `pg`.
 */
export async function openDatabase (url: string): Promise<DatabaseHandle> {
  if (isPostgresUrl(url)) return (await import('./pg-client.js')).openPostgres(url)
  return (await import('./client.js')).openSqlite(url)
}

/** Apply the committed migrations of the handle's dialect; idempotent. */
export async function migrateDatabase (handle: DatabaseHandle): Promise<void> {
  if (handle.kind === 'postgres') await (await import('./pg-migrate.js')).migratePostgres(handle)
  else (await import('./migrate.js')).migrateSqlite(handle)
}
