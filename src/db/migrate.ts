import { fileURLToPath } from 'node:url'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import type { SqliteHandle } from './sqlite-client.js'

// src/db/migrate.ts and dist/db/migrate.js are both two levels below the package root.
const MIGRATIONS = fileURLToPath(new URL('../../drizzle/sqlite', import.meta.url))

/** Apply the committed drizzle-kit migrations; idempotent. */
export function migrateSqlite (handle: SqliteHandle): void {
  migrate(handle.db, { migrationsFolder: MIGRATIONS })
}
