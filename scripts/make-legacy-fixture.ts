/**
 * Makes test/fixtures/legacy/: a database written by the Flagpost of commit 7b8623f (before environments,
 * SPEC §9), frozen so that test/db/legacy-fixture.test.ts can open it with whatever code is current and
 * check that every answer is the same: "a database from before environments migrates into the default
 * environment with identical evaluations".
 *
 * It is meant to be run by that old code, from a worktree of it:
 *   git worktree add /tmp/legacy-wt 7b8623f && cd /tmp/legacy-wt && ln -s <repo>/node_modules node_modules
 *   npm run build && cp <repo>/scripts/make-legacy-fixture.ts scripts/
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx scripts/make-legacy-fixture.ts <repo>/test/fixtures/legacy
 * (run from a newer tree it would freeze that tree's database instead, which proves nothing).
 *
 * Everything it stores goes through the public HTTP API only (app.inject, and the real server process
 * for the bootstrap key), so what is frozen is what a user of that version could have made:
 *  1. `node dist/bin/server.js` (npm start) without API_KEY on the empty database: it generates the bootstrap
 *     admin key, stores its hash and prints it once; the key is read from that log line;
 *  2. flags of every type and targeting feature, customers, users, overrides, updates, a rename, a delete;
 *  3. the database is reopened and read-only requests are recorded with their answers: expected.json.
 * It does this on SQLite (flagpost.db, one file after a WAL checkpoint and VACUUM) and, when DATABASE_URL is
 * a postgres:// URL, on a schema of that database, dumped to postgres.sql with no schema named (restore it
 * with search_path set to any schema). The Postgres answers must be byte-identical to the SQLite ones, or
 * the script fails. The clock is fixed (the server process's and this one's), so every timestamp is the
 * same on both dialects and on every run; only the bootstrap keys and the deployment ids are random.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { isPostgresUrl, parsePostgresUrl, withSchema } from '../src/db/pg-url.js'
import { queryPostgres } from '../test/support/postgres.js'
import { queryRows } from '../test/support/test-database.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER = join(ROOT, 'dist/bin/server.js')
const WRITE_KEY = 'legacy-fixture-write-key-0123456789'
/** The schema the Postgres copy is made in, then dumped and dropped; the dump names no schema. */
const PG_SCHEMA = 'flagpost_legacy_fixture'
/** The fixed time of the whole fixture: the bootstrap key at T0, then one write a second. */
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0)
/** What every table holds; __drizzle_migrations is the applied-migration journal (in the schema on Postgres). */
const TABLES = ['flags', 'change_log', 'customers', 'users', 'overrides', 'api_keys', 'meta', '__drizzle_migrations']

// ---------------------------------------------------------------------------------------------- clock

/** A Date whose "now" is `clock`: set before each write, so stored times never depend on when this ran. */
let clock = T0
const RealDate = Date
class FixedDate extends RealDate {
  constructor (...args: unknown[]) {
    if (args.length === 0) super(clock)
    else super(...(args as [string | number]))
  }

  static override now (): number { return clock }
}
globalThis.Date = FixedDate as DateConstructor
/** The same for the server process, preloaded with --import (the clock stays at T0 there). */
const CHILD_CLOCK = `data:text/javascript,${encodeURIComponent(`const R = Date; const T = ${T0};
globalThis.Date = class extends R { constructor (...a) { if (a.length === 0) super(T); else super(...a) } static now () { return T } }`)}`

// ---------------------------------------------------------------------------------------------- the app

interface Open { app: FastifyInstance, close (): Promise<void> }

/** The app on `url` with the write key, as the tests build it (migrate on start; no background poll). */
async function open (url: string): Promise<Open> {
  const { loadConfig } = await import('../src/config.js')
  const { createContainer } = await import('../src/container.js')
  const { buildApp } = await import('../src/app.js')
  const container = await createContainer(loadConfig({ DATABASE_URL: url, API_KEY: WRITE_KEY, LOG_LEVEL: 'silent' }), { poll: false })
  const app = await buildApp(container)
  return { app, async close () { await app.close(); await container.close() } }
}

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** `npm start` without API_KEY on the empty database `url`: the admin key it generates and prints once. */
async function bootstrapKey (url: string): Promise<string> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`)
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', CHILD_CLOCK, SERVER], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  for (let i = 0; i < 300 && !out.includes('Server listening') && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  child.kill('SIGTERM')
  await exited
  const key = /shown only this once: (fp_[A-Za-z0-9_-]+)/.exec(out)?.[1]
  if (key === undefined) throw new Error(`the server printed no bootstrap key:\n${out}`)
  return key
}

// ---------------------------------------------------------------------------------------------- the writes

/** One write through the API at the next second of the fixed clock; anything but `status` stops the script. */
async function write (app: FastifyInstance, method: 'POST' | 'PUT' | 'DELETE', url: string, payload: unknown, status: number, headers: Record<string, string> = {}): Promise<void> {
  clock += 1000
  const res = await app.inject({ method, url, headers: { 'x-api-key': WRITE_KEY, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) })
  if (res.statusCode !== status) throw new Error(`${method} ${url}: expected ${status}, got ${res.statusCode} ${res.body}`)
}

const FLAGS: Array<Record<string, unknown>> = [
  {
    name: 'new-checkout',
    description: 'The redesigned checkout',
    type: 'boolean',
    targeting_rules: { user_ids: ['alice', 'bob'], percentage: 20 },
    tags: ['checkout', 'web'],
    metadata: { owner: 'checkout-team', ticket: 'FP-101', critical: true }
  },
  {
    name: 'banner-color',
    description: 'Three colours, rolled out by weight',
    type: 'string',
    variants: { blue: '#00f', green: '#0f0', red: '#f00' },
    default_variant: 'blue',
    off_variant: 'red',
    targeting_rules: { rollout: { blue: 50, green: 30, red: 20 } },
    tags: ['web', 'experiment'],
    metadata: { owner: 'growth', weight_version: 2 }
  },
  {
    name: 'max-items',
    type: 'number',
    variants: { low: 10, mid: 25, high: 100 },
    default_variant: 'mid',
    off_variant: 'low',
    targeting_rules: {
      rules: [
        { id: 'paying', description: 'Paid plans', clauses: [{ attribute: 'plan', operator: 'in', values: ['pro', 'enterprise'] }], serve: { variant: 'high' } },
        { id: 'big-teams', clauses: [{ attribute: 'seats', operator: 'gt', values: [50] }], serve: { variant: 'high' } }
      ],
      percentage: 100
    },
    tags: ['limits']
  },
  {
    name: 'ui-config',
    description: 'Layout settings as JSON',
    type: 'json',
    default_value: { theme: 'dark', columns: 3, beta: true },
    off_value: { theme: 'light', columns: 1 },
    targeting_rules: {
      rules: [{ id: 'staff', clauses: [{ attribute: 'email', operator: 'matches', values: ['@example\\.com$'], case_insensitive: true }], serve: { variant: 'on' } }]
    },
    metadata: { owner: 'design' }
  },
  {
    name: 'eu-beta',
    description: 'EU beta on recent apps',
    type: 'boolean',
    targeting_rules: {
      rules: [{
        id: 'eu-recent',
        clauses: [
          { attribute: 'country', operator: 'in', values: ['DE', 'FR'] },
          { attribute: 'app_version', operator: 'semver_gte', values: ['2.3.0'] }
        ],
        serve: { variant: 'on' }
      }]
    },
    tags: ['beta']
  },
  {
    name: 'legacy-export',
    description: 'Switched off: overrides and targeting must not matter',
    type: 'boolean',
    enabled: false,
    targeting_rules: { user_ids: ['carol'], percentage: 100 },
    tags: ['deprecated']
  },
  {
    name: 'team-dashboard',
    type: 'boolean',
    targeting_rules: { customer_ids: ['acme', 42], percentage: 50, bucket_by: 'customer_id' },
    tags: ['b2b'],
    metadata: { owner: 'b2b-team' }
  },
  {
    name: 'time-window',
    description: 'Rules on fixed dates and on the evaluation time',
    type: 'string',
    variants: { early: 'early-bird', late: 'late-comer', never: 'never' },
    default_variant: 'late',
    off_variant: 'never',
    targeting_rules: {
      rules: [
        { id: 'early-signup', clauses: [{ attribute: 'signup', operator: 'before', values: ['2020-01-01T00:00:00Z'] }], serve: { variant: 'early' } },
        { id: 'far-future', clauses: [{ attribute: 'now', operator: 'after', values: ['2999-01-01T00:00:00Z'] }], serve: { variant: 'never' } },
        { id: 'this-era', clauses: [{ attribute: 'now', operator: 'after', values: ['2001-01-01T00:00:00Z'] }, { attribute: 'now', operator: 'before', values: [32503680000000] }], serve: { variant: 'late' } }
      ],
      percentage: 0
    }
  },
  {
    name: 'search-experiment',
    description: 'Renamed to search-v2: its bucketing seed stays search-experiment',
    type: 'boolean',
    targeting_rules: { percentage: 42.5 },
    tags: ['search']
  },
  {
    name: 'price-multiplier',
    type: 'number',
    default_value: 1.5,
    off_value: 1,
    targeting_rules: {
      rules: [{
        id: 'enterprise-abroad',
        clauses: [
          { attribute: 'country', operator: 'not_in', values: ['US'] },
          { attribute: 'plan', operator: 'starts_with', values: ['ENT'], case_insensitive: true }
        ],
        serve: { rollout: { on: 70, off: 30 } }
      }]
    },
    metadata: { currency: 'EUR' }
  },
  {
    name: 'onboarding-flow',
    description: 'Per-customer variants through overrides',
    type: 'string',
    variants: { classic: 'classic', guided: 'guided', video: 'video' },
    default_variant: 'guided',
    off_variant: 'classic',
    targeting_rules: { percentage: 37.5 },
    bucketing_seed: 'onboarding-2025'
  },
  {
    name: 'mobile-nav',
    type: 'boolean',
    targeting_rules: {
      rules: [
        { id: 'old-apps', clauses: [{ attribute: 'app_version', operator: 'semver_lt', values: ['2.0.0'] }], serve: { variant: 'off' } },
        { id: 'ios', clauses: [{ attribute: 'platform', operator: 'eq', values: ['ios'], case_insensitive: true }], serve: { variant: 'on' } },
        { id: 'testers', clauses: [{ attribute: 'beta', operator: 'exists' }], serve: { variant: 'on' } }
      ],
      percentage: 100
    }
  },
  { name: 'beta-api', type: 'boolean', description: 'No targeting: on for everyone' },
  { name: 'to-delete', type: 'boolean', targeting_rules: { user_ids: ['alice'] }, description: 'Deleted, with its override' }
]

async function writeEverything (app: FastifyInstance): Promise<void> {
  for (const flag of FLAGS) await write(app, 'POST', '/flags', flag, 201)

  for (const customer of [{ id: 'acme', name: 'Acme Corp' }, { id: 'globex', name: 'Globex' }, { id: 'initech' }, { id: 42, name: 'Forty-Two Ltd' }, { id: 'umbrella', name: 'Umbrella' }]) {
    await write(app, 'POST', '/customers', customer, 201)
  }
  for (const user of [{ id: 'alice', customer_id: 'acme' }, { id: 'bob', customer_id: 'globex' }, { id: 'carol' }, { id: 'dave', customer_id: 'acme' },
    { id: 'erin', customer_id: 'initech' }, { id: 'frank' }, { id: 7, customer_id: 42 }, { id: 'ivan', customer_id: 'umbrella' }]) {
    await write(app, 'POST', '/users', user, 201)
  }

  // Updates: versions above 1, an If-Match, merge patches of nested objects.
  await write(app, 'PUT', '/flags/new-checkout', { targeting_rules: { percentage: 37.5 } }, 200, { 'if-match': '"1"' })
  await write(app, 'PUT', '/flags/new-checkout', { metadata: { ticket: 'FP-102', critical: null } }, 200)
  await write(app, 'PUT', '/flags/beta-api', { description: 'Public beta API', tags: ['api', 'beta'] }, 200)
  await write(app, 'PUT', '/flags/banner-color', { targeting_rules: { rollout: { red: null, green: 50 } } }, 200)
  await write(app, 'PUT', '/flags/eu-beta', { enabled: false }, 200)
  await write(app, 'PUT', '/flags/eu-beta', { enabled: true, metadata: { owner: 'eu-team' } }, 200)
  await write(app, 'PUT', '/flags/mobile-nav', { targeting_rules: { percentage: 60 } }, 200)

  // Overrides: enabled, disabled, with a variant; unknown subjects get registered; one cleared.
  const override = async (flag: string, kind: 'customers' | 'users', id: string, body: unknown): Promise<void> =>
    write(app, 'PUT', `/flags/${flag}/overrides/${kind}/${id}`, body, 200)
  await override('new-checkout', 'customers', 'acme', { enabled: true })
  await override('new-checkout', 'customers', 'globex', { enabled: false })
  await override('new-checkout', 'users', 'dave', { enabled: true })
  await override('new-checkout', 'users', 'alice', { enabled: false })
  await override('onboarding-flow', 'customers', 'acme', { enabled: true, variant: 'video' })
  await override('onboarding-flow', 'customers', 'initech', { enabled: false })
  await override('onboarding-flow', 'users', 'erin', { enabled: true, variant: 'classic' })
  await override('banner-color', 'users', 'frank', { enabled: true, variant: 'green' })
  await override('banner-color', 'customers', 'hooli', { enabled: false })
  await override('legacy-export', 'users', 'carol', { enabled: true })
  await override('max-items', 'customers', 'globex', { enabled: true, variant: 'high' })
  await override('max-items', 'customers', '42', { enabled: true })
  await override('max-items', 'users', 'gina', { enabled: false })
  await override('team-dashboard', 'customers', 'umbrella', { enabled: true })
  await override('team-dashboard', 'customers', 'globex', { enabled: false })
  await override('search-experiment', 'customers', 'acme', { enabled: true })
  await override('search-experiment', 'users', 'bob', { enabled: false })
  await override('to-delete', 'users', 'alice', { enabled: true })
  await override('ui-config', 'users', 'ivan', { enabled: true })
  await write(app, 'DELETE', '/flags/max-items/overrides/customers/globex', undefined, 204)

  // A rename (overrides and the bucketing seed follow) and a delete (its override goes with it).
  await write(app, 'POST', '/flags/search-experiment/rename', { new_name: 'search-v2' }, 200)
  await write(app, 'DELETE', '/flags/to-delete', undefined, 204)
}

// ---------------------------------------------------------------------------------------------- the reads

export interface Recorded {
  group: 'evaluate' | 'bulk' | 'ofrep' | 'flags' | 'overrides' | 'customers' | 'users'
  request: { method: 'GET' | 'POST', url: string, headers?: Record<string, string>, payload?: unknown }
  status: number
  /** The response headers that must not change (the ETag where there is one). */
  headers: Record<string, string>
  body: unknown
}

/** The flags there are at the end (by creation), and names that are gone: the deleted flag and the old name. */
const FLAG_NAMES = [...FLAGS.map((f) => String(f.name)).filter((n) => n !== 'search-experiment' && n !== 'to-delete'), 'search-v2']
const GONE = ['to-delete', 'search-experiment']
/** Contexts as query strings (every value a string) and as JSON (numbers where they are numbers). */
const CONTEXTS: Array<Record<string, string | number | boolean>> = [
  {},
  { user_id: 'alice' }, // registered with acme: the customer is inferred; a user override beats user_ids
  { user_id: 'bob' }, // in user_ids, customer globex (explicitly off on new-checkout)
  { user_id: 'carol' },
  { user_id: 'dave', country: 'DE', app_version: '2.4.1' },
  { user_id: 'erin', plan: 'enterprise', country: 'FR', app_version: '2.2.9' },
  { customer_id: 'globex' },
  { customer_id: 'acme', user_id: 'zed' },
  { user_id: 'frank', email: 'Frank@Example.COM', platform: 'IOS', app_version: '1.9.0' },
  { user_id: 'gina', seats: 120, signup: '2019-05-01T00:00:00Z', beta: true },
  { user_id: 'u-123', plan: 'pro', country: 'US', app_version: '3.0.0', platform: 'iOS', signup: '2024-02-02' },
  { user_id: '7' }, // registered with customer 42
  { customer_id: 'umbrella', user_id: 'ivan' },
  { customer_id: 'initech', country: 'NL', plan: 'Enterprise' }
]
/** Many plain users, to pin the rollout buckets. */
const CROWD = Array.from({ length: 24 }, (_, i) => ({ user_id: `user-${i}`, customer_id: `cust-${i % 6}` }))

const query = (ctx: Record<string, unknown>): string => {
  const q = new URLSearchParams(Object.entries(ctx).map(([k, v]): [string, string] => [k, String(v)])).toString()
  return q === '' ? '' : `?${q}`
}
const ofrepContext = (ctx: Record<string, unknown>): Record<string, unknown> => {
  const { user_id: userId, ...rest } = ctx
  return userId === undefined ? rest : { targetingKey: userId, ...rest }
}

async function recordReads (app: FastifyInstance): Promise<Recorded[]> {
  const out: Recorded[] = []
  const record = async (group: Recorded['group'], request: Recorded['request']): Promise<Recorded> => {
    const res = await app.inject({ method: request.method, url: request.url, ...(request.headers === undefined ? {} : { headers: request.headers }), ...(request.payload === undefined ? {} : { payload: request.payload as object }) })
    const etag = res.headers.etag
    const entry: Recorded = { group, request, status: res.statusCode, headers: etag === undefined ? {} : { etag: String(etag) }, body: res.body === '' ? null : res.json() }
    out.push(entry)
    return entry
  }

  for (const name of [...FLAG_NAMES, ...GONE]) {
    for (const ctx of [...CONTEXTS, ...CROWD.slice(0, 4)]) await record('evaluate', { method: 'GET', url: `/evaluate/${name}${query(ctx)}` })
  }

  for (const ctx of [...CONTEXTS, ...CROWD]) await record('bulk', { method: 'POST', url: '/evaluate', payload: { context: ctx } })
  await record('bulk', { method: 'POST', url: '/evaluate', payload: { context: CONTEXTS[1], flags: ['new-checkout', 'search-v2', 'to-delete', 'ui-config'] } })

  for (const ctx of CONTEXTS) {
    for (const name of ['new-checkout', 'banner-color', 'ui-config', 'max-items', 'search-v2', 'legacy-export', 'to-delete']) {
      await record('ofrep', { method: 'POST', url: `/ofrep/v1/evaluate/flags/${name}`, payload: { context: ofrepContext(ctx) } })
    }
    const bulk = await record('ofrep', { method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: ofrepContext(ctx) } })
    if (bulk.headers.etag !== undefined) {
      await record('ofrep', { method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { 'if-none-match': bulk.headers.etag }, payload: { context: ofrepContext(ctx) } })
    }
  }

  for (const name of [...FLAG_NAMES, ...GONE]) await record('flags', { method: 'GET', url: `/flags/${name}` })
  await record('flags', { method: 'GET', url: '/flags' })
  await record('flags', { method: 'GET', url: '/flags?tag=web' })
  await record('flags', { method: 'GET', url: '/flags?q=rename' })
  const page = await record('flags', { method: 'GET', url: '/flags?limit=5' })
  const cursor = (page.body as { next_cursor: string | null }).next_cursor
  if (cursor !== null) await record('flags', { method: 'GET', url: `/flags?limit=5&cursor=${encodeURIComponent(cursor)}` })

  for (const name of [...FLAG_NAMES, ...GONE]) {
    await record('overrides', { method: 'GET', url: `/flags/${name}/overrides` })
    for (const state of ['enabled', 'explicitly_enabled', 'explicitly_disabled']) await record('overrides', { method: 'GET', url: `/flags/${name}/customers?state=${state}` })
  }
  await record('overrides', { method: 'GET', url: '/flags/new-checkout/overrides?subject=user' })
  await record('overrides', { method: 'GET', url: '/flags/new-checkout/overrides?state=disabled' })
  await record('overrides', { method: 'GET', url: '/flags/new-checkout/customers' })

  await record('customers', { method: 'GET', url: '/customers' })
  await record('customers', { method: 'GET', url: '/customers?limit=2' })
  for (const id of ['acme', 'globex', 'initech', '42', 'umbrella', 'hooli', 'nobody']) {
    await record('customers', { method: 'GET', url: `/customers/${id}` })
    await record('customers', { method: 'GET', url: `/customers/${id}/flags` })
  }

  await record('users', { method: 'GET', url: '/users' })
  await record('users', { method: 'GET', url: '/users?customer_id=acme' })
  for (const id of ['alice', 'gina', '7', 'nobody']) await record('users', { method: 'GET', url: `/users/${id}` })
  return out
}

// ---------------------------------------------------------------------------------------------- one database

interface Made { bootstrapKey: string, records: Recorded[], raw: string[], revision: number, counts: Record<string, number> }

async function make (url: string): Promise<Made> {
  clock = T0
  const key = await bootstrapKey(url)
  const writer = await open(url)
  try {
    await writeEverything(writer.app)
    // The bootstrap key writes too (its change-log actor is key:bootstrap-admin); the flag is gone again.
    await write(writer.app, 'POST', '/flags', { name: 'probe', description: 'written with the bootstrap key' }, 201, { 'x-api-key': key })
    await write(writer.app, 'DELETE', '/flags/probe', undefined, 204, { 'x-api-key': key })
  } finally { await writer.close() }
  // Read back from a container opened afresh: what is stored, not what the writer held in memory.
  const reader = await open(url)
  let records: Recorded[]
  const raw: string[] = []
  try {
    records = await recordReads(reader.app)
    // The exact bytes, to compare the dialects.
    for (const r of records) {
      const res = await reader.app.inject({ method: r.request.method, url: r.request.url, ...(r.request.headers === undefined ? {} : { headers: r.request.headers }), ...(r.request.payload === undefined ? {} : { payload: r.request.payload as object }) })
      raw.push(`${res.statusCode} ${String(res.headers.etag ?? '')} ${res.body}`)
    }
  } finally { await reader.close() }
  const counts: Record<string, number> = {}
  for (const table of TABLES) counts[table] = Number((await queryRows<{ n: number | string }>(url, `select count(*) as n from ${table}`))[0].n)
  const revision = Number((await queryRows<{ r: number | string }>(url, 'select max(id) as r from change_log'))[0].r)
  if (revision !== counts.change_log) throw new Error(`revision ${revision} is not the number of change-log rows ${counts.change_log}`)
  return { bootstrapKey: key, records, raw, revision, counts }
}

// ---------------------------------------------------------------------------------------------- main

const outDir = resolve(process.argv[2] ?? join(ROOT, 'test/fixtures/legacy'))
mkdirSync(outDir, { recursive: true })
const dbFile = join(outDir, 'flagpost.db')
for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true })

const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
process.stdout.write(`making the legacy fixture with the code of ${commit} into ${outDir}\n`)

const sqlite = await make(`file:${dbFile}`)
{
  const db = new Database(dbFile)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.pragma('journal_mode = DELETE')
  db.exec('VACUUM')
  db.close()
}
for (const f of [`${dbFile}-wal`, `${dbFile}-shm`]) if (existsSync(f)) throw new Error(`${f} is left: the fixture must be one file`)
process.stdout.write(`SQLite: ${sqlite.records.length} answers recorded, revision ${sqlite.revision}, ${statSync(dbFile).size} bytes\n`)

let postgres: Made | undefined
const base = process.env.DATABASE_URL
if (base !== undefined && isPostgresUrl(base)) {
  const { connectionString } = parsePostgresUrl(base)
  await queryPostgres(connectionString, `drop schema if exists "${PG_SCHEMA}" cascade`)
  try {
    postgres = await make(withSchema(connectionString, PG_SCHEMA))
    const differing = sqlite.raw.flatMap((answer, i) => answer === postgres!.raw[i] ? [] : [{ request: sqlite.records[i].request, sqlite: answer.slice(0, 400), postgres: postgres!.raw[i].slice(0, 400) }])
    if (differing.length > 0) throw new Error(`Postgres answers ${differing.length} requests differently:\n${JSON.stringify(differing.slice(0, 5), null, 2)}`)
    for (const table of TABLES) {
      if (table !== '__drizzle_migrations' && postgres.counts[table] !== sqlite.counts[table]) throw new Error(`${table}: ${postgres.counts[table]} rows on Postgres, ${sqlite.counts[table]} on SQLite`)
    }
    const dump = spawnSync('pg_dump', ['--no-owner', '--no-privileges', '--column-inserts', '--no-comments', `--schema=${PG_SCHEMA}`, connectionString], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    if (dump.status !== 0) throw new Error(`pg_dump failed: ${dump.stderr}`)
    writeFileSync(join(outDir, 'postgres.sql'), anySchema(dump.stdout))
    process.stdout.write(`Postgres: the same ${postgres.records.length} answers byte for byte, revision ${postgres.revision}\n`)
  } finally {
    await queryPostgres(connectionString, `drop schema if exists "${PG_SCHEMA}" cascade`)
  }
} else {
  process.stdout.write('DATABASE_URL is not a postgres:// URL: postgres.sql not made\n')
}

/**
 * The dump, restorable into any schema: no CREATE SCHEMA, no search_path reset, no schema-qualified
 * name (pg_dump writes `flagpost_legacy_fixture.flags`), no comments (they name the schema), and no
 * psql-only meta-command, so that it can be sent as one query after `SET search_path TO <schema>`.
 */
function anySchema (sql: string): string {
  const lines = sql.split('\n')
    .filter((l) => !l.startsWith('--') && !l.startsWith('\\'))
    .filter((l) => l !== `CREATE SCHEMA ${PG_SCHEMA};` && !l.startsWith("SELECT pg_catalog.set_config('search_path'") && !l.startsWith('SET transaction_timeout'))
    .map((l) => l.split(`${PG_SCHEMA}.`).join(''))
  const body = lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()
  if (body.includes(PG_SCHEMA)) throw new Error(`the dump still names ${PG_SCHEMA}`)
  return `-- Flagpost before environments (${commit}), made by scripts/make-legacy-fixture.ts: pg_dump of one schema with\n` +
    '-- the schema name removed. Restore it with search_path set to an empty schema: SET search_path TO "<schema>";\n\n' +
    `${body}\n`
}

const manifest = {
  about: 'A database written by Flagpost before environments (SPEC §9), made by scripts/make-legacy-fixture.ts through the HTTP API; test/db/legacy-fixture.test.ts opens it with the current code and replays expected.json',
  made_by_commit: commit,
  clock: { first_write: new RealDate(T0).toISOString(), step_ms: 1000 },
  flags: FLAG_NAMES,
  gone_flags: GONE,
  renamed_flags: { 'search-experiment': 'search-v2' },
  revision: sqlite.revision,
  counts: { sqlite: sqlite.counts, ...(postgres === undefined ? {} : { postgres: postgres.counts }) },
  bootstrap_key: { sqlite: sqlite.bootstrapKey, ...(postgres === undefined ? {} : { postgres: postgres.bootstrapKey }) },
  requests: Object.fromEntries([...new Set(sqlite.records.map((r) => r.group))].map((g) => [g, sqlite.records.filter((r) => r.group === g).length]))
}
writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
// One answer a line: small, and a diff shows which answers changed.
writeFileSync(join(outDir, 'expected.json'), `[\n${sqlite.records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`)
process.stdout.write(`wrote ${outDir}/manifest.json and expected.json\n`)
