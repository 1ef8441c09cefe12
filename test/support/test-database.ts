import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { sqlitePath } from '../../src/db/sqlite-client.js'
import { isPostgresUrl } from '../../src/db/pg-url.js'
import { dropSchema, isolatedUrl, probePostgres, queryPostgres } from './postgres.js'

/**
 * The one way a test gets a database: `npm test` runs every suite on SQLite, then scripts/test-postgres.ts
 * runs the database-dependent ones again with FLAGPOST_TEST_DB=postgres. A test asks testDatabase() for
 * a DATABASE_URL and gets a private one on the pass's dialect, removed when the test ends.
 */

interface TestLike { teardown (fn: () => unknown): void }

export type TestDialect = 'sqlite' | 'postgres'

/** Which database this pass runs on: FLAGPOST_TEST_DB=postgres (the second `npm test` pass) or SQLite. */
export const testDialect = (): TestDialect => process.env.FLAGPOST_TEST_DB === 'postgres' ? 'postgres' : 'sqlite'

export interface TestDatabase {
  dialect: TestDialect
  /** What to pass as DATABASE_URL (or the library's databaseUrl). */
  url: string
  /** SQLite with `shared`: the database file. */
  file?: string
  /** Postgres: the private schema (`?schema=` of url). */
  schema?: string
}

/**
 * A private database for one test, cleaned up at its teardown: a fresh schema of DATABASE_URL's Postgres
 * database on the Postgres pass (dropped with everything in it), SQLite otherwise: `:memory:`, or with
 * `shared` (opened by more than one container or process: the CLI, a server, a second instance) a file in
 * a temporary folder that is removed. Call it before opening anything on the URL: teardowns run last-in
 * first-out, so whatever the test opens afterwards is closed before the database goes.
 */
export async function testDatabase (t: TestLike, { shared = false }: { shared?: boolean } = {}): Promise<TestDatabase> {
  if (testDialect() === 'sqlite') {
    if (!shared) return { dialect: 'sqlite', url: ':memory:' }
    const dir = mkdtempSync(join(tmpdir(), 'flagpost-db-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'flags.db')
    return { dialect: 'sqlite', url: `file:${file}`, file }
  }
  const probe = await probePostgres()
  if (probe.url === null) throw new Error(`FLAGPOST_TEST_DB=postgres, but ${probe.reason}`)
  const base = probe.url
  const { url, schema } = isolatedUrl(base)
  t.teardown(() => dropSchema(base, schema))
  return { dialect: 'postgres', url, schema }
}

/**
 * The rows of one query on the database `url` names, to check what was stored: SQLite files are opened
 * read-only, Postgres on a short-lived connection in the URL's schema. Placeholders are `?`.
 */
export async function queryRows<T extends object> (url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  if (isPostgresUrl(url)) {
    let n = 0
    return queryPostgres<T>(url, sql.replace(/\?/g, () => `$${++n}`), params)
  }
  const path = sqlitePath(url)
  if (path === ':memory:') throw new Error('an in-memory SQLite database cannot be read from outside (use { shared: true })')
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try { return db.prepare(sql).all(...params) as T[] } finally { db.close() }
}

/** The tables of the database `url` names (in its schema, on Postgres), by name. */
export async function tableNames (url: string): Promise<string[]> {
  const rows = isPostgresUrl(url)
    ? await queryRows<{ name: string }>(url, "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'")
    : await queryRows<{ name: string }>(url, "select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'")
  return rows.map((r) => r.name).sort()
}

/**
 * Counts what this process holds open on `db`, to prove that a close closed it: descriptors of the
 * SQLite file and its -wal/-shm (Linux /proc only: null elsewhere, and for `:memory:`), or server
 * connections opened with the returned `url` (Postgres, told apart from everyone else's by an
 * application_name of their own). `settled` waits up to a second for the count to reach 0: a closed
 * connection leaves pg_stat_activity a moment after its socket closes.
 */
export function trackHandles (db: TestDatabase): { url: string, count (opts?: { settled?: boolean }): Promise<number> } | null {
  const file = db.file
  let url = db.url
  let now: () => Promise<number>
  if (db.schema !== undefined) {
    const tagged = new URL(db.url)
    tagged.searchParams.set('application_name', db.schema)
    url = tagged.toString()
    now = async () => (await queryRows(db.url, 'select pid from pg_stat_activity where application_name = ?', [db.schema])).length
  } else if (file !== undefined && process.platform === 'linux') {
    now = async () => readdirSync('/proc/self/fd')
      .map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) } catch { return '' } })
      .filter((f) => f.startsWith(file)).length
  } else {
    return null
  }
  return {
    url,
    async count ({ settled = false } = {}) {
      let n = await now()
      if (settled) for (let i = 0; n > 0 && i < 50; i++) { await new Promise((resolve) => setTimeout(resolve, 20)); n = await now() }
      return n
    }
  }
}
