import Database from 'better-sqlite3'
import { getTableName, is } from 'drizzle-orm'
import { SQLiteTable } from 'drizzle-orm/sqlite-core'
import pg from 'pg'
import * as sqliteSchema from '../../src/db/schema/sqlite.js'
import { parsePostgresUrl } from '../../src/db/pg-url.js'
import type { TestDatabase } from '../support/test-database.js'

/**
 * A full dump of every table the app owns, to prove a refused request wrote nothing. The table list
 * is read from the schema (src/db/schema/sqlite.ts; the Postgres schema has the same table names, as
 * test/db/schema-parity.test.ts checks). One connection of the test's own, opened once: a read-only
 * SQLite handle on the shared file, or a Postgres client in the test's schema.
 */

interface TestLike { teardown (fn: () => unknown): void }

export type Dump = Record<string, string[]>

/** Every table name in the schema module. */
export const TABLES: string[] = Object.values(sqliteSchema)
  .filter((v) => is(v, SQLiteTable)).map((table) => getTableName(table as SQLiteTable)).sort()

export interface Dumper {
  dump (): Promise<Dump>
}

/** Rows as sorted JSON strings, so two dumps compare by value whatever order the database returns. */
const sorted = (rows: unknown[]): string[] => rows.map((r) => JSON.stringify(r)).sort()

export async function openDumper (t: TestLike, db: TestDatabase): Promise<Dumper> {
  if (db.dialect === 'sqlite') {
    if (db.file === undefined) throw new Error('dumping SQLite needs testDatabase(t, { shared: true })')
    const raw = new Database(db.file, { readonly: true, fileMustExist: true })
    t.teardown(() => raw.close())
    const statements = TABLES.map((name) => [name, raw.prepare(`select * from "${name}"`)] as const)
    return {
      async dump () {
        return Object.fromEntries(statements.map(([name, statement]) => [name, sorted(statement.all())]))
      }
    }
  }
  const { connectionString, schema } = parsePostgresUrl(db.url)
  if (schema === undefined) throw new Error('dumping Postgres needs a test schema')
  const client = new pg.Client({ connectionString, options: `-c search_path=${schema}` })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.end())
  // One round trip: every table's rows as JSON text, tagged with the table.
  const statement = TABLES.map((name) => `select '${name}' as t, row_to_json(x)::text as r from "${name}" x`).join(' union all ')
  return {
    async dump () {
      const { rows } = await client.query<{ t: string, r: string }>(statement)
      const out: Dump = Object.fromEntries(TABLES.map((name) => [name, [] as string[]]))
      for (const row of rows) out[row.t].push(row.r)
      for (const name of TABLES) out[name].sort()
      return out
    }
  }
}

/** What changed between two dumps, per table: rows gone and rows new (for a failure message). */
export function dumpDiff (before: Dump, after: Dump): string | null {
  const parts: string[] = []
  for (const name of TABLES) {
    const a = new Set(before[name]); const b = new Set(after[name])
    const gone = before[name].filter((r) => !b.has(r)); const added = after[name].filter((r) => !a.has(r))
    if (gone.length + added.length === 0) continue
    parts.push(`${name}: -${gone.length} +${added.length}` +
      [...gone.slice(0, 2).map((r) => `\n    - ${r.slice(0, 300)}`), ...added.slice(0, 2).map((r) => `\n    + ${r.slice(0, 300)}`)].join(''))
  }
  return parts.length === 0 ? null : parts.join('\n  ')
}
