import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import { build, createFlag, isProblem, revisionOf, type TestApp } from '../helper.js'
import { badQueries } from '../support/refusals.js'

type Json = Record<string, any>

const getFlag = async (ctx: TestApp, name: string): Promise<LightMyRequestResponse> => ctx.app.inject({ url: `/flags/${name}` })
const list = async (ctx: TestApp, qs: string): Promise<Json> => {
  const res = await ctx.app.inject({ url: `/flags${qs}` })
  if (res.statusCode !== 200) throw new Error(`GET /flags${qs}: ${res.statusCode} ${res.body}`)
  return res.json()
}

t.test('POST /flags', async (t) => {
  t.test('201 with Location, ETag "1" and the explicit stored flag', async (t) => {
    const ctx = await build(t)
    const before = await revisionOf(ctx)
    const res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'new_checkout.flow-2', description: 'Checkout' } })
    t.equal(res.statusCode, 201)
    t.equal(res.headers.location, '/flags/new_checkout.flow-2')
    t.equal(res.headers.etag, '"1"')
    t.match(res.headers['content-type'], /^application\/json/)
    const body = res.json()
    t.match(body, {
      name: 'new_checkout.flow-2',
      description: 'Checkout',
      type: 'boolean',
      enabled: true,
      default_value: true,
      off_value: false,
      default_variant: 'on',
      off_variant: 'off',
      tags: [],
      metadata: {},
      version: 1
    })
    t.same(body.variants, { on: true, off: false })
    t.same(body.targeting_rules, { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' })
    t.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    t.equal(body.updated_at, body.created_at)
    t.equal(await revisionOf(ctx), before + 1, 'exactly one change-log row')

    const got = await getFlag(ctx, 'new_checkout.flow-2')
    t.equal(got.statusCode, 200)
    t.equal(got.headers.etag, '"1"')
    t.same(got.json(), body, 'GET returns what POST returned')
  })

  t.test('boolean coercion: "true", "false", "True"', async (t) => {
    const ctx = await build(t)
    t.match(await createFlag(ctx, { name: 'b1', default_value: 'true' }), { default_value: true, off_value: false, variants: { on: true, off: false } })
    t.match(await createFlag(ctx, { name: 'b2', default_value: 'false', off_value: 'True' }), { default_value: false, off_value: true })
    t.match(await createFlag(ctx, { name: 'b3', type: 'boolean', default_value: 'True' }), { default_value: true })
    t.match(await createFlag(ctx, { name: 'b4', default_value: false }), { default_value: false, off_value: false })
    t.match((await getFlag(ctx, 'b2')).json(), { default_value: false, off_value: true, variants: { on: false, off: true } })
  })

  t.test('number, json and string flags, with off_value defaults by type', async (t) => {
    const ctx = await build(t)
    const num = await createFlag(ctx, { name: 'n', type: 'number', default_value: '12.5' })
    t.equal(num.default_value, 12.5)
    t.equal(num.off_value, 0)
    t.same(num.variants, { on: 12.5, off: 0 })
    const num2 = await createFlag(ctx, { name: 'n2', type: 'number', default_value: 3, off_value: '-1.25' })
    t.same(num2.variants, { on: 3, off: -1.25 })

    const json = await createFlag(ctx, { name: 'j', type: 'json', default_value: '{"a":1}' })
    t.same(json.default_value, { a: 1 })
    t.equal(json.off_value, null)
    t.same(json.variants, { on: { a: 1 }, off: null })
    const json2 = await createFlag(ctx, { name: 'j2', type: 'json', default_value: { list: [1, 2] }, off_value: '[]' })
    t.same(json2.variants, { on: { list: [1, 2] }, off: [] })

    const str = await createFlag(ctx, { name: 's', type: 'string', default_value: 'hello' })
    t.equal(str.default_value, 'hello')
    t.equal(str.off_value, '')
    t.same(str.variants, { on: 'hello', off: '' })

    for (const name of ['n', 'j', 's']) {
      const got = (await getFlag(ctx, name)).json()
      t.same(got.variants, { n: { on: 12.5, off: 0 }, j: { on: { a: 1 }, off: null }, s: { on: 'hello', off: '' } }[name], `${name} stored`)
    }
  })

  t.test('variants with default_variant and off_variant', async (t) => {
    const ctx = await build(t)
    const flag = await createFlag(ctx, {
      name: 'colour', type: 'string', variants: { blue: '#00f', green: '#0f0', red: '#f00' }, default_variant: 'blue', off_variant: 'red'
    })
    t.same(flag.variants, { blue: '#00f', green: '#0f0', red: '#f00' })
    t.equal(flag.default_variant, 'blue')
    t.equal(flag.off_variant, 'red')
    t.equal(flag.default_value, '#00f')
    t.equal(flag.off_value, '#f00')
    const ev = await ctx.app.inject({ url: '/evaluate/colour?user_id=u1' })
    t.equal(ev.statusCode, 200)
    t.match(ev.json(), { name: 'colour', value: '#00f', variant: 'blue', type: 'string', version: 1 })
  })

  t.test('percentage stored explicitly: 0 with user_ids or customer_ids, else 100; an explicit one kept', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'users', targeting_rules: { user_ids: ['alice', 'bob', 'alice'] } })
    await createFlag(ctx, { name: 'customers', targeting_rules: { customer_ids: ['acme', 42] } })
    await createFlag(ctx, { name: 'everyone' })
    await createFlag(ctx, { name: 'half', targeting_rules: { user_ids: ['alice'], percentage: 12.5 } })
    const tr = async (name: string): Promise<Json> => (await getFlag(ctx, name)).json().targeting_rules
    t.same(await tr('users'), { user_ids: ['alice', 'bob'], customer_ids: [], rules: [], percentage: 0, rollout: null, bucket_by: 'user_id' })
    t.same((await tr('customers')).customer_ids, ['acme', '42'], 'integer ids stored as strings')
    t.equal((await tr('customers')).percentage, 0)
    t.equal((await tr('everyone')).percentage, 100)
    t.equal((await tr('half')).percentage, 12.5)
    const bob = await ctx.app.inject({ url: '/evaluate/users?user_id=bob' })
    t.match(bob.json(), { value: true, reason: 'TARGETING_MATCH' })
    const carol = await ctx.app.inject({ url: '/evaluate/users?user_id=carol' })
    t.match(carol.json(), { value: false, variant: 'off' })
  })

  t.test('rollout over variants; 400 with both percentage and rollout, or an unknown rollout key', async (t) => {
    const ctx = await build(t)
    const flag = await createFlag(ctx, {
      name: 'split',
      type: 'string',
      variants: { blue: 'b', green: 'g' },
      default_variant: 'blue',
      off_variant: 'green',
      targeting_rules: { rollout: { blue: 25.5, green: 74.5 }, bucket_by: 'customer_id' }
    })
    t.same(flag.targeting_rules, { user_ids: [], customer_ids: [], rules: [], percentage: null, rollout: { blue: 25.5, green: 74.5 }, bucket_by: 'customer_id' })
    t.same((await getFlag(ctx, 'split')).json().targeting_rules.rollout, { blue: 25.5, green: 74.5 })

    const rev = await revisionOf(ctx)
    const both = await ctx.write({
      method: 'POST',
      url: '/flags',
      payload: { name: 'both', targeting_rules: { percentage: 50, rollout: { on: 50, off: 50 } } }
    })
    const b1 = isProblem(t, both, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
    t.ok(b1.errors.some((e: Json) => e.field === 'body.targeting_rules'), 'names targeting_rules')
    const unknown = await ctx.write({
      method: 'POST',
      url: '/flags',
      payload: { name: 'unknown_key', targeting_rules: { rollout: { on: 50, purple: 50 } } }
    })
    const b2 = isProblem(t, unknown, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
    t.same(b2.errors.map((e: Json) => e.field), ['body.targeting_rules.rollout.purple'])
    t.equal(await revisionOf(ctx), rev)
    t.equal((await getFlag(ctx, 'both')).statusCode, 404)
    t.equal((await getFlag(ctx, 'unknown_key')).statusCode, 404)
  })

  t.test('tags deduplicated, metadata round-trips', async (t) => {
    const ctx = await build(t)
    const metadata = { owner: 'checkout-team', ticket: 1234, critical: true, ratio: 0.5 }
    const flag = await createFlag(ctx, { name: 'tagged', tags: ['web', 'beta', 'web', 'team:checkout', 'beta'], metadata })
    t.same(flag.tags, ['web', 'beta', 'team:checkout'])
    t.same(flag.metadata, metadata)
    t.same((await getFlag(ctx, 'tagged')).json(), flag)
  })

  t.test('409 on a duplicate name; the original is unchanged', async (t) => {
    const ctx = await build(t)
    const original = await createFlag(ctx, { name: 'dup', description: 'first', type: 'number', default_value: 1 })
    const rev = await revisionOf(ctx)
    const res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'dup', description: 'second', default_value: true } })
    const body = isProblem(t, res, 409, 'FLAGPOST_ERR_FLAG_EXISTS', '/flags')
    t.match(body.detail, /dup/)
    t.equal(await revisionOf(ctx), rev)
    t.same((await getFlag(ctx, 'dup')).json(), original)
  })
})

t.test('GET /flags', async (t) => {
  t.test('walks every page in name order; next_cursor null at the end', async (t) => {
    const ctx = await build(t)
    const names = ['golf', 'alpha', 'echo', 'charlie', 'bravo', 'foxtrot', 'delta']
    for (const name of names) await createFlag(ctx, { name })
    const sorted = [...names].sort()

    const seen: string[] = []
    const pages: number[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const page: Json = await list(ctx, `?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      pages.push(page.flags.length)
      seen.push(...page.flags.map((f: Json) => f.name))
      cursor = page.next_cursor
      if (cursor === null) break
      t.type(cursor, 'string')
    }
    t.same(pages, [3, 3, 1])
    t.same(seen, sorted)
    t.equal(cursor, null)

    const all = await list(ctx, '')
    t.same(all.flags.map((f: Json) => f.name), sorted, 'default limit returns all 7')
    t.equal(all.next_cursor, null)
    t.match(all.flags[0], { name: 'alpha', type: 'boolean', version: 1, targeting_rules: { percentage: 100 } })

    const exact = await list(ctx, '?limit=7')
    t.equal(exact.flags.length, 7)
    t.equal(exact.next_cursor, null, 'no cursor when the page holds the last flag')
    const one = await list(ctx, '?limit=1')
    t.same(one.flags.map((f: Json) => f.name), ['alpha'])
    const next = await list(ctx, `?limit=1000&cursor=${encodeURIComponent(one.next_cursor)}`)
    t.same(next.flags.map((f: Json) => f.name), sorted.slice(1))
  })

  t.test('?tag= and ?q= (case-insensitive, name and description, % and _ literal)', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'a_b', tags: ['web'] })
    await createFlag(ctx, { name: 'axb', tags: ['web', 'beta'], description: 'Checkout REDESIGN' })
    await createFlag(ctx, { name: 'Checkout-v2', tags: ['mobile'] })
    await createFlag(ctx, { name: 'pct', description: 'ramp to 100% of users' })
    await createFlag(ctx, { name: 'plain', description: '100 users' })
    const names = async (qs: string): Promise<string[]> => (await list(ctx, qs)).flags.map((f: Json) => f.name)

    t.same(await names('?tag=web'), ['a_b', 'axb'])
    t.same(await names('?tag=beta'), ['axb'])
    t.same(await names('?tag=nope'), [])
    t.same(await names('?q=checkout'), ['Checkout-v2', 'axb'], 'name or description, any case')
    t.same(await names('?q=REDESIGN'), ['axb'])
    t.same(await names('?q=_'), ['a_b'], '_ is not a wildcard')
    t.same(await names(`?q=${encodeURIComponent('%')}`), ['pct'], '% is not a wildcard')
    t.same(await names(`?q=${encodeURIComponent('100%')}`), ['pct'])
    t.same(await names('?q=checkout&tag=web'), ['axb'])
    const page = await list(ctx, '?tag=web&limit=1')
    t.same(page.flags.map((f: Json) => f.name), ['a_b'])
    t.same(await names(`?tag=web&limit=1&cursor=${encodeURIComponent(page.next_cursor)}`), ['axb'])
  })

  t.test('bad cursor and bad limits are 400', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'x' })
    const queries: Array<[string, string]> = [
      ...['cursor=zzzz', 'cursor=%21%21', `cursor=${Buffer.from('../x').toString('base64url')}`].map((qs): [string, string] => [qs, 'query.cursor']),
      ...['0', '1001', 'abc', '-1', '2.5'].map((limit): [string, string] => [`limit=${limit}`, 'query.limit'])
    ]
    t.same(await badQueries((url) => ctx.app.inject({ url }), '/flags', queries), [], `each of ${queries.length} bad cursors and limits: a 400 problem naming exactly that parameter`)
    t.equal((await ctx.app.inject({ url: '/flags?limit=1000' })).statusCode, 200)
  })
})

t.test('GET /flags/{name}', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'etagged' })
  await ctx.write({ method: 'PUT', url: '/flags/etagged', payload: { enabled: false } })
  const res = await getFlag(ctx, 'etagged')
  t.equal(res.statusCode, 200)
  t.equal(res.json().version, 2)
  t.equal(res.headers.etag, '"2"')

  const missing = await getFlag(ctx, 'nope')
  const body = isProblem(t, missing, 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/nope')
  t.match(body.detail, /nope/)
})

t.test('DELETE /flags/{name}', async (t) => {
  t.test('204, then GET and evaluate are 404; unknown is 404', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'gone' })
    await createFlag(ctx, { name: 'stays' })
    const rev = await revisionOf(ctx)
    const res = await ctx.write({ method: 'DELETE', url: '/flags/gone' })
    t.equal(res.statusCode, 204)
    t.equal(res.body, '')
    t.equal(await revisionOf(ctx), rev + 1)
    isProblem(t, await getFlag(ctx, 'gone'), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/gone')
    isProblem(t, await ctx.app.inject({ url: '/evaluate/gone?user_id=a' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/evaluate/gone')
    t.same((await list(ctx, '')).flags.map((f: Json) => f.name), ['stays'])
    isProblem(t, await ctx.write({ method: 'DELETE', url: '/flags/gone' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/gone')
    isProblem(t, await ctx.write({ method: 'DELETE', url: '/flags/never' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/never')
    t.equal(await revisionOf(ctx), rev + 1, 'failed deletes write nothing')
    // the name is free again
    t.equal((await createFlag(ctx, { name: 'gone', type: 'number', default_value: 2 })).version, 1)
  })

  t.test('If-Match: stale is 412 and the flag stays; current deletes', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'guarded' })
    await ctx.write({ method: 'PUT', url: '/flags/guarded', payload: { description: 'v2' } })
    const before = (await getFlag(ctx, 'guarded')).json()
    const rev = await revisionOf(ctx)
    const stale = await ctx.write({ method: 'DELETE', url: '/flags/guarded', headers: { 'if-match': '"1"' } })
    isProblem(t, stale, 412, 'FLAGPOST_ERR_VERSION_MISMATCH', '/flags/guarded')
    t.equal(await revisionOf(ctx), rev)
    t.same((await getFlag(ctx, 'guarded')).json(), before)
    t.equal((await ctx.app.inject({ url: '/evaluate/guarded' })).statusCode, 200)
    const ok = await ctx.write({ method: 'DELETE', url: '/flags/guarded', headers: { 'if-match': '"2"' } })
    t.equal(ok.statusCode, 204)
    t.equal((await getFlag(ctx, 'guarded')).statusCode, 404)
  })
})
