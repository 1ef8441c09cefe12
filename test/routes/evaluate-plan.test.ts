import t, { type Test } from 'tap'
import { PLAN_AFTER_MS, type EvaluationObserver } from '../../src/services/flag-service.js'
import { build as buildApp, createFlag, type TestApp } from '../helper.js'
import { until } from '../support/until.js'

/**
 * The single-flag routes (GET /evaluate/{name}, OFREP single) answer from the environment's bulk plan
 * once it is made for the current revision (services/flag-service.ts, `serveOne`), and from the flag's
 * own result before that (after a write, or on an environment's first request). Both ways must give
 * the same bytes for every kind of flag and context, and a write must be read on the very next request.
 * The plan serves environments of 1,000 flags or more; these apps lower that to 1 (`planFromFlags`).
 */

/** An app whose container serves single evaluations from a plan from `planFromFlags` flags. */
const build = async (t: Test, planFromFlags = 1): Promise<TestApp> => buildApp(t, {}, { planFromFlags })

/** How many evaluations were served each way. */
interface Ways { fromResult: number, fromPlan: number }
/** An app and the ways its evaluations are served. */
interface Counted { ctx: TestApp, ways: Ways }

/** Which way each evaluation was served, as the flag service tells its observers. */
function tellWays (ctx: TestApp): Ways {
  const ways = { fromResult: 0, fromPlan: 0 }
  const observer: EvaluationObserver = {
    served: () => { ways.fromResult++ },
    servedAt: () => { ways.fromPlan++ },
    servedAll: () => {},
    servedEvaluated: () => {},
    missing: () => {},
    unservable: () => {}
  }
  ctx.container.services.flags.observe(observer)
  return ways
}

const contexts: Array<Record<string, string>> = [
  {},
  { user_id: 'alice' },
  { user_id: 'bob', country: 'DE' },
  { user_id: 'carol', country: 'US', customer_id: 'globex' },
  // A registered user of acme: acme's override applies without customer_id (inferred).
  { user_id: 'dave', country: 'FR' },
  { targetingKey: 'erin', plan: 'pro' },
  ...Array.from({ length: 20 }, (_, i) => ({ user_id: `user-${i}`, country: i % 2 === 0 ? 'DE' : 'BR' }))
]
const FLAGS = ['plain', 'half', 'listed', 'ruled', 'colors', 'pinned', 'killed', 'config']

async function seed (ctx: TestApp): Promise<void> {
  await createFlag(ctx, { name: 'plain' })
  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
  await createFlag(ctx, { name: 'listed', targeting_rules: { user_ids: ['alice'], customer_ids: ['globex'], percentage: 0 } })
  await createFlag(ctx, {
    name: 'ruled',
    targeting_rules: { percentage: 0, rules: [{ id: 'germany', clauses: [{ attribute: 'country', operator: 'in', values: ['DE'] }], serve: { variant: 'on' } }] }
  })
  await createFlag(ctx, {
    name: 'colors',
    type: 'string',
    variants: { red: 'r', green: 'g', blue: 'b' },
    default_variant: 'red',
    off_variant: 'red',
    targeting_rules: { rollout: { red: 1, green: 1, blue: 1 }, bucket_by: 'user_id' }
  })
  await createFlag(ctx, { name: 'pinned', targeting_rules: { percentage: 0 } })
  await createFlag(ctx, { name: 'killed', enabled: false })
  await createFlag(ctx, { name: 'config', type: 'json', default_value: { limit: 10 }, off_value: { limit: 1 }, metadata: { owner: 'team' } })
  for (const [method, url, payload] of [
    ['POST', '/customers', { id: 'acme' }],
    ['POST', '/customers', { id: 'globex' }],
    ['POST', '/users', { id: 'dave', customer_id: 'acme' }],
    ['PUT', '/flags/pinned/overrides/customers/acme', { enabled: true }],
    ['PUT', '/flags/pinned/overrides/users/bob', { enabled: true }]
  ] as const) {
    const res = await ctx.write({ method, url, payload })
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  }
}

/** Every flag for every context, by GET and by OFREP single: status, content type and body. */
async function answers (ctx: TestApp): Promise<string[]> {
  const out: string[] = []
  for (const name of FLAGS) {
    for (const context of contexts) {
      const get = await ctx.app.inject({ url: `/evaluate/${name}`, query: context })
      const { user_id: targetingKey, ...rest } = context
      const ofrep = await ctx.app.inject({ method: 'POST', url: `/ofrep/v1/evaluate/flags/${name}`, payload: { context: targetingKey === undefined ? rest : { targetingKey, ...rest } } })
      for (const res of [get, ofrep]) out.push(`${name} ${JSON.stringify(context)} ${res.statusCode} ${String(res.headers['content-type'])} ${res.body}`)
    }
  }
  return out
}

/** Ask until an evaluation is served from the plan (the plan is made a little after the first request). */
async function planMade (ctx: TestApp, ways: Ways): Promise<void> {
  await until(async () => {
    const before = ways.fromPlan
    await ctx.app.inject({ url: '/evaluate/plain' })
    return ways.fromPlan > before
  }, 5000, 20, 'an evaluation served from the plan')
}

/** An app of `seed`'s flags, the ways its evaluations are served counted (`tellWays`). */
async function seeded (t: Test, planFromFlags = 1): Promise<Counted> {
  const ctx = await build(t, planFromFlags)
  await seed(ctx)
  return { ctx, ways: tellWays(ctx) }
}

/** The same, once its plan is made. */
async function planned (t: Test): Promise<Counted> {
  const app = await seeded(t)
  await planMade(app.ctx, app.ways)
  return app
}

t.test('from the result, then from the plan: the same bytes for every flag and context', async (t) => {
  const { ctx, ways } = await seeded(t)
  const before = await answers(ctx)
  t.ok(ways.fromResult > 0, `served from the result before the plan was made (${ways.fromResult})`)
  t.ok(before.some((a) => a.includes('"customer_override"')) && before.some((a) => a.includes('"user_override"')), 'the overrides were served')
  t.ok(before.some((a) => a.startsWith('pinned {"user_id":"dave"') && a.includes('"customer_override"')), 'a registered user\'s customer was inferred')

  await planMade(ctx, ways)
  const fromResult = ways.fromResult
  const fromPlan = ways.fromPlan
  const after = await answers(ctx)
  t.equal(ways.fromResult, fromResult, 'none from the result once the plan is made')
  t.equal(ways.fromPlan - fromPlan, after.length, 'every one from the plan')
  t.strictSame(after, before)
})

t.test('a write is read on the very next request, then served from the next plan', async (t) => {
  const { ctx, ways } = await planned(t)
  const flag = (await ctx.app.inject({ url: '/flags/plain' })).json()
  const put = await ctx.write({ method: 'PUT', url: '/flags/plain', payload: { enabled: false }, headers: { 'if-match': `"${String(flag.version)}"` } })
  t.equal(put.statusCode, 200, put.body)
  const fromResult = ways.fromResult
  const next = await ctx.app.inject({ url: '/evaluate/plain' })
  t.match(next.json(), { value: false, reason: 'DISABLED' }, 'the write, on the next request')
  t.equal(ways.fromResult, fromResult + 1, 'served from the result: the plan was the last revision\'s')

  await planMade(ctx, ways)
  t.match((await ctx.app.inject({ url: '/evaluate/plain' })).json(), { value: false, reason: 'DISABLED' }, 'and from the new plan')
  t.equal((await ctx.write({ method: 'DELETE', url: '/flags/plain' })).statusCode, 204)
  t.equal((await ctx.app.inject({ url: '/evaluate/plain' })).statusCode, 404, 'a deleted flag, on the next request')
})

t.test('from the plan: unknown flags and environments are 404s, and /metrics counts every evaluation', async (t) => {
  const { ctx, ways } = await planned(t)
  const fromPlan = ways.fromPlan
  const missing = await ctx.app.inject({ url: '/evaluate/nope' })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'FLAGPOST_ERR_FLAG_NOT_FOUND')
  const ofrep = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags/nope', payload: { context: {} } })
  t.equal(ofrep.statusCode, 404)
  t.match(ofrep.json(), { key: 'nope', errorCode: 'FLAG_NOT_FOUND' })
  const elsewhere = await ctx.app.inject({ url: '/environments/nowhere/evaluate/plain' })
  t.equal(elsewhere.statusCode, 404)
  t.equal(elsewhere.json().code, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
  t.equal(ways.fromPlan, fromPlan, 'nothing counted as served')

  for (let i = 0; i < 7; i++) await ctx.app.inject({ url: '/evaluate/half', query: { user_id: `u${i}` } })
  const metrics = (await ctx.app.inject({ url: '/metrics', headers: { 'x-api-key': 'test-write-key-0123456789' } })).body
  const count = (flag: string): number => metrics.split('\n')
    .filter((line) => line.startsWith('flagpost_evaluations_total{') && line.includes(`flag="${flag}"`) && !line.includes('error_code'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
  t.equal(count('half'), 7, 'the plan\'s evaluations of half, each counted once')
  t.ok(count('plain') >= 1, 'and the ones that waited for the plan')
})

t.test('a request naming an environment that does not exist leaves no plan timer behind', async (t) => {
  const { ctx } = await planned(t)
  // Count the timers a plan would be made by, while requests name 50 environments that do not exist.
  const setTimer = globalThis.setTimeout
  let planTimers = 0
  globalThis.setTimeout = ((handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (ms === PLAN_AFTER_MS) planTimers++
    return setTimer(handler, ms, ...args)
  }) as typeof setTimeout
  const statuses = new Set<number>()
  try {
    for (let i = 0; i < 50; i++) statuses.add((await ctx.app.inject({ url: `/environments/nowhere-${i}/evaluate/plain` })).statusCode)
    // A control: the same count sees the timer when an existing environment's plan goes stale.
    t.equal((await ctx.write({ method: 'PUT', url: '/flags/plain', payload: { enabled: false } })).statusCode, 200)
    t.equal((await ctx.app.inject({ url: '/evaluate/plain' })).statusCode, 200)
  } finally {
    globalThis.setTimeout = setTimer
  }
  t.same([...statuses], [404])
  t.equal(planTimers, 1, 'one timer, for the stale plan of the environment that exists')
})

t.test('an environment of fewer flags than planFromFlags is served from its flags\' objects, never from a plan', async (t) => {
  const { ctx, ways } = await seeded(t, FLAGS.length + 1)
  const before = await answers(ctx)
  // Long past the moment a plan would be made (PLAN_AFTER_MS), then every request again.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.strictSame(await answers(ctx), before)
  t.equal(ways.fromPlan, 0, 'none from a plan')
  t.equal(ways.fromResult, 2 * before.length)
})
