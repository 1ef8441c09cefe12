import t, { type Test } from 'tap'
import { build, createFlag, READ_KEY, type TestApp } from '../helper.js'
import { readContext, MAX_CONTEXT_ATTRIBUTES } from '../../src/engine/context.js'

/**
 * OpenFeature's nested contexts ({targetingKey, user: {plan}}) read as dotted attributes on every
 * evaluation route: rules, bucket_by and the query string name `user.plan`. Arrays and values that
 * cannot be attributes are ignored for that attribute only; depth, count and size limits refuse.
 */

const BULK = '/ofrep/v1/evaluate/flags'
const read = { 'x-api-key': READ_KEY }

async function setup (t: Test): Promise<TestApp> {
  const ctx = await build(t)
  await createFlag(ctx, {
    name: 'plan_gate',
    type: 'string',
    variants: { pro: 'pro-ui', basic: 'basic-ui' },
    default_variant: 'basic',
    off_variant: 'basic',
    targeting_rules: { rules: [{ id: 'pro', clauses: [{ attribute: 'user.plan', operator: 'eq', values: ['pro'] }], serve: { variant: 'pro' } }] }
  })
  await createFlag(ctx, {
    name: 'org_split',
    type: 'boolean',
    targeting_rules: { percentage: 50, bucket_by: 'org.id' }
  })
  return ctx
}

const ofrep = (ctx: TestApp, key: string, context: unknown) =>
  ctx.app.inject({ method: 'POST', url: `${BULK}/${key}`, headers: read, payload: { context } })

t.test('OFREP single: a nested attribute matches a rule on its dotted name', async (t) => {
  const ctx = await setup(t)
  const pro = await ofrep(ctx, 'plan_gate', { targetingKey: 'u1', user: { plan: 'pro', tags: ['a', 'b'] } })
  t.equal(pro.statusCode, 200, pro.body)
  t.match(pro.json(), { key: 'plan_gate', value: 'pro-ui', reason: 'TARGETING_MATCH' })
  const basic = await ofrep(ctx, 'plan_gate', { targetingKey: 'u1', user: { plan: 'free' } })
  t.match(basic.json(), { value: 'basic-ui', reason: 'DEFAULT' })
})

t.test('OFREP bulk: a nested context changes the values and the ETag', async (t) => {
  const ctx = await setup(t)
  const a = await ctx.app.inject({ method: 'POST', url: BULK, headers: read, payload: { context: { targetingKey: 'u1', user: { plan: 'pro' } } } })
  const b = await ctx.app.inject({ method: 'POST', url: BULK, headers: read, payload: { context: { targetingKey: 'u1', user: { plan: 'free' } } } })
  t.equal(a.statusCode, 200, a.body)
  t.equal(b.statusCode, 200, b.body)
  const value = (res: typeof a) => (res.json().flags as Array<{ key: string, value: unknown }>).find((f) => f.key === 'plan_gate')?.value
  t.equal(value(a), 'pro-ui')
  t.equal(value(b), 'basic-ui')
  t.not(a.headers.etag, b.headers.etag)
})

t.test('POST /evaluate and the query string read the same attribute', async (t) => {
  const ctx = await setup(t)
  const body = await ctx.app.inject({ method: 'POST', url: '/evaluate', headers: read, payload: { context: { user_id: 'u1', user: { plan: 'pro' } }, flags: ['plan_gate'] } })
  t.equal(body.statusCode, 200, body.body)
  t.equal(body.json().results.plan_gate.value, 'pro-ui')
  const query = await ctx.app.inject({ method: 'GET', url: '/evaluate/plan_gate?user_id=u1&user.plan=pro', headers: read })
  t.equal(query.statusCode, 200, query.body)
  t.equal(query.json().value, 'pro-ui')
})

t.test('bucket_by names a nested attribute: same bucket as the flat attribute', async (t) => {
  const ctx = await setup(t)
  const differ: unknown[] = []
  for (let i = 0; i < 40; i++) {
    const nested = await ofrep(ctx, 'org_split', { targetingKey: 'x', org: { id: `org-${i}` } })
    const flat = await ofrep(ctx, 'org_split', { targetingKey: 'x', 'org.id': `org-${i}` })
    if (nested.statusCode !== 200 || nested.body !== flat.body || nested.json().reason !== 'SPLIT') differ.push({ case: `org-${i}`, nested: `${nested.statusCode} ${nested.body}`, flat: flat.body })
  }
  t.same(differ.slice(0, 5), [], `org-0 … org-39: 200, SPLIT, and the same answer as the flat org.id attribute (${differ.length} not)`)
  const missing = await ofrep(ctx, 'org_split', { targetingKey: 'x', org: { id: ['not', 'an', 'attribute'] } })
  t.match(missing.json(), { value: false, reason: 'DEFAULT' }, 'an array is ignored: the bucket attribute is absent')
})

t.test('what cannot be an attribute is ignored for that attribute only', async (t) => {
  const ctx = await setup(t)
  const res = await ofrep(ctx, 'plan_gate', {
    targetingKey: 'u1',
    list: [1, 2, { plan: 'pro' }],
    user: { plan: 'pro', 'bad name': 'x', nothing: null, nested: { deeper: { list: [] } } }
  })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().value, 'pro-ui')
})

t.test('limits still apply: depth, count and sizes are INVALID_CONTEXT, never a 500', async (t) => {
  const ctx = await setup(t)
  let deep: Record<string, unknown> = { plan: 'pro' }
  for (let i = 0; i < 9; i++) deep = { n: deep }
  const tooDeep = await ofrep(ctx, 'plan_gate', { targetingKey: 'u1', user: deep })
  t.equal(tooDeep.statusCode, 400, tooDeep.body)
  t.match(tooDeep.json(), { errorCode: 'INVALID_CONTEXT', errorDetails: /deeper than 8/ })

  const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, []]))
  const tooWide = await ofrep(ctx, 'plan_gate', { targetingKey: 'u1', user: wide })
  t.equal(tooWide.statusCode, 400, tooWide.body)
  t.match(tooWide.json(), { errorCode: 'INVALID_CONTEXT', errorDetails: /more than 256 entries/ })

  const many = Object.fromEntries(Array.from({ length: MAX_CONTEXT_ATTRIBUTES + 1 }, (_, i) => [`k${i}`, i]))
  const tooMany = await ctx.app.inject({ method: 'POST', url: BULK, headers: read, payload: { context: { user: many } } })
  t.equal(tooMany.statusCode, 400, tooMany.body)
  t.match(tooMany.json(), { errorCode: 'INVALID_CONTEXT', errorDetails: /more than 64 attributes/ })

  const long = await ctx.app.inject({ method: 'POST', url: '/evaluate', headers: read, payload: { context: { user: { plan: 'x'.repeat(1025) } } } })
  t.equal(long.statusCode, 400, long.body)
  t.match(long.json(), { code: 'FLAGPOST_ERR_VALIDATION', errors: [{ field: 'body.context.user.plan' }] })
})

t.test('readContext: flat input is returned as is; an explicit dotted attribute wins', async (t) => {
  const flat = { targetingKey: 'u', plan: 'pro', n: 1 }
  t.equal(readContext(flat).context, flat)
  t.same(readContext({ 'user.plan': 'free', user: { plan: 'pro', id: 7 } }).context, { 'user.plan': 'free', 'user.id': 7 })
  t.same(readContext({ a: null, b: undefined, c: [1] }).context, {})
  t.same(readContext({ a: { b: { c: true } } }).context, { 'a.b.c': true })
  t.match(readContext({ ['a'.repeat(40)]: { ['b'.repeat(40)]: 1 } }).context, {}, 'a path longer than 64 characters is ignored')
})
