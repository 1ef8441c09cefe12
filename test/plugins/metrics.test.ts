import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { createContainer } from '../../src/container.js'
import { createRequestMetrics } from '../../src/metrics/request-metrics.js'
import { build, createFlag, isProblem, READ_KEY, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { redisUrlOrSkip } from '../support/redis.js'

interface Sample { name: string, labels: Record<string, string>, value: number }

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)/y

/** The samples of a Prometheus text exposition; throws on a line that is not one, or a sample of no declared family. */
function parse (text: string): Sample[] {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type !== null) { types.set(type[1], type[2]); continue }
    if (line === '' || line.startsWith('# HELP ')) continue
    const match = LINE.exec(line)
    if (match === null) throw new Error(`not an exposition line: ${JSON.stringify(line)}`)
    const labels: Record<string, string> = {}
    const body = match[2] ?? ''
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body)
      if (label === null) throw new Error(`bad labels: ${JSON.stringify(line)}`)
      labels[label[1]] = label[2]
    }
    const family = match[1].replace(/_(bucket|sum|count)$/, '')
    if (!types.has(match[1]) && types.get(family) !== 'histogram') throw new Error(`no # TYPE for ${match[1]}`)
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return samples
}

async function scrape (t: Test, ctx: TestApp, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await ctx.app.inject({ url: '/metrics', headers })
  t.equal(res.statusCode, 200, res.statusCode === 200 ? 'GET /metrics' : `GET /metrics: ${res.body}`)
  return parse(res.body)
}

const named = (samples: Sample[], name: string): Sample[] => samples.filter((s) => s.name === name)
/** The value of the one sample with exactly these labels. */
function valueOf (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const key = JSON.stringify(Object.entries(labels).sort())
  return named(samples, name).find((s) => JSON.stringify(Object.entries(s.labels).sort()) === key)?.value
}
/** flagpost_evaluations_total in one environment (the default one unless named) as {"flag reason [error_code]": count}. */
const evaluations = (samples: Sample[], environment = 'production'): Record<string, number> => Object.fromEntries(named(samples, 'flagpost_evaluations_total')
  .filter((s) => s.labels.environment === environment)
  .map((s) => [[s.labels.flag, s.labels.reason, s.labels.error_code].filter(Boolean).join(' '), s.value]))

t.test('GET /metrics: Prometheus text format 0.0.4, everything prefixed flagpost_, not in the API document', async (t) => {
  const ctx = await build(t)
  const res = await ctx.app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4(;|$)/)
  const samples = parse(res.body)
  t.strictSame(samples.filter((s) => !s.name.startsWith('flagpost_')).map((s) => s.name), [], 'every metric is prefixed')
  for (const name of ['flagpost_process_cpu_user_seconds_total', 'flagpost_process_start_time_seconds', 'flagpost_nodejs_heap_size_used_bytes']) {
    t.ok((valueOf(samples, name) ?? 0) > 0, `Node process metric ${name}`)
  }
  const doc = (await ctx.app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> }
  t.notOk('/metrics' in doc.paths, 'not in /openapi.json (nor so in the generated client)')
})

t.test('flagpost_evaluations_total: each evaluation through GET /evaluate, POST /evaluate and OFREP, by flag and reason', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'everyone' }) // no targeting: STATIC
  await createFlag(ctx, { name: 'listed', targeting_rules: { user_ids: ['alice'] } }) // alice TARGETING_MATCH, else 0 %: DEFAULT
  await createFlag(ctx, { name: 'killed', enabled: false }) // DISABLED
  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } }) // SPLIT; no user_id: DEFAULT
  t.strictSame(evaluations(await scrape(t, ctx)), {}, 'nothing evaluated yet: no series')

  const reasonOf = async (url: string): Promise<string> => {
    const res = await ctx.app.inject({ url })
    return res.statusCode === 200 ? res.json().reason : String(res.statusCode)
  }
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => ctx.app.inject({ method: 'POST', url, payload: payload as object, headers })

  for (let i = 0; i < 3; i++) t.equal(await reasonOf('/evaluate/listed?user_id=alice'), 'TARGETING_MATCH')
  for (let i = 0; i < 2; i++) t.equal(await reasonOf('/evaluate/listed?user_id=carol'), 'DEFAULT')
  t.equal(await reasonOf('/evaluate/missing-1'), '404')
  t.equal(await reasonOf('/evaluate/missing-2'), '404')

  const some = await post('/evaluate', { context: { user_id: 'alice' }, flags: ['everyone', 'killed', 'missing-3'] })
  t.match(some.json().results, { everyone: { reason: 'STATIC' }, killed: { reason: 'DISABLED' }, 'missing-3': { error_code: 'FLAG_NOT_FOUND' } })
  const all = await post('/evaluate', { context: { user_id: 'bob' } })
  t.match(all.json().results, { everyone: { reason: 'STATIC' }, killed: { reason: 'DISABLED' }, listed: { reason: 'DEFAULT' }, half: { reason: 'SPLIT' } })

  t.equal((await post('/ofrep/v1/evaluate/flags/half', { context: { targetingKey: 'alice' } })).json().reason, 'SPLIT')
  t.equal((await post('/ofrep/v1/evaluate/flags/missing-4', { context: {} })).statusCode, 404)
  const bulk = await post('/ofrep/v1/evaluate/flags', { context: {} })
  t.match(bulk.json().flags, [{ key: 'everyone', reason: 'STATIC' }, { key: 'half', reason: 'DEFAULT' }, { key: 'killed', reason: 'DISABLED' }, { key: 'listed', reason: 'DEFAULT' }])
  // A 304 still evaluated every flag for the context (that is how it knows nothing changed).
  t.equal((await post('/ofrep/v1/evaluate/flags', { context: {} }, { 'if-none-match': String(bulk.headers.etag) })).statusCode, 304)

  // Refused before evaluation: not counted.
  t.equal((await post('/evaluate', { context: 5 })).statusCode, 400)
  t.equal((await post('/ofrep/v1/evaluate/flags/half', { context: { nested: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } } })).statusCode, 400)
  t.equal((await ctx.app.inject({ url: `/evaluate/listed?user_id=${'x'.repeat(300)}` })).statusCode, 400)

  const expected = {
    'everyone STATIC': 1 + 1 + 2,
    'killed DISABLED': 1 + 1 + 2,
    'listed TARGETING_MATCH': 3,
    'listed DEFAULT': 2 + 1 + 2,
    'half SPLIT': 1 + 1,
    'half DEFAULT': 2,
    '__unknown__ ERROR FLAG_NOT_FOUND': 2 + 1 + 1
  }
  t.strictSame(evaluations(await scrape(t, ctx)), expected, 'exactly the evaluations made, by flag and reason')
  t.strictSame(evaluations(await scrape(t, ctx)), expected, 'scraping counts nothing')

  t.test('every series names its environment; evaluations under /environments/{env} are counted there', async (t) => {
    const before = named(await scrape(t, ctx), 'flagpost_evaluations_total')
    t.same([...new Set(before.map((s) => s.labels.environment))], ['production'], 'the unprefixed paths evaluate in the default environment')
    t.equal(await reasonOf('/environments/development/evaluate/everyone'), 'DISABLED', 'a new flag is served off in the other environments')
    t.equal(await reasonOf('/environments/development/evaluate/missing-5'), '404')
    t.equal(await reasonOf('/environments/nowhere/evaluate/everyone'), '404')
    const development = named(await scrape(t, ctx), 'flagpost_evaluations_total').filter((s) => s.labels.environment === 'development')
      .map((s) => [s.labels.flag, s.labels.reason, s.value])
    t.same(development.sort(), [['__unknown__', 'ERROR', 1], ['everyone', 'DISABLED', 1]], 'counted in development; an unknown environment is refused before it is counted')
  })

  t.test('unknown names cannot create series', async (t) => {
    const names = Array.from({ length: 50 }, (_, i) => `nope-${i}`)
    t.equal((await post('/evaluate', { context: {}, flags: names })).statusCode, 200)
    for (const name of names.slice(0, 10)) t.equal(await reasonOf(`/evaluate/${name}`), '404')
    const after = evaluations(await scrape(t, ctx))
    t.strictSame(after, { ...expected, '__unknown__ ERROR FLAG_NOT_FOUND': 4 + 50 + 10 })
  })
})

t.test('flagpost_evaluations_total: bulk evaluations across many revisions between two scrapes are each counted once', async (t) => {
  // A bulk request counts its fixed results (no targeting, switched off) as one array per revision,
  // expanded at the scrape or once too many revisions' arrays wait: neither may lose or double a count.
  const ctx = await build(t)
  await createFlag(ctx, { name: 'everyone' })
  await createFlag(ctx, { name: 'killed', enabled: false })
  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
  const revisions = 80
  for (let i = 0; i < revisions; i++) {
    // A new revision each time: the bulk plan, and the array it counts with, are new.
    await createFlag(ctx, { name: `later-${i}`, enabled: false })
    const bulk = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: { targetingKey: 'alice' } } })
    t.equal(bulk.json().flags.length, 4 + i)
    if (i % 2 === 0) t.equal((await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: {} } })).statusCode, 200)
  }
  const counted = evaluations(await scrape(t, ctx))
  t.equal(counted['everyone STATIC'], revisions * 1.5)
  t.equal(counted['killed DISABLED'], revisions * 1.5)
  t.equal((counted['half SPLIT'] ?? 0) + (counted['half DEFAULT'] ?? 0), revisions * 1.5)
  t.equal(counted['later-0 DISABLED'], revisions * 1.5)
  t.equal(counted[`later-${revisions - 1} DISABLED`], 1, 'the last flag: once (by OFREP, the last round being odd)')
  t.strictSame(evaluations(await scrape(t, ctx)), counted, 'scraping again counts nothing')
})

t.test('flagpost_http_request_duration_seconds: by method, route pattern and status; /metrics itself excluded', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'a' })
  await createFlag(ctx, { name: 'b' })
  t.equal((await ctx.app.inject({ method: 'POST', url: '/flags', payload: { name: 'c' } })).statusCode, 401)
  for (const url of ['/evaluate/a', '/evaluate/b?user_id=x', '/evaluate/a?country=DE']) t.equal((await ctx.app.inject({ url })).statusCode, 200)
  t.equal((await ctx.app.inject({ url: '/evaluate/nope' })).statusCode, 404)
  for (const url of ['/no/such/route', '/another/one?x=1']) t.equal((await ctx.app.inject({ url })).statusCode, 404)
  await scrape(t, ctx)

  const samples = await scrape(t, ctx)
  const counts = Object.fromEntries(named(samples, 'flagpost_http_request_duration_seconds_count')
    .map((s) => [`${s.labels.method} ${s.labels.route} ${s.labels.status_code}`, s.value]))
  t.strictSame(counts, {
    'POST /flags 201': 2,
    'POST /flags 401': 1,
    'GET /evaluate/:name 200': 3,
    'GET /evaluate/:name 404': 1,
    'GET __unmatched__ 404': 2
  }, 'one series per route pattern, never per URL; scrapes are not counted')

  const labels = { method: 'GET', route: '/evaluate/:name', status_code: '200' }
  const buckets = named(samples, 'flagpost_http_request_duration_seconds_bucket')
    .filter((s) => s.labels.route === labels.route && s.labels.status_code === '200').map((s) => s.value)
  t.ok(buckets.length > 5, 'buckets')
  t.ok(buckets.every((v, i) => i === 0 || v >= buckets[i - 1]), 'cumulative')
  t.equal(valueOf(samples, 'flagpost_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }), 3, '+Inf bucket = count')
  t.ok((valueOf(samples, 'flagpost_http_request_duration_seconds_sum', labels) ?? 0) > 0, 'sum of durations in seconds')
})

t.test('the request histogram: each observation in the first bucket whose bound it does not exceed', async (t) => {
  const registry = new Registry()
  const observe = createRequestMetrics(registry)
  for (const ms of [0.2, 0.5, 0.6, 3, 20_000]) observe('GET', '/x', 200, ms)
  observe('GET', undefined, 404, 1)
  const samples = parse(await registry.metrics())
  const bucket = (le: string): number | undefined => valueOf(samples, 'flagpost_http_request_duration_seconds_bucket', { method: 'GET', route: '/x', status_code: '200', le })
  t.strictSame(['0.0005', '0.001', '0.0025', '0.005', '10', '+Inf'].map(bucket), [2, 3, 3, 4, 4, 5], 'cumulative, bounds inclusive, 20 s only in +Inf')
  const sum = valueOf(samples, 'flagpost_http_request_duration_seconds_sum', { method: 'GET', route: '/x', status_code: '200' }) ?? NaN
  t.ok(Math.abs(sum - 20.0043) < 1e-9, `sum in seconds: ${sum}`)
  t.equal(valueOf(samples, 'flagpost_http_request_duration_seconds_count', { method: 'GET', route: '__unmatched__', status_code: '404' }), 1, 'no route: the fixed label')
})

t.test('revision gauges: the snapshot against the database, caught up after a write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-metrics-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // A file both instances open; this app polls only hourly, so the lag stays until it catches up.
  const env = { DATABASE_URL: `file:${join(dir, 'flags.db')}`, CACHE_REFRESH_MS: '3600000' }
  const ctx = await build(t, env)
  const revisions = async (): Promise<number[]> => {
    const samples = await scrape(t, ctx)
    return ['flagpost_snapshot_revision', 'flagpost_database_revision', 'flagpost_snapshot_revision_lag', 'flagpost_database_up']
      .map((name) => valueOf(samples, name) ?? -1)
  }
  t.strictSame(await revisions(), [0, 0, 0, 1])
  await createFlag(ctx, { name: 'here' })
  t.strictSame(await revisions(), [1, 1, 0, 1], 'a write through this instance: both move, no lag')

  const other = await createContainer(ctx.config, { poll: false })
  t.teardown(() => other.close())
  await other.services.flags.create(ctx.config.defaultEnvironment, { name: 'elsewhere', defaultValue: true }, { actor: 'test' })
  t.equal(await revisionOf(ctx), 2)
  t.strictSame(await revisions(), [1, 2, 1, 1], 'a write by another instance: the database is one revision ahead')
  await ctx.container.snapshot.catchUp()
  t.strictSame(await revisions(), [2, 2, 0, 1], 'caught up')
})

t.test('database down: /metrics still answers, flagpost_database_up 0', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'kept' })
  await ctx.container.close()
  const samples = await scrape(t, ctx)
  t.equal(valueOf(samples, 'flagpost_database_up'), 0)
  t.equal(valueOf(samples, 'flagpost_snapshot_revision'), 1, 'the snapshot still serves revision 1')
  t.ok(Number.isNaN(valueOf(samples, 'flagpost_database_revision')), 'database revision unknown: NaN')
  t.ok(Number.isNaN(valueOf(samples, 'flagpost_snapshot_revision_lag')), 'lag unknown: NaN')
})

t.test('flagpost_redis_up: absent without REDIS_URL, 0 when Redis does not answer', async (t) => {
  const without = await scrape(t, await build(t))
  t.strictSame(named(without, 'flagpost_redis_up'), [], 'no Redis configured: no gauge')
  const down = await scrape(t, await build(t, { REDIS_URL: 'redis://127.0.0.1:1' }))
  t.equal(valueOf(down, 'flagpost_redis_up'), 0, 'nothing listens on port 1')
  t.equal(valueOf(down, 'flagpost_database_up'), 1)
})

t.test('flagpost_redis_up: 1 with a live Redis', async (t) => {
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const ctx = await build(t, { REDIS_URL: url })
  // The connection is opened in the background (PING fails fast until it is up, as /readyz reports).
  const until = Date.now() + 5000
  let up = valueOf(await scrape(t, ctx), 'flagpost_redis_up')
  while (up !== 1 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    up = valueOf(await scrape(t, ctx), 'flagpost_redis_up')
  }
  t.equal(up, 1, 'Redis answers')
})

t.test('auth: /metrics is open by default; a read key is needed under AUTH_READS=true', async (t) => {
  t.equal((await (await build(t)).app.inject({ url: '/metrics' })).statusCode, 200, 'open without AUTH_READS')

  const ctx = await build(t, { AUTH_READS: 'true' })
  isProblem(t, await ctx.app.inject({ url: '/metrics' }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/metrics')
  isProblem(t, await ctx.app.inject({ url: '/metrics', headers: { 'x-api-key': 'not-a-key-0123456789' } }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/metrics')
  t.ok(named(await scrape(t, ctx, { 'x-api-key': READ_KEY }), 'flagpost_database_up').length === 1, 'a read key scrapes')
  t.ok(named(await scrape(t, ctx, { authorization: `Bearer ${WRITE_KEY}` }), 'flagpost_database_up').length === 1, 'so does a write key')
})

t.test('each app has its own registry: two apps in one process count separately', async (t) => {
  const a = await build(t)
  const b = await build(t)
  await createFlag(a, { name: 'x' })
  await createFlag(b, { name: 'x' })
  for (let i = 0; i < 3; i++) await a.app.inject({ url: '/evaluate/x' })
  await b.app.inject({ url: '/evaluate/x' })
  t.strictSame(evaluations(await scrape(t, a)), { 'x STATIC': 3 })
  t.strictSame(evaluations(await scrape(t, b)), { 'x STATIC': 1 })
})

t.test('two apps on one container: each registry counts every evaluation of the container\'s flag service once (the same result objects, two tallies)', async (t) => {
  const a = await build(t)
  await createFlag(a, { name: 'shared' })
  const b = { ...a, app: await buildApp(a.container) }
  t.teardown(() => b.app.close())
  for (let i = 0; i < 3; i++) await a.app.inject({ url: '/evaluate/shared' })
  await b.app.inject({ url: '/evaluate/shared' })
  await b.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: {} } })
  await a.app.inject({ url: '/evaluate/shared' })
  // Both counters observe the one flag service: 4 evaluations through a, 2 through b.
  t.strictSame(evaluations(await scrape(t, a)), { 'shared STATIC': 6 })
  t.strictSame(evaluations(await scrape(t, b)), { 'shared STATIC': 6 })
})
