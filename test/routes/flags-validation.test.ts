import t, { type Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { build, createFlag, READ_KEY, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { failingInOrder } from '../support/cases.js'
import { bodyOf, problemDiff } from '../support/refusals.js'

type Json = Record<string, any>

/** Everything a write could have changed: every flag as the API shows it, and the revision. */
async function state (ctx: TestApp): Promise<{ flags: Json[], revision: number }> {
  const res = await ctx.app.inject({ url: '/flags?limit=1000' })
  return { flags: res.json().flags, revision: await revisionOf(ctx) }
}

/**
 * Send a write that must fail: check the problem+json body, and that neither the flags nor the
 * change-log revision moved. Returns the problem body.
 */
async function refused (t: Test, ctx: TestApp, opts: InjectOptions, status: number, code: string, label = ''): Promise<Json> {
  const before = await state(ctx)
  const res = await ctx.write(opts)
  const what = `${label || `${String(opts.method)} ${String(opts.url)}`}`
  t.equal(res.statusCode, status, `${what} → ${status}: ${res.body.slice(0, 300)}`)
  t.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`)
  const body = res.json()
  t.equal(body.code, code, `${what}: code`)
  t.equal(body.status, status, `${what}: status in body`)
  t.type(body.detail, 'string', `${what}: detail`)
  t.equal(body.instance, String(opts.url).split('?')[0], `${what}: instance`)
  t.notOk('stack' in body, `${what}: no stack`)
  t.same(await state(ctx), before, `${what}: nothing changed`)
  return body
}

/** refused() without asserting, for a loop over many writes: the body and what was wrong ([] when nothing). */
async function refusal (ctx: TestApp, opts: InjectOptions, status: number, code: string): Promise<{ body: Json, wrong: string[] }> {
  const before = await state(ctx)
  const res = await ctx.write(opts)
  const wrong = problemDiff(res, status, code, String(opts.url).split('?')[0])
  if (JSON.stringify(await state(ctx)) !== JSON.stringify(before)) wrong.push('the flags or the revision changed')
  return { body: bodyOf(res), wrong }
}

/** Each write refused as `status` / `code` with nothing changed, the first error naming `field` when given: the failing ones. */
function allRefused (ctx: TestApp, writes: Array<[label: string, opts: InjectOptions, field?: string]>, status: number, code: string): Promise<unknown[]> {
  return failingInOrder(writes, async ([label, opts, field]) => {
    const { body, wrong } = await refusal(ctx, opts, status, code)
    if (field !== undefined && fields(body)[0] !== field) wrong.push(`names ${String(fields(body)[0])}, not ${field}`)
    return wrong.length === 0 ? undefined : { case: label, wrong }
  })
}

const fields = (body: Json): string[] => (body.errors ?? []).map((e: Json) => e.field)
const post = (payload: unknown, headers: Record<string, string> = {}): InjectOptions =>
  ({ method: 'POST', url: '/flags', payload: payload as Json, headers })
const raw = (method: 'POST' | 'PUT', url: string, payload: string, contentType = 'application/json'): InjectOptions =>
  ({ method, url, payload, headers: { 'content-type': contentType } })

t.test('wrong types for each field are 400 naming the field', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'base', tags: ['keep'] })
  const cases: Array<[Json, string]> = [
    [{ name: 5 }, 'body.name'],
    [{ name: 'x', description: 5 }, 'body.description'],
    [{ name: 'x', type: 'bool' }, 'body.type'],
    [{ name: 'x', enabled: 'yes' }, 'body.enabled'],
    [{ name: 'x', enabled: 1 }, 'body.enabled'],
    [{ name: 'x', variants: ['on'] }, 'body.variants'],
    [{ name: 'x', variants: 'on' }, 'body.variants'],
    [{ name: 'x', default_variant: 5 }, 'body.default_variant'],
    [{ name: 'x', off_variant: 'bad name' }, 'body.off_variant'],
    [{ name: 'x', targeting_rules: 'all' }, 'body.targeting_rules'],
    [{ name: 'x', targeting_rules: { user_ids: 'alice' } }, 'body.targeting_rules.user_ids'],
    [{ name: 'x', targeting_rules: { user_ids: [true] } }, 'body.targeting_rules.user_ids.0'],
    [{ name: 'x', targeting_rules: { customer_ids: [{}] } }, 'body.targeting_rules.customer_ids.0'],
    [{ name: 'x', targeting_rules: { percentage: '50' } }, 'body.targeting_rules.percentage'],
    [{ name: 'x', targeting_rules: { rollout: { on: 'x' } } }, 'body.targeting_rules.rollout.on'],
    [{ name: 'x', targeting_rules: { bucket_by: 5 } }, 'body.targeting_rules.bucket_by'],
    [{ name: 'x', tags: 'a' }, 'body.tags'],
    [{ name: 'x', tags: ['has space'] }, 'body.tags.0'],
    [{ name: 'x', metadata: { k: { nested: 1 } } }, 'body.metadata.k'],
    [{ name: 'x', metadata: ['a'] }, 'body.metadata'],
    [{ name: 'x', default_value: 'yes' }, 'body.default_value'],
    [{ name: 'x', default_value: 1 }, 'body.default_value'],
    [{ name: 'x', off_value: 'nope' }, 'body.off_value'],
    [{ name: 'x', type: 'number', default_value: 'abc' }, 'body.default_value'],
    [{ name: 'x', type: 'number', default_value: '' }, 'body.default_value'],
    [{ name: 'x', type: 'json', default_value: '{bad' }, 'body.default_value'],
    [{ name: 'x', type: 'string', default_value: 5 }, 'body.default_value'],
    [{ name: 'x', type: 'string' }, 'body.default_value'],
    [{ name: 'x', type: 'number', variants: { a: 1, b: 'two' }, default_variant: 'a', off_variant: 'a' }, 'body.variants.b'],
    [{ name: 'x', type: 'number', variants: { a: 1, b: 2 }, default_variant: 'ghost', off_variant: 'a' }, 'body.default_variant']
  ]
  t.same(await failingInOrder(cases, async ([payload, field]) => {
    const { body, wrong } = await refusal(ctx, post(payload), 400, 'FLAGPOST_ERR_VALIDATION')
    if (fields(body)[0] !== field) wrong.push(`names ${String(fields(body)[0])}, not ${field}`)
    if (!String(body.detail).includes(field)) wrong.push(`detail ${String(body.detail)}`)
    return wrong.length === 0 ? undefined : { case: JSON.stringify(payload), wrong }
  }), [], `each of ${cases.length} POSTs: a 400 problem naming the field first and in the detail, nothing written`)
  t.equal((await ctx.app.inject({ url: '/flags/x' })).statusCode, 404)
  // the same through PUT
  const puts = cases.slice(1, 20).map(([{ name, ...patch }, field]): [string, InjectOptions, string] => [`PUT ${JSON.stringify(patch)}`, { method: 'PUT', url: '/flags/base', payload: patch }, field])
  t.same(await allRefused(ctx, puts, 400, 'FLAGPOST_ERR_VALIDATION'), [], `the same through PUT (${puts.length} patches): a 400 problem naming the field, nothing written`)
})

t.test('missing name, unknown top-level and nested fields', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'base' })
  let body = await refused(t, ctx, post({ description: 'no name' }), 400, 'FLAGPOST_ERR_VALIDATION')
  t.same(body.errors, [{ field: 'body.name', message: 'is required' }])
  body = await refused(t, ctx, post({ name: 'x', extra: 1 }), 400, 'FLAGPOST_ERR_VALIDATION')
  t.same(body.errors, [{ field: 'body.extra', message: 'is not a known field' }])
  body = await refused(t, ctx, post({ name: 'x', targeting_rules: { user_ids: ['a'], foo: 1 } }), 400, 'FLAGPOST_ERR_VALIDATION')
  t.equal(fields(body)[0], 'body.targeting_rules.foo')
  body = await refused(t, ctx, post({ name: 'x', extra: 1, other: 2, targeting_rules: { foo: 1 } }), 400, 'FLAGPOST_ERR_VALIDATION')
  for (const f of ['body.extra', 'body.other', 'body.targeting_rules.foo']) t.ok(fields(body).includes(f), `lists ${f}`)
  body = await refused(t, ctx, { method: 'PUT', url: '/flags/base', payload: { extra: true } }, 400, 'FLAGPOST_ERR_VALIDATION')
  t.same(fields(body), ['body.extra'])
  body = await refused(t, ctx, { method: 'PUT', url: '/flags/base', payload: { targeting_rules: { foo: 1 } } }, 400, 'FLAGPOST_ERR_VALIDATION')
  t.equal(fields(body)[0], 'body.targeting_rules.foo')
  body = await refused(t, ctx, raw('POST', '/flags', '[]'), 400, 'FLAGPOST_ERR_VALIDATION')
  t.same(fields(body), ['body'])
})

t.test('invalid and hostile names are 400; 128 characters is fine', async (t) => {
  const ctx = await build(t)
  const bad = ['has space', '../x', 'x'.repeat(129), 'flägg', '名前', '', '.hidden', '-x', 'a/b', 'a%2Fb', '<script>alert(1)</script>',
    "'; drop table flags; --", 'a\u0000b', 'tab\tname', 'line\nbreak']
  t.same(await failingInOrder(bad, async (name) => {
    const { body, wrong } = await refusal(ctx, post({ name }), 400, 'FLAGPOST_ERR_VALIDATION')
    if (JSON.stringify(fields(body)) !== '["body.name"]') wrong.push(`fields ${JSON.stringify(fields(body))}`)
    return wrong.length === 0 ? undefined : { case: `name ${JSON.stringify(name)}`, wrong }
  }), [], `each of ${bad.length} names: a 400 problem naming only body.name, nothing written`)
  const long = 'L'.repeat(128)
  const flag = await createFlag(ctx, { name: long })
  t.equal(flag.name, long)
  t.equal((await ctx.app.inject({ url: `/flags/${long}` })).statusCode, 200)
})

t.test('hostile strings are stored verbatim; 10 kB description, 10,001 ids, bad percentages are 400', async (t) => {
  const ctx = await build(t)
  const script = '<script>alert("x")</script>'
  const sql = "'; drop table flags; --"
  const flag = await createFlag(ctx, { name: 'hostile', description: script, metadata: { note: sql }, targeting_rules: { user_ids: [sql, script] } })
  t.equal(flag.description, script)
  const got = (await ctx.app.inject({ url: '/flags/hostile' })).json()
  t.equal(got.description, script)
  t.same(got.metadata, { note: sql })
  t.same(got.targeting_rules.user_ids, [sql, script])
  const ev = await ctx.app.inject({ url: `/evaluate/hostile?user_id=${encodeURIComponent(sql)}` })
  t.match(ev.json(), { value: true, reason: 'TARGETING_MATCH' })
  t.equal((await ctx.app.inject({ url: '/flags' })).json().flags.length, 1, 'table intact')

  let body = await refused(t, ctx, post({ name: 'x', description: 'd'.repeat(10_000) }), 400, 'FLAGPOST_ERR_VALIDATION')
  t.same(fields(body), ['body.description'])
  t.equal((await createFlag(ctx, { name: 'd1000', description: 'd'.repeat(1000) })).description, 'd'.repeat(1000))

  const ids = Array.from({ length: 10_001 }, (_, i) => `u${i}`)
  body = await refused(t, ctx, post({ name: 'x', targeting_rules: { user_ids: ids } }), 400, 'FLAGPOST_ERR_VALIDATION')
  t.equal(fields(body)[0], 'body.targeting_rules.user_ids')
  body = await refused(t, ctx, post({ name: 'x', targeting_rules: { customer_ids: ids } }), 400, 'FLAGPOST_ERR_VALIDATION')
  t.equal(fields(body)[0], 'body.targeting_rules.customer_ids')
  const max = await createFlag(ctx, { name: 'ten_k', targeting_rules: { user_ids: ids.slice(0, 10_000) } })
  t.equal((max.targeting_rules as Json).user_ids.length, 10_000)

  const percentages = [101, -1, 33.333, 100.01].flatMap((percentage): Array<[string, InjectOptions, string]> => [
    [`POST percentage ${percentage}`, post({ name: 'x', targeting_rules: { percentage } }), 'body.targeting_rules.percentage'],
    [`PUT percentage ${percentage}`, { method: 'PUT', url: '/flags/hostile', payload: { targeting_rules: { percentage } } }, 'body.targeting_rules.percentage']
  ])
  t.same(await allRefused(ctx, percentages, 400, 'FLAGPOST_ERR_VALIDATION'), [], 'percentages 101, -1, 33.333, 100.01 by POST and PUT: a 400 problem naming the percentage, nothing written')
  t.equal((await createFlag(ctx, { name: 'p', targeting_rules: { percentage: 33.33 } }) as Json).targeting_rules.percentage, 33.33)
})

t.test('__proto__, invalid JSON, empty body', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'base' })
  const pollution = ['{"name":"p","__proto__":{"polluted":true}}', '{"name":"p","metadata":{"__proto__":{"polluted":true}}}',
    '{"name":"p","constructor":{"prototype":{"polluted":true}}}']
  t.same(await allRefused(ctx, pollution.map((payload) => [payload, raw('POST', '/flags', payload)]), 400, 'FLAGPOST_ERR_INVALID_JSON'), [], '__proto__ and constructor.prototype keys: 400 invalid JSON, nothing written')
  await refused(t, ctx, raw('PUT', '/flags/base', '{"__proto__":{"enabled":false}}'), 400, 'FLAGPOST_ERR_INVALID_JSON')
  await refused(t, ctx, raw('PUT', '/flags/base', '{"__proto__":{"enabled":false}}', 'application/merge-patch+json'), 400, 'FLAGPOST_ERR_INVALID_JSON')
  t.equal(({} as Json).polluted, undefined, 'no prototype pollution')
  const broken = ['{"name":', '{name: "x"}', "{'name':'x'}", '{"name":"x",}', '']
  t.same(await allRefused(ctx, broken.map((payload) => [`body ${JSON.stringify(payload)}`, raw('POST', '/flags', payload)]), 400, 'FLAGPOST_ERR_INVALID_JSON'), [], 'broken JSON and an empty body: 400 invalid JSON, nothing written')
  await refused(t, ctx, raw('PUT', '/flags/base', '{"enabled":'), 400, 'FLAGPOST_ERR_INVALID_JSON')
  await refused(t, ctx, raw('PUT', '/flags/base', '{"enabled":', 'application/merge-patch+json'), 400, 'FLAGPOST_ERR_INVALID_JSON')
  await refused(t, ctx, raw('POST', '/flags/base/rename', 'nope'), 400, 'FLAGPOST_ERR_INVALID_JSON')
})

t.test('body over BODY_LIMIT is 413; non-JSON media types are 415', async (t) => {
  const ctx = await build(t, { BODY_LIMIT: '2048' })
  await createFlag(ctx, { name: 'base' })
  const big = { name: 'big', targeting_rules: { user_ids: Array.from({ length: 300 }, (_, i) => `user-${i}`) } }
  t.ok(JSON.stringify(big).length > 2048)
  await refused(t, ctx, post(big), 413, 'FLAGPOST_ERR_BODY_TOO_LARGE')
  const patch = JSON.stringify({ targeting_rules: big.targeting_rules })
  await refused(t, ctx, raw('PUT', '/flags/base', patch), 413, 'FLAGPOST_ERR_BODY_TOO_LARGE')
  await refused(t, ctx, raw('PUT', '/flags/base', patch, 'application/merge-patch+json'), 413, 'FLAGPOST_ERR_BODY_TOO_LARGE')
  await refused(t, ctx, raw('POST', '/flags/base/rename', JSON.stringify({ new_name: 'n'.repeat(3000) })), 413, 'FLAGPOST_ERR_BODY_TOO_LARGE')

  await refused(t, ctx, raw('POST', '/flags', JSON.stringify({ name: 'plain' }), 'text/plain'), 415, 'FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE', 'POST text/plain')
  await refused(t, ctx, raw('PUT', '/flags/base', JSON.stringify({ enabled: false }), 'text/plain'), 415, 'FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE', 'PUT text/plain')
  await refused(t, ctx, raw('POST', '/flags', '<flag name="x"/>', 'application/xml'), 415, 'FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE', 'POST xml')
  await refused(t, ctx, raw('POST', '/flags', 'name=x', 'application/x-www-form-urlencoded'), 415, 'FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE', 'POST form')
})

t.test('auth on every write route', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'base' })
  const writes: InjectOptions[] = [
    post({ name: 'new_one' }),
    { method: 'PUT', url: '/flags/base', payload: { enabled: false } },
    { method: 'DELETE', url: '/flags/base' },
    { method: 'POST', url: '/flags/base/rename', payload: { new_name: 'renamed' } }
  ]
  const as = (opts: InjectOptions, headers: Record<string, string>): InjectOptions => ({ ...opts, headers: { ...headers } })
  // ctx.write adds the write key unless overridden; an empty x-api-key counts as none.
  const label = (opts: InjectOptions, what: string): string => `${String(opts.method)} ${String(opts.url)} ${what}`
  const unauthorized = writes.flatMap((opts): Array<[string, InjectOptions]> => [
    [label(opts, 'no key'), as(opts, { 'x-api-key': '' })],
    [label(opts, 'wrong key'), as(opts, { 'x-api-key': 'not-a-real-key-0123456789' })],
    [label(opts, 'truncated key'), as(opts, { 'x-api-key': WRITE_KEY.slice(0, -1) })],
    [label(opts, 'wrong bearer'), as(opts, { 'x-api-key': '', authorization: `Bearer ${WRITE_KEY}x` })],
    [label(opts, 'basic'), as(opts, { 'x-api-key': '', authorization: `Basic ${WRITE_KEY}` })]
  ])
  t.same(await allRefused(ctx, unauthorized, 401, 'FLAGPOST_ERR_UNAUTHORIZED'), [], 'every write route: no key, a wrong or truncated key, a wrong bearer, Basic: 401, nothing written')
  const forbidden = writes.flatMap((opts): Array<[string, InjectOptions]> => [
    [label(opts, 'read key'), as(opts, { 'x-api-key': READ_KEY })],
    [label(opts, 'read bearer'), as(opts, { 'x-api-key': '', authorization: `Bearer ${READ_KEY}` })]
  ])
  t.same(await allRefused(ctx, forbidden, 403, 'FLAGPOST_ERR_FORBIDDEN'), [], 'every write route with the read key, as X-API-Key or bearer: 403, nothing written')
  // a request with no headers at all, straight through app.inject
  const before = await state(ctx)
  const bare = await ctx.app.inject({ method: 'POST', url: '/flags', payload: { name: 'bare' } })
  t.equal(bare.statusCode, 401)
  t.equal(bare.json().code, 'FLAGPOST_ERR_UNAUTHORIZED')
  t.same(await state(ctx), before)
  // an unauthenticated client learns nothing about the body: 401 before validation
  const junk = await ctx.app.inject({ method: 'POST', url: '/flags', payload: '{bad json', headers: { 'content-type': 'application/json' } })
  t.equal(junk.statusCode, 401)

  const bearer = await ctx.app.inject({ method: 'POST', url: '/flags', payload: { name: 'via_bearer' }, headers: { authorization: `Bearer ${WRITE_KEY}` } })
  t.equal(bearer.statusCode, 201)
  t.equal(bearer.headers.location, '/flags/via_bearer')
  const lower = await ctx.app.inject({ method: 'PUT', url: '/flags/via_bearer', payload: { enabled: false }, headers: { authorization: `bearer ${WRITE_KEY}` } })
  t.equal(lower.statusCode, 200)
  // reads stay open without AUTH_READS
  t.equal((await ctx.app.inject({ url: '/flags' })).statusCode, 200)
  t.equal((await ctx.app.inject({ url: '/flags/base' })).statusCode, 200)
})

t.test('change log: exactly one revision per successful write; a rename lists both names', async (t) => {
  const ctx = await build(t)
  const repo = ctx.container.repositories.flags
  const step = async (opts: InjectOptions, status: number, names: string[] | null): Promise<void> => {
    const rev = await revisionOf(ctx)
    const res = await ctx.write(opts)
    t.equal(res.statusCode, status, `${String(opts.method)} ${String(opts.url)}: ${res.body.slice(0, 200)}`)
    if (names === null) { t.equal(await revisionOf(ctx), rev, 'no revision'); return }
    t.equal(await revisionOf(ctx), rev + 1, 'one revision')
    const change = await repo.changesSince(rev, 10)
    t.equal(change.revision, rev + 1)
    t.same([...change.names].sort(), [...names].sort())
  }
  t.equal(await revisionOf(ctx), 0)
  await step(post({ name: 'a' }), 201, ['a'])
  await step(post({ name: 'b' }), 201, ['b'])
  await step(post({ name: 'a' }), 409, null)
  await step({ method: 'PUT', url: '/flags/a', payload: { description: 'x' } }, 200, ['a'])
  await step({ method: 'PUT', url: '/flags/a', payload: { description: 'x' } }, 200, null)
  await step({ method: 'PUT', url: '/flags/a', payload: { description: 'y' }, headers: { 'if-match': '"1"' } }, 412, null)
  await step({ method: 'POST', url: '/flags/a/rename', payload: { new_name: 'c' } }, 200, ['a', 'c'])
  await step({ method: 'POST', url: '/flags/c/rename', payload: { new_name: 'b' } }, 409, null)
  await step({ method: 'DELETE', url: '/flags/c' }, 204, ['c'])
  await step({ method: 'DELETE', url: '/flags/c' }, 404, null)
  t.equal(await revisionOf(ctx), 5)
  const all = await repo.changesSince(0, 10)
  t.same([...all.names].sort(), ['a', 'b', 'c'])
})
