import { readdirSync } from 'node:fs'
import { DrizzleQueryError } from 'drizzle-orm'
import t from 'tap'
import { openPostgres } from '../../src/db/pg-client.js'
import { migratePostgres } from '../../src/db/pg-migrate.js'
import { parsePostgresUrl, withSchema } from '../../src/db/pg-url.js'
import { FlagExistsError, UnavailableError } from '../../src/errors.js'
import type { StoredFlag } from '../../src/repositories/flag-repository.js'
import { createRepositories } from '../../src/repositories/index.js'
import { isPgUnavailable } from '../../src/repositories/pg/unavailable.js'
import { run } from '../cli/support.js'
import { dropSchema, isolatedUrl, openIsolated, postgresUrlOrSkip } from '../support/postgres.js'
import { storedFlag } from '../support/stored-flag.js'

const at = new Date(1_700_000_000_000)
const flag = (name: string): StoredFlag =>
  storedFlag(name, { targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 0, rollout: null, bucket_by: 'user_id' } })
const audit = (name: string) => ({ actor: 'tester', action: 'test', names: [name], before: null, after: null })

t.test('?schema= is ours: checked, and taken off the URL node-postgres sees', async (t) => {
  t.same(parsePostgresUrl('postgres://u:p@db:5432/x?schema=flagpost&sslmode=disable'),
    { connectionString: 'postgres://u:p@db:5432/x?sslmode=disable', schema: 'flagpost' })
  t.same(parsePostgresUrl('postgresql://db/x'), { connectionString: 'postgresql://db/x', schema: undefined })
  t.throws(() => parsePostgresUrl('postgres://db/x?schema=Bad-Name'), /lower-case identifier/)
  t.throws(() => parsePostgresUrl('postgres://db/x?schema=a%22%3Bdrop'), /lower-case identifier/)
  t.equal(withSchema('postgres://db/x?schema=old', 'new'), 'postgres://db/x?schema=new')
})

t.test('the unavailable predicate: connection trouble yes, bad statements no', async (t) => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code })
  t.ok(isPgUnavailable(new DrizzleQueryError('select 1', [], pgError('57P01', 'terminating connection due to administrator command'))))
  t.ok(isPgUnavailable(new DrizzleQueryError('select 1', [], new Error('Connection terminated unexpectedly'))))
  t.ok(isPgUnavailable(new DrizzleQueryError('select 1', [], new Error('timeout exceeded when trying to connect'))))
  t.ok(isPgUnavailable(Object.assign(new AggregateError([pgError('ECONNREFUSED')]), {})), 'a refused connection to every address')
  t.ok(isPgUnavailable(pgError('08006')))
  t.notOk(isPgUnavailable(new DrizzleQueryError('insert', [], pgError('23505'))))
  t.notOk(isPgUnavailable(new DrizzleQueryError('select', [], pgError('42P01', 'relation "flags" does not exist'))))
  t.notOk(isPgUnavailable(new DrizzleQueryError('insert …', ['Connection terminated'], pgError('23505'))), 'user data in the parameters is not a symptom')
  t.notOk(isPgUnavailable('Connection terminated'))
})

t.test('a server nobody listens on answers 503, not 500', async (t) => {
  const handle = openPostgres('postgres://postgres@127.0.0.1:1/none', { connectionTimeoutMillis: 2000 })
  t.teardown(() => handle.close())
  const repos = await createRepositories(handle)
  await t.rejects(repos.flags.latestRevision(), UnavailableError)
  await t.rejects(repos.flags.create(flag('x'), audit('x')), UnavailableError)
})

const url = await postgresUrlOrSkip(t, 'Postgres client suite')
if (url !== null) {
  t.test('each ?schema= migrates on its own: tables and journal inside it, idempotent, concurrent-safe', async (t) => {
    const a = isolatedUrl(url)
    const b = isolatedUrl(url)
    const [ha, ha2, hb] = [openPostgres(a.url), openPostgres(a.url), openPostgres(b.url)]
    t.teardown(async () => {
      await Promise.all([ha.close(), ha2.close(), hb.close()])
      await Promise.all([dropSchema(url, a.schema), dropSchema(url, b.schema)])
    })
    await Promise.all([migratePostgres(ha), migratePostgres(ha2), migratePostgres(hb)])
    await migratePostgres(ha)
    const journal = await ha.pool.query(`select count(*)::int as n from "${a.schema}".__drizzle_migrations`)
    t.equal(journal.rows[0].n, readdirSync('drizzle/pg').filter((f) => f.endsWith('.sql')).length, 'each migration recorded once, in the schema itself')
    const tables = await ha.pool.query('select table_name from information_schema.tables where table_schema = $1 order by 1', [a.schema])
    t.same(tables.rows.map((r) => r.table_name), ['__drizzle_migrations', 'api_keys', 'change_log', 'customers', 'environments', 'flag_environments', 'flags', 'meta', 'overrides', 'users'])
    const ra = await createRepositories(ha)
    await ra.flags.create(flag('only-in-a'), audit('only-in-a'))
    t.equal(await ra.flags.latestRevision(), 1)
    t.equal(await (await createRepositories(hb)).flags.latestRevision(), 0, 'the other schema sees nothing')
    await t.rejects(ra.flags.create(flag('only-in-a'), audit('only-in-a')), FlagExistsError, 'a unique violation is a conflict, not an outage')
  })

  t.test('writers take turns: a revision becomes visible only after every smaller one', async (t) => {
    const handle = await openIsolated(t, url)
    const repos = await createRepositories(handle)
    // A writer that has taken its revision and is slow to commit (the trigger runs after its change-log insert).
    await handle.pool.query(`create function slow_log() returns trigger language plpgsql as $$
      begin if new.actor = 'slow' then perform pg_sleep(0.4); end if; return new; end $$;
      create trigger slow_log after insert on change_log for each row execute function slow_log()`)
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    const slow = repos.flags.create(flag('slow'), { ...audit('slow'), actor: 'slow' })
    await pause(100)
    const fast = repos.flags.create(flag('fast'), audit('fast'))
    await pause(100)
    t.equal(await repos.flags.latestRevision(), 0, 'no revision 2 is visible while revision 1 is uncommitted')
    t.same(await Promise.all([slow, fast]), [1, 2])
    t.same(await repos.flags.changesSince(0, 10), { revision: 2, environments: false, names: ['slow', 'fast'], users: [], overrides: [] })
  })

  t.test('after close: ping and every repository call fail as unavailable; closing twice is fine', async (t) => {
    const handle = await openIsolated(t, url)
    await handle.ping()
    const repos = await createRepositories(handle)
    await repos.flags.create(flag('kept'), audit('kept'))
    await handle.close()
    await handle.close()
    await t.rejects(handle.ping(), /after calling end/)
    await t.rejects(repos.flags.get('production', 'kept'), UnavailableError)
    await t.rejects(repos.subjects.addCustomer({ id: 'c', name: null, createdAt: at }, { actor: 'a', action: 'b', before: null, after: null }), UnavailableError)
    await t.rejects(repos.apiKeys.all(), UnavailableError)
  })

  t.test('a URL with a schema the server refuses to create fails the migration loudly', async (t) => {
    const handle = openPostgres(withSchema(url, 'pg_reserved'))
    t.teardown(() => handle.close())
    await t.rejects(migratePostgres(handle), /unacceptable schema name/)
  })
}

if (url !== null) {
  t.test('the flagpost binary migrates and writes to Postgres, exits (the pool is ended), and prints no password', async (t) => {
    const { url: isolated, schema } = isolatedUrl(url.replace('postgres://postgres@', 'postgres://postgres:not-needed@'))
    t.teardown(() => dropSchema(url, schema))
    for (let i = 0; i < 2; i++) {
      const res = run(['migrate'], { DATABASE_URL: isolated })
      t.equal(res.status, 0, res.stderr)
      t.match(res.stdout, /migrations applied to postgres:\/\/\*\*\*@/)
      t.notMatch(res.stdout + res.stderr, /not-needed/)
    }
    const added = run(['add-feature', 'from-cli'], { DATABASE_URL: isolated })
    t.equal(added.status, 0, added.stderr)
    const handle = openPostgres(isolated)
    t.teardown(() => handle.close())
    const repos = await createRepositories(handle)
    t.equal((await repos.flags.get('production', 'from-cli'))?.name, 'from-cli')
    t.match(await repos.flags.changesSince(0, 10), { revision: 1, environments: false, names: ['from-cli'] })
  })
}
