import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openPostgres, type PgHandle } from '../../src/db/pg-client.js'
import { migratePostgres } from '../../src/db/pg-migrate.js'
import { isPostgresUrl, parsePostgresUrl, withSchema } from '../../src/db/pg-url.js'

/**
 * Postgres for tests: whether a server is there (required under CI=true, a printed skip otherwise),
 * and a private schema per test, dropped when the test ends. Tests never share tables, so files
 * run in parallel against one database.
 */

interface TestLike { teardown (fn: () => unknown): void }
interface TapLike extends TestLike {
  fail (message: string): void
  test (name: string, opts: { skip: string }, fn: () => Promise<void>): unknown
}

/** Test schemas are `ft_<seconds since epoch>_<random>`: leftovers of a killed run can be told apart by age. */
const PREFIX = 'ft_'
const STALE_SECONDS = 3600

/**
 * Run one statement on a short-lived connection (no pool left behind to hold the process open), in
 * the schema the URL names with `?schema=`, if any; returns its rows.
 */
export async function queryPostgres<T extends object = object> (url: string, statement: string, params: unknown[] = []): Promise<T[]> {
  const { connectionString, schema } = parsePostgresUrl(url)
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 3000, ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }) })
  client.on('error', () => {})
  await client.connect()
  try { return (await client.query<T & pg.QueryResultRow>(statement, params)).rows } finally { await client.end() }
}

export type PostgresProbe = { url: string, reason?: undefined } | { url: null, reason: string }
let probed: Promise<PostgresProbe> | undefined

/** Is DATABASE_URL a reachable Postgres? Asked once per process; also drops test schemas over an hour old. */
export function probePostgres (): Promise<PostgresProbe> {
  probed ??= (async () => {
    const url = process.env.DATABASE_URL
    if (url === undefined || !isPostgresUrl(url)) {
      return { url: null, reason: 'DATABASE_URL is not a postgres:// URL (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it)' }
    }
    const cutoff = Math.floor(Date.now() / 1000) - STALE_SECONDS
    try {
      await queryPostgres(url, `do $$ declare s text; begin
        for s in select nspname from pg_namespace where nspname ~ '^${PREFIX}[0-9]+_' and split_part(nspname, '_', 2)::bigint < ${cutoff}
        loop execute format('drop schema if exists %I cascade', s); end loop; end $$`)
      return { url }
    } catch (err) {
      return { url: null, reason: `Postgres at ${url.replace(/\/\/[^@/]*@/, '//***@')} is unreachable (${(err as Error).message || String(err)})` }
    }
  })()
  return probed
}

/** Under CI=true the Postgres suites must run: a missing or unreachable server is a failure there. */
export const postgresRequired = (): boolean => process.env.CI === 'true'

/**
 * The Postgres URL, or null after recording why not: a failure under CI=true, a skipped subtest
 * with the reason otherwise (a laptop without Postgres).
 */
export async function postgresUrlOrSkip (t: TapLike, suite = 'Postgres suite'): Promise<string | null> {
  const probe = await probePostgres()
  if (probe.url !== null) return probe.url
  if (postgresRequired()) t.fail(`${probe.reason}, and CI=true requires the ${suite} to run`)
  else t.test(suite, { skip: probe.reason }, async () => {})
  return null
}

/**
 * FLAGPOST_TEST_RUN (set by scripts/test.sh and scripts/test-postgres.ts) tags every schema a run
 * creates, `ft_<seconds>_<run>_<random>`, so the run can list what it left behind (leftoverSchemas)
 * even while other runs share the database.
 */
export const TEST_RUN = /^[a-z0-9]{1,16}$/
export function testRun (): string | undefined {
  const run = process.env.FLAGPOST_TEST_RUN
  return run !== undefined && TEST_RUN.test(run) ? run : undefined
}

/** A fresh schema name nobody else uses. */
export const schemaName = (): string => {
  const run = testRun()
  return `${PREFIX}${Math.floor(Date.now() / 1000)}_${run === undefined ? '' : `${run}_`}${randomBytes(6).toString('hex')}`
}

/** The test schemas of run `run` that still exist: after a run, every one is a leak. */
export async function leftoverSchemas (url: string, run: string): Promise<string[]> {
  if (!TEST_RUN.test(run)) throw new Error(`not a test run id: "${run}"`)
  const rows = await queryPostgres<{ nspname: string }>(url, 'select nspname from pg_namespace where nspname ~ $1 order by 1', [`^${PREFIX}[0-9]+_${run}_`])
  return rows.map((r) => r.nspname)
}

/** `url` pointing at a fresh schema of its own (`?schema=`; opening and migrating creates it). */
export function isolatedUrl (url: string): { url: string, schema: string } {
  const schema = schemaName()
  return { url: withSchema(url, schema), schema }
}

/** Drop a test schema and everything in it. */
export const dropSchema = async (url: string, schema: string): Promise<void> => { await queryPostgres(url, `drop schema if exists "${schema}" cascade`) }

/**
 * A migrated Postgres handle on a schema of its own; at teardown the pool is ended and the schema
 * dropped. What the repository contract suites run on.
 */
export async function openIsolated (t: TestLike, url: string): Promise<PgHandle> {
  const { url: isolated, schema } = isolatedUrl(url)
  const handle = openPostgres(isolated)
  t.teardown(async () => { await handle.close(); await dropSchema(url, schema) })
  await migratePostgres(handle)
  return handle
}
