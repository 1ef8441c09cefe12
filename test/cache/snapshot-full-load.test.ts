import Database from 'better-sqlite3'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { queryPostgres } from '../support/postgres.js'
import { testDatabase, type TestDatabase } from '../support/test-database.js'

/**
 * The snapshot's full load reads overrides and users a page (5,000 rows) at a time: rows on both
 * sides of a page boundary, and across the boundary between two flags, must all arrive once.
 */
const USERS = 6_000
const WRITER = { actor: 'test' }
/** The default environment: where a fresh database's flags are served. */
const P = 'production'
const pad = (i: number): string => `u-${String(i).padStart(5, '0')}`

/** USERS users (customer c-<i % 7>), each with an override on `paged-a` (on for odd i), and ten on `paged-b`. */
async function seed (db: TestDatabase): Promise<void> {
  if (db.dialect === 'postgres') {
    const run = async (sql: string): Promise<void> => { await queryPostgres(db.url, sql) }
    await run('insert into customers (id, name, created_at) select \'c-\' || i, null, now() from generate_series(0, 6) i')
    await run(`insert into users (id, customer_id, created_at) select 'u-' || lpad(i::text, 5, '0'), 'c-' || (i % 7), now() from generate_series(1, ${USERS}) i`)
    await run(`insert into overrides (flag_id, environment, subject, subject_id, enabled, variant, created_at, updated_at)
      select f.id, 'production', 'user', 'u-' || lpad(i::text, 5, '0'), i % 2 = 1, null, now(), now() from flags f, generate_series(1, ${USERS}) i where f.name = 'paged-a'
      union all select f.id, 'production', 'user', 'u-' || lpad(i::text, 5, '0'), true, null, now(), now() from flags f, generate_series(1, 10) i where f.name = 'paged-b'`)
    return
  }
  const sqlite = new Database(db.file!)
  try {
    sqlite.exec(`with recursive n(i) as (select 0 union all select i + 1 from n where i < 6) insert into customers (id, name, created_at) select 'c-' || i, null, 0 from n;
      with recursive n(i) as (select 1 union all select i + 1 from n where i < ${USERS})
        insert into users (id, customer_id, created_at) select printf('u-%05d', i), 'c-' || (i % 7), 0 from n;
      with recursive n(i) as (select 1 union all select i + 1 from n where i < ${USERS})
        insert into overrides (flag_id, environment, subject, subject_id, enabled, variant, created_at, updated_at)
        select (select id from flags where name = 'paged-a'), 'production', 'user', printf('u-%05d', i), i % 2, null, 0, 0 from n
        union all select (select id from flags where name = 'paged-b'), 'production', 'user', printf('u-%05d', i), 1, null, 0, 0 from n where i <= 10;`)
  } finally {
    sqlite.close()
  }
}

t.test('a full load reads every override and every user, across page boundaries', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: '60000' })
  const writer = await createContainer(config)
  t.teardown(() => writer.close())
  for (const name of ['paged-a', 'paged-b', 'paged-c']) {
    await writer.services.flags.create(P, { name, defaultValue: true, targetingRules: { percentage: 0 } }, WRITER)
  }
  await seed(db)

  // A new instance loads what is in the database now, the bulk rows included.
  const reader = await createContainer(config)
  t.teardown(() => reader.close())
  const evaluate = (flag: string, user: string): string => {
    const { value, rule } = reader.services.flags.evaluate(P, flag, { user_id: user })
    return `${String(value)} ${rule}`
  }
  const wrong: string[] = []
  for (let i = 1; i <= USERS; i++) {
    const got = evaluate('paged-a', pad(i))
    const want = `${i % 2 === 1} user_override`
    if (got !== want) wrong.push(`${pad(i)}: ${got}, want ${want}`)
    if (reader.snapshot.customerOf(pad(i)) !== `c-${i % 7}`) wrong.push(`${pad(i)}: customer ${String(reader.snapshot.customerOf(pad(i)))}`)
  }
  t.same(wrong.slice(0, 5), [], `all ${USERS} overrides and customers of paged-a loaded (page size 5,000)`)
  t.equal(evaluate('paged-b', pad(10)), 'true user_override', 'the flag after the page boundary has its overrides')
  t.equal(evaluate('paged-b', pad(11)), 'false fallthrough')
  t.equal(evaluate('paged-c', pad(1)), 'false fallthrough', 'a flag without overrides')

  // A flag loaded without overrides takes its first one by the incremental patch.
  await writer.services.subjects.setOverride(P, 'paged-c', 'user', pad(1), { enabled: true }, WRITER)
  await reader.snapshot.catchUp()
  t.equal(evaluate('paged-c', pad(1)), 'true user_override', 'the first override of a flag that had none')
  t.equal(evaluate('paged-c', pad(2)), 'false fallthrough')
})
