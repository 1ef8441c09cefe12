import t from 'tap'
import { getTableName, is, Table } from 'drizzle-orm'
import { getTableConfig as pgTableConfig, type PgTable } from 'drizzle-orm/pg-core'
import { getTableConfig as sqliteTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core'
import * as pg from '../../src/db/schema/pg.js'
import * as sqlite from '../../src/db/schema/sqlite.js'

// The two schema files must describe the same rows: repositories, services and the memory fake are
// written once against these types. Compile time (npm run typecheck): every table's select and insert
// types are identical. Run time: the same tables, columns, keys and indexes under the same SQL names.

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
type Expect<T extends true> = T
type TableExports<S> = { [K in keyof S]: S[K] extends Table ? K : never }[keyof S]

export type SchemaParity = [
  Expect<Equal<TableExports<typeof sqlite>, TableExports<typeof pg>>>,
  Expect<Equal<TableExports<typeof pg>, 'flags' | 'environments' | 'flagEnvironments' | 'changeLog' | 'meta' | 'apiKeys' | 'customers' | 'users' | 'overrides'>>,
  Expect<Equal<typeof sqlite.meta.$inferSelect, typeof pg.meta.$inferSelect>>,
  Expect<Equal<typeof sqlite.meta.$inferInsert, typeof pg.meta.$inferInsert>>,
  Expect<Equal<typeof sqlite.flags.$inferSelect, typeof pg.flags.$inferSelect>>,
  Expect<Equal<typeof sqlite.flags.$inferInsert, typeof pg.flags.$inferInsert>>,
  Expect<Equal<typeof sqlite.environments.$inferSelect, typeof pg.environments.$inferSelect>>,
  Expect<Equal<typeof sqlite.environments.$inferInsert, typeof pg.environments.$inferInsert>>,
  Expect<Equal<typeof sqlite.flagEnvironments.$inferSelect, typeof pg.flagEnvironments.$inferSelect>>,
  Expect<Equal<typeof sqlite.flagEnvironments.$inferInsert, typeof pg.flagEnvironments.$inferInsert>>,
  Expect<Equal<typeof sqlite.changeLog.$inferSelect, typeof pg.changeLog.$inferSelect>>,
  Expect<Equal<typeof sqlite.changeLog.$inferInsert, typeof pg.changeLog.$inferInsert>>,
  Expect<Equal<typeof sqlite.apiKeys.$inferSelect, typeof pg.apiKeys.$inferSelect>>,
  Expect<Equal<typeof sqlite.apiKeys.$inferInsert, typeof pg.apiKeys.$inferInsert>>,
  Expect<Equal<typeof sqlite.customers.$inferSelect, typeof pg.customers.$inferSelect>>,
  Expect<Equal<typeof sqlite.customers.$inferInsert, typeof pg.customers.$inferInsert>>,
  Expect<Equal<typeof sqlite.users.$inferSelect, typeof pg.users.$inferSelect>>,
  Expect<Equal<typeof sqlite.users.$inferInsert, typeof pg.users.$inferInsert>>,
  Expect<Equal<typeof sqlite.overrides.$inferSelect, typeof pg.overrides.$inferSelect>>,
  Expect<Equal<typeof sqlite.overrides.$inferInsert, typeof pg.overrides.$inferInsert>>
]

/** What must match between dialects, in SQL names: types differ by design (boolean vs integer…). */
function shape (config: ReturnType<typeof pgTableConfig> | ReturnType<typeof sqliteTableConfig>): unknown {
  const names = (columns: Array<{ name: string }>): string[] => columns.map((c) => c.name)
  return {
    columns: Object.fromEntries(config.columns.map((c) => [c.name, {
      notNull: c.notNull, primary: c.primary, unique: c.isUnique, default: c.hasDefault
    }])),
    columnOrder: names(config.columns),
    primaryKeys: config.primaryKeys.map((pk) => names(pk.columns)),
    indexes: config.indexes.map((i) => ({ name: i.config.name, unique: i.config.unique ?? false, on: i.config.columns.map((c) => (c as { name: string }).name) }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    foreignKeys: config.foreignKeys.map((fk) => {
      const ref = fk.reference()
      // ON UPDATE CASCADE is what renames an environment everywhere. Unset is "no action": the SQLite
      // builder says so, the pg one leaves it undefined.
      const onUpdate = fk.onUpdate ?? 'no action'
      return { columns: names(ref.columns), table: getTableName(ref.foreignTable), foreignColumns: names(ref.foreignColumns), onDelete: fk.onDelete, onUpdate }
    })
  }
}

const tables = <S extends Record<string, unknown>>(schema: S): Map<string, unknown> =>
  new Map(Object.entries(schema).filter(([, v]) => is(v, Table)).map(([k, v]) => [k, v]))

t.test('both schema files export the same tables under the same SQL names', async (t) => {
  const s = tables(sqlite)
  const p = tables(pg)
  t.same([...p.keys()].sort(), [...s.keys()].sort())
  for (const [key, table] of s) t.equal(getTableName(p.get(key) as PgTable), getTableName(table as SQLiteTable), key)
})

t.test('every table has the same columns, nullability, defaults, keys and indexes', async (t) => {
  const p = tables(pg)
  for (const [key, table] of tables(sqlite)) {
    t.same(shape(pgTableConfig(p.get(key) as PgTable)), shape(sqliteTableConfig(table as SQLiteTable)), key)
  }
})

t.test('the comparison sees a difference (it is not vacuous)', async (t) => {
  t.notSame(shape(pgTableConfig(pg.users)), shape(sqliteTableConfig(sqlite.customers)))
  t.notSame(shape(pgTableConfig(pg.overrides)), shape(sqliteTableConfig(sqlite.flags)))
})
