import t from 'tap'
import fc from 'fast-check'
import { testDialect } from '../helper.js'
import { fuzzTarget, type Exchange } from './harness.js'
import type { Operation, Reply } from './operations.js'
import { requestArbitrary } from './requests.js'
import { SEED_HINTS } from './seed.js'

/**
 * Property-based fuzz of every operation in GET /openapi.json (issue 11). For each operation, requests
 * are generated from its parameter and body schemas, valid and near-valid (one field hostile: wrong
 * type, 1e309, -0, NUL, lone surrogates, deep nesting, bad percent-encoding…), against a seeded app with
 * AUTH_READS on and mostly a write key. Every response must be:
 *   - never 5xx;
 *   - a status the document lists for the operation the URL reaches, with a documented media type and
 *     a body valid against the documented schema (unrouted URLs: a 404 problem, or 405 with Allow);
 *   - for a 4xx, and for any read-only operation, without any change to any table;
 *   - for a 2xx create/update/rename, what a GET returns afterwards.
 * Deterministic: FLAGPOST_FUZZ_SEED (default below) and FLAGPOST_FUZZ_RUNS (runs per operation) replay
 * or widen a run; fast-check prints the seed, path and shrunk counterexample of a failure.
 * FLAGPOST_FUZZ_SURVEY=1 records every failing request instead of stopping at the first per operation,
 * and prints one example per class: how to list what is broken at once.
 */

const SEED = Number(process.env.FLAGPOST_FUZZ_SEED ?? 20_110)
// ~8 000 requests: about 30 s on SQLite and 45 s on Postgres on an idle 2-core machine.
const RUNS = Number(process.env.FLAGPOST_FUZZ_RUNS ?? 250)
const SEQUENCES = Math.max(1, Math.round(RUNS / 4))
/**
 * Runs of an operation's copy under /environments/{environment}: the same handler as its unprefixed twin
 * (which gets RUNS), so fewer suffice for what the prefix adds (the environment parameter, its 404).
 */
const PREFIXED_RUNS = Math.max(1, Math.round(RUNS / 2.5))
const SURVEY = process.env.FLAGPOST_FUZZ_SURVEY === '1'

const stats = { requests: 0, statuses: new Map<string, number>(), reached: new Set<string>() }
/** One example per failure class: operation, status, code and the first violation's kind. */
const failures = new Map<string, { count: number, example: string }>()

function account (op: Operation, ex: Exchange): void {
  stats.requests++
  stats.reached.add(ex.reached?.id ?? '(no route)')
  const key = `${op.id} ${ex.res.statusCode}`
  stats.statuses.set(key, (stats.statuses.get(key) ?? 0) + 1)
  if (ex.violations.length === 0) return
  let code = ''
  try { code = String(JSON.parse(ex.res.body).code ?? JSON.parse(ex.res.body).errorCode ?? '') } catch {}
  const kind = ex.violations[0].split(':')[0]
  const cls = `${ex.reached?.id ?? '(no route)'} → ${ex.res.statusCode} ${code} ${kind}`.replace(/\s+/g, ' ')
  const seen = failures.get(cls)
  if (seen !== undefined) { seen.count++; return }
  failures.set(cls, { count: 1, example: report(ex) })
}

/** fast-check's report (seed, path, shrunk counterexample) and the failing request and response in full. */
const failureMessage = <T extends unknown[]>(result: fc.RunDetails<T>): string =>
  `${fc.defaultReportMessage(result) ?? 'failed'}\n${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)}`

const report = (ex: Exchange): string =>
  `${ex.request}\n→ ${ex.res.statusCode} ${String(ex.res.headers['content-type'] ?? '')} ${ex.res.body.slice(0, 300)}\n- ${ex.violations.join('\n- ')}`

// 55 operations (the environment-scoped ones twice: unprefixed and under /environments/{environment}) take
// longer than the 300 s .taprc gives a file on a loaded 2-core machine: this file says how long it may take.
t.setTimeout(900_000)

t.test('every operation of the OpenAPI document holds its promises under valid and near-valid requests', async (t) => {
  // One app for every operation (an app costs a second to compile its schemas), reseeded before each.
  const target = await fuzzTarget(t)
  const ops = target.ops
  t.ok(ops.length >= 20, `${ops.length} operations in the document`)

  // The properties can fail: each check flags what it exists to flag.
  await t.test('the checks catch what they look for', async (t) => {
    const check = target.check
    const op = (id: string): Operation => ops.find((o) => o.id === id)!
    const reply = (statusCode: number, contentType: string, body: unknown): Reply =>
      ({ statusCode, headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    const problem = { type: 'x', title: 'x', status: 404, detail: 'x', code: 'X', instance: '/flags/x' }
    const kinds = (problems: string[]): string[] => problems.map((p) => p.split(':')[0])
    t.same(kinds(check(op('getFlag'), 'GET', reply(404, 'application/problem+json', problem))), [], 'a documented 404 passes')
    // getFlag documents its 500 (a stored flag it cannot serve); listing leaves such flags out and documents none.
    t.same(kinds(check(op('listFlags'), 'GET', reply(500, 'application/problem+json', { ...problem, status: 500 }))), ['5xx', 'undocumented status'])
    t.same(kinds(check(op('getFlag'), 'GET', reply(500, 'application/problem+json', { ...problem, status: 500 }))), ['5xx'], 'a documented 5xx is still a failure')
    t.same(kinds(check(op('getFlag'), 'GET', reply(418, 'application/problem+json', { ...problem, status: 418 }))), ['undocumented status'])
    t.same(kinds(check(op('getFlag'), 'GET', reply(404, 'application/json', problem))), ['undocumented content-type'])
    t.same(kinds(check(op('getFlag'), 'GET', reply(404, 'application/problem+json', { ...problem, code: undefined }))), ['schema'])
    t.same(kinds(check(op('getFlag'), 'GET', reply(404, 'application/problem+json', { ...problem, status: 400 }))), ['problem status'])
    t.same(kinds(check(op('deleteFlag'), 'DELETE', reply(204, 'application/json', '{}'))), ['unexpected body'])
    t.same(kinds(check(null, 'GET', reply(400, 'application/problem+json', { ...problem, status: 400 }))), ['undocumented status'], 'unrouted: 404 or 405 only')
    t.same(kinds(check(null, 'PUT', reply(405, 'application/problem+json', { ...problem, status: 405 }))), ['405 without Allow'], 'a 405 names the methods')
    // A write the request did not make is seen by the next dump, whatever made it.
    await target.ctx.write({ method: 'POST', url: '/customers', payload: { id: 'written-behind-the-fuzz' } })
    const refused = await target.exchange(op('getCustomer'), { method: 'GET', path: { id: { raw: 'nobody' } }, query: [], headers: {}, auth: 'write', mutation: 'self-test' })
    t.equal(refused.res.statusCode, 404)
    t.match(refused.violations, [/^4xx changed the database: 404\n[\s\S]*customers: -0 \+1/])
    await target.ctx.write({ method: 'DELETE', url: '/customers/written-behind-the-fuzz' })
    const read = await target.exchange(op('healthz'), { method: 'GET', path: {}, query: [], headers: {}, auth: 'none', mutation: 'self-test' })
    t.match(read.violations, [/^read-only changed the database: healthz/])
  })
  t.same(target.seedRefused, [], 'the API accepts the seed state (valid flags, customers, users, overrides)')

  for (const [index, op] of ops.entries()) {
    await t.test(`${op.method.toUpperCase()} ${op.path} (${op.id})`, async (t) => {
      const property = fc.asyncProperty(fc.limitShrink(requestArbitrary(op, { hints: SEED_HINTS }), 60), async (spec) => {
        const ex = await target.exchange(op, spec)
        account(op, ex)
        if (ex.violations.length > 0 && !SURVEY) throw new Error(report(ex))
      })
      t.same(await target.reseed(), [], 'the API accepts the seed state again')
      const result = await fc.check(property, { seed: SEED + index, numRuns: op.id.endsWith('InEnvironment') ? PREFIXED_RUNS : RUNS })
      t.notOk(result.failed, result.failed ? failureMessage(result) : `${result.numRuns} requests`)
    })
  }

  // State across operations: a random sequence of requests to any operation on one app (renames,
  // deletes and overrides interleaved), each checked as above.
  await t.test('sequences of requests across operations', async (t) => {
    t.same(await target.reseed(), [], 'the API accepts the seed state again')
    const anyRequest = fc.oneof(...ops.map((op) => requestArbitrary(op, { hints: SEED_HINTS }).map((spec) => ({ op, spec }))))
    const property = fc.asyncProperty(fc.limitShrink(fc.array(anyRequest, { minLength: 1, maxLength: 12 }), 40), async (steps) => {
      for (const { op, spec } of steps) {
        const ex = await target.exchange(op, spec)
        account(op, ex)
        if (ex.violations.length > 0 && !SURVEY) throw new Error(`step ${steps.indexOf(steps.find((s) => s.spec === spec)!) + 1} of ${steps.length}: ${report(ex)}`)
      }
    })
    const result = await fc.check(property, { seed: SEED - 1, numRuns: SEQUENCES })
    t.notOk(result.failed, result.failed ? failureMessage(result) : `${result.numRuns} sequences`)
  })

  const documented = ops.map((op) => op.id)
  t.same(documented.filter((id) => !stats.reached.has(id)), [], 'every operation was reached by some request')
  // A route that refuses everything passes every property above: some generated request must succeed.
  const succeeded = new Set([...stats.statuses.keys()].filter((key) => /^\S+ 2\d\d$/.test(key)).map((key) => key.split(' ')[0]))
  t.same(documented.filter((id) => !succeeded.has(id)), [], 'every operation answered 2xx to some generated request')
  t.comment(`fuzz: ${stats.requests} requests, ${documented.length} operations (${stats.reached.size - (stats.reached.has('(no route)') ? 1 : 0)} reached), ` +
    `${RUNS} runs per operation (${PREFIXED_RUNS} for the copies under /environments/{environment}) and ${SEQUENCES} sequences, seed ${SEED}, ${testDialect()}`)
  if (failures.size > 0) {
    t.comment(`${failures.size} failure classes:\n${[...failures].map(([cls, f]) => `## ${cls} (${f.count}×)\n${f.example}`).join('\n\n')}`)
  }
  if (SURVEY) {
    const byOp = new Map<string, string[]>()
    for (const [key, n] of [...stats.statuses].sort()) {
      const [id, status] = key.split(' ')
      byOp.set(id, [...(byOp.get(id) ?? []), `${status}×${n}`])
    }
    t.comment(`statuses by operation:\n${[...byOp].map(([id, counts]) => `${id}: ${counts.join(' ')}`).join('\n')}`)
    t.equal(failures.size, 0, 'no failure class (survey mode)')
  }
})
