import { copyFileSync, readFileSync } from 'node:fs'
import t from 'tap'
import { build } from '../helper.js'
import { differs, failingInOrder } from '../support/cases.js'
import { queryPostgres } from '../support/postgres.js'
import { queryRows, testDatabase } from '../support/test-database.js'

// A database made by Flagpost before environments (commit 7b8623f; scripts/make-legacy-fixture.ts wrote it
// through the HTTP API and recorded the answers), opened by the current code: it migrates on start, and
// every recorded answer must come back the same (SPEC §9: "a database from before environments migrates
// into the default environment with identical evaluations"). The SQLite pass opens a copy of
// flagpost.db; the Postgres pass restores postgres.sql (the same data, made on Postgres, which gave
// byte-identical answers) into a private schema. The fixture files are never opened in place.

interface Recorded {
  group: string
  request: { method: 'GET' | 'POST', url: string, headers?: Record<string, string>, payload?: object }
  status: number
  headers: Record<string, string>
  body: unknown
}
interface Manifest {
  revision: number
  counts: Record<'sqlite' | 'postgres', Record<string, number>>
  bootstrap_key: Record<'sqlite' | 'postgres', string>
  requests: Record<string, number>
}

const FIXTURE = new URL('../fixtures/legacy/', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURE), 'utf8')) as Manifest
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURE), 'utf8')) as Recorded[]

/** A private copy of the fixture on this pass's dialect. */
async function legacyDatabase (): Promise<Awaited<ReturnType<typeof testDatabase>>> {
  const db = await testDatabase(t, { shared: true })
  if (db.dialect === 'sqlite') {
    copyFileSync(new URL('flagpost.db', FIXTURE), db.file!)
  } else {
    // The dump names no schema: it lands in the test's own, created here (the app would create it on open).
    const dump = readFileSync(new URL('postgres.sql', FIXTURE), 'utf8')
    await queryPostgres(db.url, `create schema "${db.schema!}"; set search_path to "${db.schema!}";\n${dump}`)
  }
  return db
}
const db = await legacyDatabase()
const ctx = await build(t, { DATABASE_URL: db.url })

/**
 * The OFREP bulk ETag is opaque: its value changed since the recording (issue 17: SHA-256 of the
 * entries' digests, not of the body), its meaning did not. A recorded tag stands for the tag the same
 * answer has now, one to one: the first answer carrying it fixes the pair, every later one must agree,
 * and an `If-None-Match` of a recorded tag is sent as the tag it stands for.
 */
const bulkEtags = new Map<string, string>()
const isBulk = (url: string): boolean => url.endsWith('/ofrep/v1/evaluate/flags')
function asRecorded (recorded: string | undefined, now: string): string {
  if (recorded === undefined) return now
  const paired = bulkEtags.get(recorded)
  if (paired === undefined && ![...bulkEtags.values()].includes(now)) { bulkEtags.set(recorded, now); return recorded }
  return paired === now ? recorded : now
}

/** undefined when the request is answered as recorded (under `prefix`): status, the recorded headers (the ETag), body. */
async function replay (r: Recorded, app = ctx.app, prefix = ''): Promise<unknown> {
  const bulk = isBulk(r.request.url)
  const sent = r.request.headers?.['if-none-match']
  const requestHeaders = bulk && sent !== undefined ? { ...r.request.headers, 'if-none-match': bulkEtags.get(sent) ?? sent } : r.request.headers
  const res = await app.inject({ method: r.request.method, url: `${prefix}${r.request.url}`, headers: requestHeaders, payload: r.request.payload })
  const headers = Object.fromEntries(Object.keys(r.headers).map((h) => [h, String(res.headers[h])]))
  if (bulk && headers.etag !== undefined) headers.etag = asRecorded(r.headers.etag, headers.etag)
  const body = res.body === '' ? null : res.json()
  // Added since the recording, and not part of what is compared: where to hear of changes (SPEC §12).
  if (body !== null && typeof body === 'object' && 'eventStreams' in body) delete body.eventStreams
  // A problem's `instance` is the path asked, prefix included: the rest must be as recorded.
  if (prefix !== '' && typeof body?.instance === 'string' && body.instance.startsWith(prefix)) body.instance = body.instance.slice(prefix.length)
  const actual = { status: res.statusCode, headers, body }
  return differs(`${r.request.method} ${r.request.url} ${JSON.stringify(r.request.payload ?? '')}`, actual, { status: r.status, headers: r.headers, body: r.body })
}

const GROUPS: Record<string, string> = {
  evaluate: 'GET /evaluate/{name}: every flag (and the deleted and the renamed-away name) for each context',
  bulk: 'POST /evaluate: all flags, or the named ones, for each context',
  ofrep: 'OFREP single and bulk evaluation, with the bulk ETag and its 304',
  flags: 'GET /flags/{name} with its ETag, and the lists (all, by tag, by search, two pages)',
  overrides: 'GET /flags/{name}/overrides and /flags/{name}/customers in every state',
  customers: 'GET /customers, /customers/{id} and /customers/{id}/flags',
  users: 'GET /users and /users/{id}'
}

t.test('the fixture records every group', async (t) => {
  t.same(Object.keys(manifest.requests).sort(), Object.keys(GROUPS).sort(), 'the groups of expected.json are the tests below')
})

for (const [group, what] of Object.entries(GROUPS)) {
  t.test(`${group}: ${what}, answered as before`, async (t) => {
    const cases = expected.filter((r) => r.group === group)
    t.same(await failingInOrder(cases, (r) => replay(r)), [], `all ${manifest.requests[group]} recorded answers of ${group}`)
  })
}

/** The groups that address one environment (customers and users are global). */
const SCOPED = ['evaluate', 'bulk', 'ofrep', 'flags', 'overrides']

t.test('everything migrated into production: the same answers under /environments/production', async (t) => {
  const cases = expected.filter((r) => SCOPED.includes(r.group) && !r.request.url.startsWith('/customers'))
  t.same(await failingInOrder(cases, (r) => replay(r, ctx.app, '/environments/production')), [], `${cases.length} recorded answers, prefixed`)
})

t.test('development exists beside it, every flag served off there and no override copied', async (t) => {
  const environments = (await ctx.app.inject({ url: '/environments' })).json()
  const flags = (await ctx.app.inject({ url: '/environments/development/flags?limit=1000' })).json().flags as Array<{ name: string, enabled: boolean }>
  const production = (await ctx.app.inject({ url: '/flags?limit=1000' })).json().flags as Array<{ name: string }>
  const overrides = await Promise.all(flags.map(async (f) => (await ctx.app.inject({ url: `/environments/development/flags/${f.name}/overrides` })).json().overrides.length as number))
  t.same({
    environments: environments.environments.map((e: { key: string }) => e.key),
    default: environments.default_environment,
    names: flags.map((f) => f.name),
    enabled: flags.filter((f) => f.enabled).length,
    overrides: overrides.reduce((a, b) => a + b, 0)
  }, { environments: ['development', 'production'], default: 'production', names: production.map((f) => f.name), enabled: 0, overrides: 0 })
})

t.test('the bootstrap key is a stored admin key: listed, for every environment', async (t) => {
  const res = await ctx.app.inject({ url: '/api-keys', headers: { 'x-api-key': manifest.bootstrap_key[db.dialect] } })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json().api_keys, [{ name: 'bootstrap-admin', role: 'admin', environments: [], prefix: 'fp_', expires_at: null }])
})

t.test('with DEFAULT_ENVIRONMENT=live the migrated flags are in live, answered as before', async (t) => {
  const other = await legacyDatabase()
  const live = await build(t, { DATABASE_URL: other.url, DEFAULT_ENVIRONMENT: 'live' })
  const keys = (await live.app.inject({ url: '/environments' })).json().environments.map((e: { key: string }) => e.key)
  const cases = expected.filter((r) => r.group === 'evaluate' || r.group === 'ofrep')
  t.same({ keys, failing: await failingInOrder(cases, (r) => replay(r, live.app, '/environments/live')) }, { keys: ['development', 'live'], failing: [] },
    'production became live, once; its flags answer there as before')
})

/** The change-log revision and the row counts of the tables that must keep every row. */
async function stored (): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of ['customers', 'users', 'overrides', 'change_log']) {
    out[table] = Number((await queryRows<{ n: number | string }>(db.url, `select count(*) as n from ${table}`))[0].n)
  }
  out.revision = Number((await queryRows<{ r: number | string }>(db.url, 'select max(id) as r from change_log'))[0].r)
  return out
}

t.test('every customer, user, override and change-log row is still there', async (t) => {
  const counts = manifest.counts[db.dialect]
  const made = { customers: counts.customers, users: counts.users, overrides: counts.overrides, change_log: counts.change_log, revision: manifest.revision }
  const now = await stored()
  t.same(Object.entries(made).filter(([k, n]) => !(now[k] >= n)), [], `at least ${JSON.stringify(made)}, found ${JSON.stringify(now)}`)
})

t.test('the generated bootstrap admin key still writes, as the next revision', async (t) => {
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/flags',
    headers: { authorization: `Bearer ${manifest.bootstrap_key[db.dialect]}` },
    payload: { name: 'written-after-upgrade', type: 'boolean' }
  })
  t.same({ status: res.statusCode, revision: (await stored()).revision }, { status: 201, revision: manifest.revision + 1 },
    `POST /flags with the key generated before the upgrade: ${res.body.slice(0, 200)}`)
})
