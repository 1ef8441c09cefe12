import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import * as schema from './schema/sqlite.js'

/** Drizzle over better-sqlite3; `$client` is the driver, for the few statements Drizzle would slow down. */
export type SqliteDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database }

export interface SqliteHandle {
  kind: 'sqlite'
  db: SqliteDb
  raw: Database.Database
  close (): void
}

/** `file:./data/flagpost.db` → `./data/flagpost.db`; `:memory:` and `file::memory:` stay in memory. */
export function sqlitePath (url: string): string {
  const path = url.startsWith('file:') ? url.slice('file:'.length) : url
  return path === '' ? ':memory:' : path
}

/**
 * Open the SQLite database: WAL so readers never block the writer, synchronous=FULL so an
 * acknowledged write survives a crash, a busy timeout so the CLI and a running server can share the file.
 */
export function openSqlite (url: string): SqliteHandle {
  const path = sqlitePath(url)
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const raw = new Database(path)
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = FULL')
  raw.pragma('busy_timeout = 5000')
  raw.pragma('foreign_keys = ON')
  const db = drizzle(raw, { schema })
  return { kind: 'sqlite', db, raw, close: () => { if (raw.open) raw.close() } }
}
