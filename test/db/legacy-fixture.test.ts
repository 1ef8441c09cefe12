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

const db = await testDatabase(t, { shared: true })
if (db.dialect === 'sqlite') {
  copyFileSync(new URL('flagpost.db', FIXTURE), db.file!)
} else {
  // The dump names no schema: it lands in the test's own, created here (the app would create it on open).
  const dump = readFileSync(new URL('postgres.sql', FIXTURE), 'utf8')
  await queryPostgres(db.url, `create schema "${db.schema!}"; set search_path to "${db.schema!}";\n${dump}`)
}
const ctx = await build(t, { DATABASE_URL: db.url })

/** undefined when the request is answered as recorded: status, the recorded headers (the ETag), body. */
async function replay (r: Recorded): Promise<unknown> {
  const res = await ctx.app.inject({ method: r.request.method, url: r.request.url, headers: r.request.headers, payload: r.request.payload })
  const headers = Object.fromEntries(Object.keys(r.headers).map((h) => [h, String(res.headers[h])]))
  const actual = { status: res.statusCode, headers, body: res.body === '' ? null : res.json() }
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
    t.same(await failingInOrder(cases, replay), [], `all ${manifest.requests[group]} recorded answers of ${group}`)
  })
}

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
