import t, { type Test } from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { bulkPlanOf } from '../../src/services/bulk-plan.js'
import { build, createFlag, READ_KEY, WRITE_KEY, wrote, type TestApp } from '../helper.js'

/**
 * Bulk answers kept per context (services/bulk-answers.ts, BULK_CACHE_MB): a context that asks again
 * gets the same answer as evaluating afresh, and never an answer from before a change of the flags,
 * of the user's customer, or of the clock a rule reads.
 */

type Json = Record<string, any>
const OFREP = '/ofrep/v1/evaluate/flags'

const ofrep = (ctx: TestApp, context: Json, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: OFREP, headers, payload: { context } })
const evaluateAll = (ctx: TestApp, context: Json) => ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context } })

/** Each flag's value in an OFREP bulk answer, by key. */
async function ofrepValues (t: Test, ctx: TestApp, context: Json): Promise<Record<string, unknown>> {
  const res = await ofrep(ctx, context)
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  return Object.fromEntries((res.json().flags as Json[]).map((f) => [f.key, f.value]))
}
/** Each flag's value in a POST /evaluate answer, by name. */
async function evaluateValues (t: Test, ctx: TestApp, context: Json): Promise<Record<string, unknown>> {
  const res = await evaluateAll(ctx, context)
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  return Object.fromEntries(Object.entries(res.json().results as Record<string, Json>).map(([name, r]) => [name, r.value]))
}
/** What both bulk routes serve this context, asked `times` times each: every answer the same, or the test fails. */
async function served (t: Test, ctx: TestApp, context: Json, times = 3): Promise<Record<string, unknown>> {
  const ofrepAnswers: Array<Record<string, unknown>> = []
  const evaluateAnswers: Array<Record<string, unknown>> = []
  for (let i = 0; i < times; i++) {
    ofrepAnswers.push(await ofrepValues(t, ctx, context))
    evaluateAnswers.push(await evaluateValues(t, ctx, context))
  }
  for (const answers of [ofrepAnswers, evaluateAnswers.slice(1)]) t.same(answers.slice(1), Array(answers.length - 1).fill(answers[0]), 'the same on every request')
  t.same(evaluateAnswers[0], ofrepAnswers[0], 'both routes agree')
  return ofrepAnswers[0]
}

/** flagpost_evaluations_total for one flag, all reasons. */
async function counted (ctx: TestApp, flag: string): Promise<number> {
  const text = (await ctx.app.inject({ url: '/metrics' })).body
  let n = 0
  for (const line of text.split('\n')) if (line.startsWith('flagpost_evaluations_total{') && line.includes(`flag="${flag}"`)) n += Number(line.split(' ').pop())
  return n
}

for (const [label, env] of [['kept (default budget)', {}], ['BULK_CACHE_MB=0', { BULK_CACHE_MB: '0' }]] as const) {
  t.test(`${label}: a context asking again gets what a fresh evaluation gives, after every kind of change`, async (t) => {
    const ctx = await build(t, env)
    await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
    await createFlag(ctx, { name: 'plain', default_value: 'true' })
    await createFlag(ctx, { name: 'enterprise', targeting_rules: { customer_ids: ['acme'] } })
    const alice = { targetingKey: 'alice' }
    t.match(await served(t, ctx, alice), { plain: true, enterprise: false })

    t.test('a write to a flag', async (t) => {
      const before = await served(t, ctx, alice)
      await wrote(t, ctx, { method: 'PUT', url: '/flags/plain', payload: { enabled: false } }, 200)
      t.same(await served(t, ctx, alice), { ...before, plain: false })
      await wrote(t, ctx, { method: 'PUT', url: '/flags/plain', payload: { enabled: true } }, 200)
      t.same(await served(t, ctx, alice), before)
    })

    t.test('a flag created and one deleted', async (t) => {
      await createFlag(ctx, { name: 'newcomer', default_value: 'true' })
      t.equal((await served(t, ctx, alice)).newcomer, true)
      await wrote(t, ctx, { method: 'DELETE', url: '/flags/newcomer' }, 204)
      t.notOk('newcomer' in await served(t, ctx, alice))
    })

    t.test('the user joins a customer, and leaves it (the inferred customer is part of the context)', async (t) => {
      t.equal((await served(t, ctx, alice)).enterprise, false)
      await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id: 'acme', name: 'Acme' } }, 201)
      await wrote(t, ctx, { method: 'POST', url: '/users', payload: { id: 'alice', customer_id: 'acme' } }, 201)
      t.equal((await served(t, ctx, alice)).enterprise, true)
      await wrote(t, ctx, { method: 'DELETE', url: '/users/alice' }, 204)
      t.equal((await served(t, ctx, alice)).enterprise, false)
    })

    t.test('an override for the user', async (t) => {
      const before = await served(t, ctx, alice)
      await wrote(t, ctx, { method: 'PUT', url: '/flags/half/overrides/users/alice', payload: { enabled: !(before.half as boolean) } }, 200)
      t.equal((await served(t, ctx, alice)).half, !(before.half as boolean))
    })

    t.test('contexts that differ in one value, or in its type, are answered apart', async (t) => {
      await createFlag(ctx, { name: 'typed', default_value: 'true', targeting_rules: { rules: [{ clauses: [{ attribute: 'level', operator: 'eq', values: ['1'] }], serve: { variant: 'off' } }], percentage: 100 } })
      const asString = await served(t, ctx, { targetingKey: 'bob', level: '1' })
      const asNumber = await served(t, ctx, { targetingKey: 'bob', level: 1 })
      const other = await served(t, ctx, { targetingKey: 'bob', level: '2' })
      t.equal(asString.typed, false)
      t.equal(other.typed, true)
      // The engine reads a number as String(n): 1 matches "1" too, so only the fresh answer can say what it is.
      t.equal(asNumber.typed, false)
    })
  })
}

t.test('a rule on the clock: no answer is kept for that environment, so the change shows when the time comes', async (t) => {
  const ctx = await build(t)
  const soon = new Date(Date.now() + 4000).toISOString()
  await createFlag(ctx, { name: 'until_soon', targeting_rules: { rules: [{ clauses: [{ attribute: 'now', operator: 'before', values: [soon] }], serve: { variant: 'on' } }], percentage: 0 } })
  await createFlag(ctx, { name: 'plain', default_value: 'true' })
  t.match(await served(t, ctx, { targetingKey: 'alice' }), { until_soon: true, plain: true })
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(soon) - Date.now() + 50)))
  t.match(await served(t, ctx, { targetingKey: 'alice' }), { until_soon: false, plain: true }, 'past the time: the rule no longer matches')
})

t.test('metrics count every evaluation a kept answer serves', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
  await createFlag(ctx, { name: 'plain', default_value: 'true' })
  for (let i = 0; i < 5; i++) await ofrepValues(t, ctx, { targetingKey: 'alice' })
  for (let i = 0; i < 4; i++) await evaluateValues(t, ctx, { targetingKey: 'alice' })
  t.equal(await counted(ctx, 'half'), 9, 'the flag evaluated per context')
  t.equal(await counted(ctx, 'plain'), 9, 'the flag fixed for the revision')
})

t.test('OFREP: one kept answer serves keys with different streams, each with its own; the ETag and 304 stay as they were', async (t) => {
  const ctx = await build(t, { AUTH_READS: 'true' })
  await createFlag(ctx, { name: 'plain', default_value: 'true' })
  const context = { targetingKey: 'alice' }
  const bodies: Json[] = []
  for (const key of [READ_KEY, WRITE_KEY, READ_KEY, WRITE_KEY, READ_KEY]) {
    const res = await ofrep(ctx, context, { 'x-api-key': key })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body))
    bodies.push({ key, etag: res.headers.etag, body: res.json() })
  }
  t.equal(new Set(bodies.map((b) => b.etag)).size, 1, 'one ETag')
  const streams = bodies.map((b) => b.body.eventStreams[0].endpoint.requestUri as string)
  t.equal(streams[0], streams[2])
  t.equal(streams[1], streams[3])
  t.not(streams[0], streams[1], 'each key its own stream token')
  t.same(bodies.map((b) => b.body.flags), Array(5).fill(bodies[0].body.flags))
  const notModified = await ofrep(ctx, context, { 'x-api-key': READ_KEY, 'if-none-match': bodies[0].etag })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
})

t.test('a kept answer does not keep its revision\'s plan alive, nor what was laid out for it', async (t) => {
  // Collected only when nothing holds it: a kept answer outlives its revision until its context asks
  // again or it is pushed out, and the plan holds every route's laid-out bytes (bulk-plan.ts, perPlan).
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const ctx = await build(t)
  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
  const environment = ctx.config.defaultEnvironment
  const collected: string[] = []
  const registry = new FinalizationRegistry((what: string) => collected.push(what))
  // Only in this function's frame: nothing of the test holds the plan after it returns.
  const keepAnswers = async (): Promise<void> => {
    registry.register(bulkPlanOf(ctx.container.snapshot.sorted(environment)), 'plan')
    // Asked twice: kept the second time (services/bulk-answers.ts, admits).
    for (let i = 0; i < 2; i++) await ofrepValues(t, ctx, { targetingKey: 'alice' })
    for (let i = 0; i < 2; i++) await evaluateValues(t, ctx, { targetingKey: 'alice' })
  }
  await keepAnswers()
  await createFlag(ctx, { name: 'next', default_value: 'true' })
  // The new revision's plan, so the old one is no longer the snapshot's.
  await ofrepValues(t, ctx, { targetingKey: 'bob' })
  for (let i = 0; i < 20 && collected.length === 0; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(collected, ['plan'], 'the old plan was collected')
  const again = await ofrepValues(t, ctx, { targetingKey: 'alice' })
  t.same(Object.keys(again), ['half', 'next'], 'its context still gets the new revision\'s answer')
})
