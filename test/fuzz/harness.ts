import type { LightMyRequestResponse } from 'fastify'
import { build, testDatabase, WRITE_KEY, type TestApp } from '../helper.js'
import { dumpDiff, openDumper, type Dump } from './db-dump.js'
import { createResponseChecker, matchOperation, operationsOf, routedPath, type Operation } from './operations.js'
import { describe, materialize, type Pools, type RequestSpec } from './requests.js'
import { injectAny } from '../support/inject-stream.js'
import { resolveRefs } from './schema-arbitrary.js'
import { seed, SEED_CUSTOMERS, SEED_FLAGS, SEED_USERS } from './seed.js'

/**
 * One fuzzed app: a fresh seeded app on its own database (a shared SQLite file, or a Postgres schema,
 * so the test can read every table), and `exchange`, which sends one generated request and returns
 * every way the response breaks the document's promises or the database's.
 */

interface TestLike { teardown (fn: () => unknown): void }

export interface Exchange {
  /** The operation the URL reached (null: no route). */
  reached: Operation | null
  request: string
  res: LightMyRequestResponse
  violations: string[]
}

const SLOW_MS = 5000

const column = (rows: string[], key: string): string[] => rows.map((r) => String(JSON.parse(r)[key]))
/** What the dump holds, by the keys seed() asks about. */
function existingIn (dump: Dump): (key: string) => boolean {
  const names = new Map(dump.flags.map((r) => { const row = JSON.parse(r); return [String(row.id), String(row.name)] }))
  const keys = new Set([
    ...column(dump.flags, 'name').map((n) => `flag:${n}`),
    ...column(dump.customers, 'id').map((id) => `customer:${id}`),
    ...column(dump.users, 'id').map((id) => `user:${id}`),
    ...dump.overrides.map((r) => { const row = JSON.parse(r); return `override:${String(row.environment)}|${names.get(String(row.flag_id)) ?? ''}|${String(row.subject)}|${String(row.subject_id)}` })
  ])
  return (key) => keys.has(key)
}
const SEEDED = {
  flags: new Set(SEED_FLAGS.map((f) => String(f.name))),
  customers: new Set(SEED_CUSTOMERS.map((c) => String(c.id))),
  users: new Set(SEED_USERS.map((u) => String(u.id)))
}
const pool = (all: string[], seeded: Set<string>): Pools['flags'] => ({ all, seeded: all.filter((name) => seeded.has(name)) })
const poolsOf = (dump: Dump): Pools => ({
  flags: pool(column(dump.flags, 'name'), SEEDED.flags),
  customers: pool(column(dump.customers, 'id'), SEEDED.customers),
  users: pool(column(dump.users, 'id'), SEEDED.users),
  // A fresh database's environments; others come and go with the requests.
  environments: pool(column(dump.environments, 'key'), new Set(['development', 'production'])),
  // Keys the requests created (the seed state has none: the fuzz authenticates with the operator keys).
  apiKeys: pool(column(dump.api_keys, 'id'), new Set())
})

/** After a 2xx write, GET of the resource returns what the write returned. */
function readBack (reached: Operation, body: any): string | null {
  if (body === null || typeof body !== 'object') return null
  if (['createFlag', 'updateFlag', 'renameFlag'].includes(reached.id)) return `/flags/${encodeURIComponent(body.name)}`
  if (reached.id === 'createCustomer') return `/customers/${encodeURIComponent(body.id)}`
  if (reached.id === 'createUser') return `/users/${encodeURIComponent(body.id)}`
  return null
}

export interface FuzzTarget {
  ctx: TestApp
  /** The operations of the document the app serves at GET /openapi.json. */
  ops: Operation[]
  /** The check of one response against that document. */
  check: ReturnType<typeof createResponseChecker>
  /** Send one generated request and check the response and the database. */
  exchange (op: Operation, spec: RequestSpec): Promise<Exchange>
  /** Valid seed writes the API refused when the app was built. */
  seedRefused: string[]
  /** Restore the seed state (what earlier requests deleted or renamed away); returns what the API refused. */
  reseed (): Promise<string[]>
}

export async function fuzzTarget (t: TestLike, env: Record<string, string> = {}): Promise<FuzzTarget> {
  const db = await testDatabase(t, { shared: true })
  const ctx = await build(t, { DATABASE_URL: db.url, AUTH_READS: 'true', ...env })
  const served = await ctx.app.inject({ url: '/openapi.json' })
  if (served.statusCode !== 200) throw new Error(`GET /openapi.json: ${served.statusCode} ${served.body}`)
  const doc = served.json()
  const ops = operationsOf(doc)
  const check = createResponseChecker(resolveRefs(doc, { $ref: '#/components/schemas/Problem' }))
  const seedRefused = await seed(ctx)
  const dumper = await openDumper(t, db)
  let last = await dumper.dump()
  return {
    ctx,
    ops,
    check,
    seedRefused,
    async reseed () {
      const refused = await seed(ctx, existingIn(last))
      last = await dumper.dump()
      return refused
    },
    async exchange (op, spec) {
      const opts = materialize(op, spec, poolsOf(last), ctx.container.snapshot.revision)
      const request = `${spec.method} ${opts.url.length > 300 ? `${opts.url.slice(0, 300)}… (${opts.url.length} chars)` : opts.url}` +
        ` [auth ${spec.auth}${Object.keys(spec.headers).length > 0 ? `, headers ${JSON.stringify(spec.headers).slice(0, 120)}` : ''}]` +
        (opts.payload === undefined ? '' : ` ${String((opts.headers as Record<string, string>)['content-type'] ?? '(no content-type)')} ${describe(Buffer.isBuffer(opts.payload) ? opts.payload : String(opts.payload)).slice(0, 400)}`) +
        ` — ${spec.mutation}`
      const started = performance.now()
      const res = await injectAny(ctx.app, opts)
      const took = performance.now() - started
      const before = last
      last = await dumper.dump()
      const reached = matchOperation(ops, spec.method, opts.url)
      const violations = check(reached, spec.method, res)
      // Generous for a loaded CI machine; a super-linear parser, regex or walk takes far longer.
      if (took > SLOW_MS) violations.push(`slow: ${took.toFixed(0)} ms (over ${SLOW_MS} ms)`)
      const changed = dumpDiff(before, last)
      if (changed !== null && res.statusCode >= 400 && res.statusCode < 500) violations.push(`4xx changed the database: ${res.statusCode}\n  ${changed}`)
      if (changed !== null && (reached === null || reached.readOnly) && res.statusCode < 400) violations.push(`read-only changed the database: ${reached?.id ?? routedPath(opts.url)}\n  ${changed}`)
      if (reached !== null && !reached.readOnly && res.statusCode >= 200 && res.statusCode < 300 && spec.method !== 'HEAD') {
        let written: unknown = null
        try { written = JSON.parse(res.body) } catch {}
        const url = readBack(reached, written)
        if (url !== null) {
          const got = await ctx.app.inject({ url, headers: { 'x-api-key': WRITE_KEY } })
          let read: unknown = null
          try { read = JSON.parse(got.body) } catch {}
          if (got.statusCode !== 200 || JSON.stringify(read) !== JSON.stringify(written)) {
            violations.push(`read-back differs: GET ${url} after ${reached.id} ${res.statusCode} does not return what was written: ${got.statusCode} ${got.body.slice(0, 300)}`)
          }
        }
      }
      return { reached, request, res, violations }
    }
  }
}
