import t, { type Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { build, createFlag, isProblem, READ_KEY, refused, wrote, type TestApp } from '../helper.js'
import { badQueries, refusal } from '../support/refusals.js'

type Json = Record<string, any>

const put = (t: Test, ctx: TestApp, flag: string, kind: 'customers' | 'users', id: string, payload: Json): Promise<LightMyRequestResponse> =>
  wrote(t, ctx, { method: 'PUT', url: `/flags/${flag}/overrides/${kind}/${encodeURIComponent(id)}`, payload }, 200)
const get = (ctx: TestApp, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => ctx.app.inject({ url, headers })
const evaluate = async (ctx: TestApp, flag: string, qs: string): Promise<Json> => {
  const res = await get(ctx, `/evaluate/${flag}?${qs}`)
  if (res.statusCode !== 200) throw new Error(`evaluate ${flag}?${qs}: ${res.statusCode} ${res.body}`)
  return res.json()
}
const overrides = async (ctx: TestApp, flag: string, qs = ''): Promise<string[]> => {
  const res = await get(ctx, `/flags/${flag}/overrides${qs}`)
  if (res.statusCode !== 200) throw new Error(`overrides ${flag}${qs}: ${res.statusCode} ${res.body}`)
  return res.json().overrides.map((o: Json) => `${o.subject}:${o.id}:${String(o.enabled)}`)
}
const customers = async (ctx: TestApp, flag: string, qs = ''): Promise<string[]> => {
  const res = await get(ctx, `/flags/${flag}/customers${qs}`)
  if (res.statusCode !== 200) throw new Error(`customers ${flag}${qs}: ${res.statusCode} ${res.body}`)
  return res.json().customers.map((c: Json) => c.id)
}

t.test('PUT /flags/{name}/overrides/{customers|users}/{id}', async (t) => {
  t.test('200 with the override; the subject is registered; evaluation follows (one revision each)', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    const res = await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
    const body = res.json()
    t.same(Object.keys(body).sort(), ['enabled', 'flag', 'id', 'subject', 'updated_at', 'variant'])
    t.match(body, { flag: 'beta', subject: 'customer', id: 'acme', enabled: true, variant: null })
    t.match(body.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    t.match((await get(ctx, '/customers/acme')).json(), { id: 'acme', name: null }, 'the customer is registered')
    t.strictSame(await evaluate(ctx, 'beta', 'customer_id=acme'),
      { name: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'customer_override', metadata: {} })
    t.match(await evaluate(ctx, 'beta', 'customer_id=globex'), { value: false, rule: 'fallthrough' })

    const user = (await put(t, ctx, 'beta', 'users', 'alice@example.com', { enabled: true })).json()
    t.match(user, { flag: 'beta', subject: 'user', id: 'alice@example.com', enabled: true, variant: null })
    t.match((await get(ctx, '/users/alice@example.com')).json(), { id: 'alice@example.com', customer_id: null }, 'the user is registered')
    t.strictSame(await evaluate(ctx, 'beta', 'user_id=alice@example.com'),
      { name: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'user_override', metadata: {} })
    t.match((await evaluate(ctx, 'beta', 'user_id=bob')), { value: false, rule: 'fallthrough' })
    t.equal((await get(ctx, '/flags/beta')).json().version, 1, 'overrides are not flag versions')
  })

  t.test('a second PUT replaces the override; enabled=false serves the off variant', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'everyone' })
    await put(t, ctx, 'everyone', 'users', 'alice', { enabled: true })
    const off = (await put(t, ctx, 'everyone', 'users', 'alice', { enabled: false })).json()
    t.match(off, { enabled: false, variant: null })
    t.same(await overrides(ctx, 'everyone'), ['user:alice:false'], 'one row, replaced')
    t.strictSame(await evaluate(ctx, 'everyone', 'user_id=alice'),
      { name: 'everyone', value: false, variant: 'off', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'user_override', metadata: {} })
    // with an override the flag has targeting: a context it does not match falls through with DEFAULT, no longer STATIC
    t.match(await evaluate(ctx, 'everyone', 'user_id=bob'), { value: true, reason: 'DEFAULT', rule: 'fallthrough' })
    t.match(await evaluate(ctx, 'everyone', 'targetingKey=alice'), { value: false, rule: 'user_override' }, 'targetingKey is user_id')
  })

  t.test('variant: serves that variant; null clears it; an unknown one is a 400', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, {
      name: 'colour', type: 'string', variants: { blue: '#00f', green: '#0f0', grey: '#999' }, default_variant: 'blue', off_variant: 'grey'
    })
    t.match((await put(t, ctx, 'colour', 'customers', 'acme', { enabled: true, variant: 'green' })).json(), { variant: 'green' })
    t.match(await evaluate(ctx, 'colour', 'customer_id=acme'), { value: '#0f0', variant: 'green', reason: 'TARGETING_MATCH', rule: 'customer_override' })
    t.match((await put(t, ctx, 'colour', 'customers', 'acme', { enabled: true, variant: null })).json(), { variant: null })
    t.match(await evaluate(ctx, 'colour', 'customer_id=acme'), { value: '#00f', variant: 'blue', rule: 'customer_override' })
    await put(t, ctx, 'colour', 'customers', 'acme', { enabled: false })
    t.match(await evaluate(ctx, 'colour', 'customer_id=acme'), { value: '#999', variant: 'grey', rule: 'customer_override' })

    const body = await refused(t, ctx, { method: 'PUT', url: '/flags/colour/overrides/users/alice', payload: { enabled: true, variant: 'purple' } },
      400, 'FLAGPOST_ERR_VALIDATION')
    t.ok(body.errors?.some((e: Json) => e.field === 'body.variant'), `names body.variant: ${JSON.stringify(body.errors)}`)
    t.equal((await get(ctx, '/users/alice')).statusCode, 404, 'a refused override registers nobody')
  })

  t.test('404 for an unknown flag, registering nobody', async (t) => {
    const ctx = await build(t)
    for (const kind of ['customers', 'users']) {
      const body = await refused(t, ctx, { method: 'PUT', url: `/flags/ghost/overrides/${kind}/acme`, payload: { enabled: true } }, 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND')
      t.match(body.detail, /ghost/)
      t.equal((await get(ctx, `/${kind}/acme`)).statusCode, 404, `no ${kind} registered`)
    }
  })

  t.test('400 naming the field: body types, unknown fields, bad or hostile ids', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta' })
    // Every refused write is checked as refused() does; what was wrong is listed and asserted once below.
    const failures: Array<{ case: string, wrong: string[] }> = []
    const bad = async (url: string, payload: unknown, field: string, label: string): Promise<void> => {
      const { body, wrong } = await refusal(ctx, { method: 'PUT', url, payload: payload as Json }, 400, 'FLAGPOST_ERR_VALIDATION')
      if (body.errors?.some((e: Json) => e.field === field) !== true) wrong.push(`does not name ${field}: ${JSON.stringify(body.errors)}`)
      if (wrong.length > 0) failures.push({ case: label, wrong })
    }
    const url = '/flags/beta/overrides/customers/acme'
    await bad(url, {}, 'body.enabled', 'missing enabled')
    await bad(url, { enabled: 'true' }, 'body.enabled', 'string enabled (bodies are not coerced)')
    await bad(url, { enabled: 1 }, 'body.enabled', 'numeric enabled')
    await bad(url, { enabled: null }, 'body.enabled', 'null enabled')
    await bad(url, { enabled: true, variant: 5 }, 'body.variant', 'numeric variant')
    await bad(url, { enabled: true, variant: '' }, 'body.variant', 'empty variant')
    await bad(url, { enabled: true, variant: 'a b' }, 'body.variant', 'variant with a space')
    await bad(url, { enabled: true, value: true }, 'body.value', 'unknown field')
    await bad(url, { enabled: true, subject: 'user' }, 'body.subject', 'a response field')
    await bad(url, [true], 'body', 'an array body')
    for (const [id, why] of [['a%00b', 'NUL'], ['a%20b', 'space'], ['%3Cscript%3E', 'markup'], ['..%2F..%2Fetc', 'traversal'], ['x'.repeat(257), 'too long']]) {
      for (const kind of ['customers', 'users']) {
        await bad(`/flags/beta/overrides/${kind}/${id}`, { enabled: true }, 'params.id', `${kind} id: ${why}`)
        const del = await refusal(ctx, { method: 'DELETE', url: `/flags/beta/overrides/${kind}/${id}` }, 400, 'FLAGPOST_ERR_VALIDATION')
        const named = JSON.stringify(del.body.errors?.map((e: Json) => e.field))
        if (named !== '["params.id"]') del.wrong.push(`names ${named}`)
        if (del.wrong.length > 0) failures.push({ case: `DELETE ${kind} id: ${why}`, wrong: del.wrong })
      }
    }
    t.same(failures.slice(0, 5), [], `30 bad bodies and ids, by PUT and DELETE: each a 400 problem naming the field, nothing written (${failures.length} failed)`)
    t.same(await overrides(ctx, 'beta'), [])
    t.same((await get(ctx, '/customers')).json().customers, [])
  })

  t.test('integer ids in the path are strings', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    t.match((await put(t, ctx, 'beta', 'customers', '42', { enabled: true })).json(), { id: '42' })
    t.match(await evaluate(ctx, 'beta', 'customer_id=42'), { value: true, rule: 'customer_override' })
    const res = await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: { customer_id: 42 } } })
    t.match(res.json().results.beta, { value: true, rule: 'customer_override' }, 'a numeric context customer_id matches too')
  })
})

t.test('precedence: user override > customer override (given or inferred) > targeting; the kill switch beats all', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'beta', targeting_rules: { user_ids: ['carol'], customer_ids: ['initech'] } })
  await wrote(t, ctx, { method: 'POST', url: '/users', payload: { id: 'alice', customer_id: 'acme' } }, 201)
  await wrote(t, ctx, { method: 'POST', url: '/users', payload: { id: 'dave', customer_id: 'acme' } }, 201)
  await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
  await put(t, ctx, 'beta', 'users', 'alice', { enabled: false })
  await put(t, ctx, 'beta', 'customers', 'initech', { enabled: false })

  t.match(await evaluate(ctx, 'beta', 'customer_id=acme'), { value: true, rule: 'customer_override' })
  t.match(await evaluate(ctx, 'beta', 'user_id=dave'), { value: true, rule: 'customer_override' }, 'via the registered user\'s customer')
  t.match(await evaluate(ctx, 'beta', 'user_id=alice'), { value: false, reason: 'TARGETING_MATCH', rule: 'user_override' }, 'user beats inferred customer')
  t.match(await evaluate(ctx, 'beta', 'user_id=alice&customer_id=acme'), { value: false, rule: 'user_override' }, 'user beats given customer')
  t.match(await evaluate(ctx, 'beta', 'customer_id=initech'), { value: false, rule: 'customer_override' }, 'override beats customer_ids')
  t.match(await evaluate(ctx, 'beta', 'user_id=carol&customer_id=initech'), { value: false, rule: 'customer_override' }, 'customer override beats user_ids')
  t.match(await evaluate(ctx, 'beta', 'user_id=carol'), { value: true, rule: 'user_ids' })

  await wrote(t, ctx, { method: 'PUT', url: '/flags/beta', payload: { enabled: false } }, 200)
  for (const qs of ['customer_id=acme', 'user_id=dave', 'user_id=alice', 'user_id=carol']) {
    t.match(await evaluate(ctx, 'beta', qs), { value: false, variant: 'off', reason: 'DISABLED', rule: 'disabled' }, `kill switch: ${qs}`)
  }
  const bulk = await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: { user_id: 'dave' } } })
  t.match(bulk.json().results.beta, { reason: 'DISABLED' })
  await wrote(t, ctx, { method: 'PUT', url: '/flags/beta', payload: { enabled: true } }, 200)
  const ofrep = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags/beta', payload: { context: { targetingKey: 'dave' } } })
  t.match(ofrep.json(), { key: 'beta', value: true, reason: 'TARGETING_MATCH' }, 'OFREP applies overrides too')
})

t.test('DELETE /flags/{name}/overrides/{customers|users}/{id}', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
  await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
  await put(t, ctx, 'beta', 'users', 'acme', { enabled: true })

  t.equal((await wrote(t, ctx, { method: 'DELETE', url: '/flags/beta/overrides/customers/acme' }, 204)).body, '')
  t.same(await overrides(ctx, 'beta'), ['user:acme:true'], 'only the customer\'s override, not the user with the same id')
  t.match(await evaluate(ctx, 'beta', 'customer_id=acme'), { value: false, rule: 'fallthrough' })
  t.equal((await get(ctx, '/customers/acme')).statusCode, 200, 'the customer stays registered')

  const none = await refused(t, ctx, { method: 'DELETE', url: '/flags/beta/overrides/customers/acme' }, 404, 'FLAGPOST_ERR_OVERRIDE_NOT_FOUND')
  t.match(none.detail, /acme/)
  await refused(t, ctx, { method: 'DELETE', url: '/flags/beta/overrides/users/nobody' }, 404, 'FLAGPOST_ERR_OVERRIDE_NOT_FOUND')
  await refused(t, ctx, { method: 'DELETE', url: '/flags/ghost/overrides/users/acme' }, 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND')
  await wrote(t, ctx, { method: 'DELETE', url: '/flags/beta/overrides/users/acme' }, 204)
  t.same(await overrides(ctx, 'beta'), [])
})

t.test('GET /flags/{name}/overrides', async (t) => {
  t.test('filters by subject and state; pages in (subject, id) order', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta' })
    await createFlag(ctx, { name: 'other' })
    await put(t, ctx, 'beta', 'users', 'zed', { enabled: true })
    await put(t, ctx, 'beta', 'customers', 'globex', { enabled: false })
    await put(t, ctx, 'beta', 'users', 'alice', { enabled: false })
    await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
    await put(t, ctx, 'beta', 'customers', 'initech', { enabled: true })
    await put(t, ctx, 'beta', 'users', 'bob', { enabled: true })
    await put(t, ctx, 'beta', 'customers', 'umbrella', { enabled: false })
    await put(t, ctx, 'other', 'customers', 'acme', { enabled: false })

    const all = ['customer:acme:true', 'customer:globex:false', 'customer:initech:true', 'customer:umbrella:false',
      'user:alice:false', 'user:bob:true', 'user:zed:true']
    t.same(await overrides(ctx, 'beta'), all)
    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const res = await get(ctx, `/flags/beta/overrides?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      t.equal(res.statusCode, 200, res.body)
      const page: Json = res.json()
      t.ok(page.overrides.every((o: Json) => o.flag === 'beta'))
      sizes.push(page.overrides.length)
      seen.push(...page.overrides.map((o: Json) => `${o.subject}:${o.id}:${String(o.enabled)}`))
      cursor = page.next_cursor
      if (cursor === null) break
    }
    t.same(sizes, [3, 3, 1])
    t.same(seen, all)

    t.same(await overrides(ctx, 'beta', '?subject=customer'), all.slice(0, 4))
    t.same(await overrides(ctx, 'beta', '?subject=user'), all.slice(4))
    t.same(await overrides(ctx, 'beta', '?state=enabled'), all.filter((o) => o.endsWith(':true')))
    t.same(await overrides(ctx, 'beta', '?state=disabled'), all.filter((o) => o.endsWith(':false')))
    t.same(await overrides(ctx, 'beta', '?subject=user&state=disabled'), ['user:alice:false'])
    const first = (await get(ctx, '/flags/beta/overrides?subject=customer&state=enabled&limit=1')).json()
    t.same(first.overrides.map((o: Json) => o.id), ['acme'])
    const next = (await get(ctx, `/flags/beta/overrides?subject=customer&state=enabled&limit=1&cursor=${encodeURIComponent(first.next_cursor)}`)).json()
    t.same(next.overrides.map((o: Json) => o.id), ['initech'])
    t.equal(next.next_cursor, null)
    t.same(await overrides(ctx, 'other'), ['customer:acme:false'])
  })

  t.test('q: ids that start with it, literally, with the filters; the cursor continues within it; per environment', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta' })
    for (const id of ['acme', 'acme_eu', 'acme.us', 'acmexeu', 'ac', 'globex', 'Acme_x']) await put(t, ctx, 'beta', 'customers', id, { enabled: id !== 'acme.us' })
    for (const id of ['acme_bob', 'acme_ann', 'bob', 'acme']) await put(t, ctx, 'beta', 'users', id, { enabled: true })
    await wrote(t, ctx, { method: 'PUT', url: '/environments/development/flags/beta/overrides/customers/acme_dev', payload: { enabled: true } }, 200)

    t.same(await overrides(ctx, 'beta', '?q=acme_'), ['customer:acme_eu:true', 'user:acme_ann:true', 'user:acme_bob:true'], '`_` is not a wildcard; development stays out')
    t.same(await overrides(ctx, 'beta', '?q=acme'), ['customer:acme:true', 'customer:acme.us:false', 'customer:acme_eu:true', 'customer:acmexeu:true',
      'user:acme:true', 'user:acme_ann:true', 'user:acme_bob:true'], 'case-sensitive, customers then users by id')
    t.same(await overrides(ctx, 'beta', '?q=acme&subject=customer&state=disabled'), ['customer:acme.us:false'])
    t.same(await overrides(ctx, 'beta', '?q=acme_&subject=user'), ['user:acme_ann:true', 'user:acme_bob:true'])
    t.same(await overrides(ctx, 'beta', `?q=${encodeURIComponent('a%')}`), [], '`%` is not a wildcard')
    t.same(await overrides(ctx, 'beta', `?q=${encodeURIComponent('acme\\')}`), [])
    t.same(await overrides(ctx, 'beta', '?q=acme_eux'), [])

    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const res = await get(ctx, `/flags/beta/overrides?q=acme&limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      t.equal(res.statusCode, 200, res.body)
      const page: Json = res.json()
      sizes.push(page.overrides.length)
      seen.push(...page.overrides.map((o: Json) => `${o.subject}:${o.id}`))
      cursor = page.next_cursor
      if (cursor === null) break
    }
    t.same({ sizes, seen }, {
      sizes: [3, 3, 1],
      seen: ['customer:acme', 'customer:acme.us', 'customer:acme_eu', 'customer:acmexeu', 'user:acme', 'user:acme_ann', 'user:acme_bob']
    }, 'pages of 3 within the prefix, across customers and users, each once')

    const inDevelopment = (await get(ctx, '/environments/development/flags/beta/overrides?q=acme')).json()
    t.same(inDevelopment.overrides.map((o: Json) => o.id), ['acme_dev'], 'the copy under /environments/{environment} searches its own')
    const q = 'x'.repeat(256)
    t.same(await overrides(ctx, 'beta', `?q=${q}`), [], 'as long as an id can be')
  })

  t.test('404 unknown flag; 400 for bad parameters', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta' })
    isProblem(t, await get(ctx, '/flags/ghost/overrides'), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/ghost/overrides')
    const queries: Array<[string, string]> = [
      ['subject=customers', 'query.subject'], ['subject=team', 'query.subject'], ['state=on', 'query.state'], ['state=explicitly_enabled', 'query.state'],
      ['cursor=not-a-cursor!!', 'query.cursor'], ['limit=0', 'query.limit'], ['limit=1001', 'query.limit'], ['flag=beta', 'query.flag'],
      ['q=', 'query.q'], [`q=${'x'.repeat(257)}`, 'query.q'], ['q=a%00b', 'query.q']
    ]
    t.same(await badQueries((url) => get(ctx, url), '/flags/beta/overrides', queries), [], `each of ${queries.length} bad parameters: a 400 problem naming exactly that parameter`)
  })
})

t.test('overrides follow their flag and subjects: removal and rename', async (t) => {
  t.test('removing the flag removes its overrides', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
    await put(t, ctx, 'beta', 'users', 'alice', { enabled: true })
    await wrote(t, ctx, { method: 'DELETE', url: '/flags/beta' }, 204)
    isProblem(t, await get(ctx, '/flags/beta/overrides'), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/beta/overrides')
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    t.same(await overrides(ctx, 'beta'), [], 'a new flag of the same name starts without overrides')
    t.match(await evaluate(ctx, 'beta', 'customer_id=acme'), { value: false, rule: 'fallthrough' })
    t.match(await evaluate(ctx, 'beta', 'user_id=alice'), { value: false, rule: 'fallthrough' })
    t.equal((await get(ctx, '/customers/acme')).statusCode, 200, 'the subjects stay registered')
  })

  t.test('removing a customer or a user removes its overrides on every flag', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'a' })
    await createFlag(ctx, { name: 'b' })
    for (const flag of ['a', 'b']) {
      await put(t, ctx, flag, 'customers', 'acme', { enabled: false })
      await put(t, ctx, flag, 'users', 'alice', { enabled: false })
      await put(t, ctx, flag, 'customers', 'globex', { enabled: false })
    }
    await wrote(t, ctx, { method: 'DELETE', url: '/customers/acme' }, 204)
    await wrote(t, ctx, { method: 'DELETE', url: '/users/alice' }, 204)
    for (const flag of ['a', 'b']) {
      t.same(await overrides(ctx, flag), ['customer:globex:false'], flag)
      t.match(await evaluate(ctx, flag, 'user_id=alice&customer_id=acme'), { value: true, reason: 'DEFAULT', rule: 'fallthrough' })
    }
  })

  t.test('renaming a flag keeps its overrides', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
    await put(t, ctx, 'beta', 'users', 'alice', { enabled: true })
    await wrote(t, ctx, { method: 'POST', url: '/flags/beta/rename', payload: { new_name: 'gamma' } }, 200)
    const res = await get(ctx, '/flags/gamma/overrides')
    t.same(res.json().overrides.map((o: Json) => `${o.flag}:${o.subject}:${o.id}`), ['gamma:customer:acme', 'gamma:user:alice'])
    t.match(await evaluate(ctx, 'gamma', 'customer_id=acme'), { value: true, rule: 'customer_override' })
    t.match(await evaluate(ctx, 'gamma', 'user_id=alice'), { value: true, rule: 'user_override' })
    isProblem(t, await get(ctx, '/flags/beta/overrides'), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/beta/overrides')
    t.same(await customers(ctx, 'gamma', '?state=explicitly_enabled'), ['acme'])
    await wrote(t, ctx, { method: 'DELETE', url: '/flags/gamma/overrides/users/alice' }, 204)
  })
})

t.test('GET /flags/{name}/customers', async (t) => {
  t.test('enabled (effective, the default), explicitly_enabled, explicitly_disabled', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { customer_ids: ['initech', 'unregistered'] } })
    for (const id of ['umbrella', 'initech', 'hooli']) await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id } }, 201)
    await put(t, ctx, 'beta', 'customers', 'acme', { enabled: true })
    await put(t, ctx, 'beta', 'customers', 'globex', { enabled: false })
    await put(t, ctx, 'beta', 'customers', 'hooli', { enabled: false })
    await put(t, ctx, 'beta', 'users', 'alice', { enabled: true })

    t.same(await customers(ctx, 'beta'), ['acme', 'initech'], 'default: enabled, registered customers only')
    t.same(await customers(ctx, 'beta', '?state=enabled'), ['acme', 'initech'])
    t.same(await customers(ctx, 'beta', '?state=explicitly_enabled'), ['acme'])
    t.same(await customers(ctx, 'beta', '?state=explicitly_disabled'), ['globex', 'hooli'])
    const body = (await get(ctx, '/flags/beta/customers?state=explicitly_enabled')).json()
    t.same(Object.keys(body.customers[0]).sort(), ['created_at', 'id', 'name'])
    t.equal(body.next_cursor, null)

    await wrote(t, ctx, { method: 'PUT', url: '/flags/beta', payload: { targeting_rules: { percentage: 100 } } }, 200)
    t.same(await customers(ctx, 'beta'), ['acme', 'initech', 'umbrella'], 'global on: all but the explicitly disabled')
    await wrote(t, ctx, { method: 'PUT', url: '/flags/beta', payload: { enabled: false } }, 200)
    t.same(await customers(ctx, 'beta'), [], 'kill switch: nobody')
    t.same(await customers(ctx, 'beta', '?state=explicitly_enabled'), ['acme'], 'the override itself is still there')
  })

  t.test('rollout by customer_id, and a rule on customer_id', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50, bucket_by: 'customer_id' } })
    await createFlag(ctx, { name: 'by_rule', targeting_rules: { rules: [{ clauses: [{ attribute: 'customer_id', operator: 'starts_with', values: ['a'] }], serve: { variant: 'on' } }] } })
    const ids = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`).concat(['acme', 'apex'])
    for (const id of ids) await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id } }, 201)
    const expected: string[] = []
    for (const id of ids) if ((await evaluate(ctx, 'half', `customer_id=${id}`)).value === true) expected.push(id)
    t.ok(expected.length > 0 && expected.length < ids.length, `a real split: ${expected.length} of ${ids.length}`)
    t.same(await customers(ctx, 'half'), expected.sort(), 'exactly the customers evaluation puts in')
    t.same(await customers(ctx, 'by_rule'), ['acme', 'apex'])
  })

  t.test('pages in id order for every state', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    const ids = ['g', 'a', 'e', 'c', 'b', 'f', 'd']
    for (const id of ids) await put(t, ctx, 'beta', 'customers', id, { enabled: true })
    for (const id of ['x1', 'x2']) await put(t, ctx, 'beta', 'customers', id, { enabled: false })
    for (const state of ['enabled', 'explicitly_enabled']) {
      const seen: string[] = []
      const sizes: number[] = []
      let cursor: string | null = null
      for (let i = 0; i < 10; i++) {
        const res = await get(ctx, `/flags/beta/customers?state=${state}&limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
        t.equal(res.statusCode, 200, res.body)
        const page: Json = res.json()
        sizes.push(page.customers.length)
        seen.push(...page.customers.map((c: Json) => c.id))
        cursor = page.next_cursor
        if (cursor === null) break
      }
      t.same(sizes, [3, 3, 1], state)
      t.same(seen, [...ids].sort(), state)
    }
    const first = (await get(ctx, '/flags/beta/customers?state=explicitly_disabled&limit=1')).json()
    t.same(first.customers.map((c: Json) => c.id), ['x1'])
    const next = (await get(ctx, `/flags/beta/customers?state=explicitly_disabled&limit=1&cursor=${encodeURIComponent(first.next_cursor)}`)).json()
    t.same(next.customers.map((c: Json) => c.id), ['x2'])
    t.equal(next.next_cursor, null)
  })

  t.test('404 unknown flag; 400 for bad parameters', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta' })
    isProblem(t, await get(ctx, '/flags/ghost/customers'), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/ghost/customers')
    const queries: Array<[string, string]> = [
      ['state=disabled', 'query.state'], ['state=', 'query.state'], ['state=ENABLED', 'query.state'],
      ['cursor=not-a-cursor!!', 'query.cursor'], ['limit=0', 'query.limit'], ['limit=1001', 'query.limit'], ['subject=user', 'query.subject']
    ]
    t.same(await badQueries((url) => get(ctx, url), '/flags/beta/customers', queries), [], `each of ${queries.length} bad parameters: a 400 problem naming exactly that parameter`)
  })
})

t.test('auth', async (t) => {
  t.test('writes need a write key', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta' })
    await put(t, ctx, 'beta', 'users', 'alice', { enabled: false })
    const writes: InjectOptions[] = [
      { method: 'PUT', url: '/flags/beta/overrides/customers/acme', payload: { enabled: true } },
      { method: 'PUT', url: '/flags/beta/overrides/users/alice', payload: { enabled: true } },
      { method: 'DELETE', url: '/flags/beta/overrides/users/alice' },
      { method: 'DELETE', url: '/flags/beta/overrides/customers/acme' }
    ]
    const failures: Array<{ case: string, wrong: string[] }> = []
    for (const opts of writes) {
      const attempts: Array<[string, Record<string, string>, number, string]> = [
        ['no key', { 'x-api-key': '' }, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
        ['wrong key', { 'x-api-key': 'not-a-real-key-0123456789' }, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
        ['read key', { 'x-api-key': READ_KEY }, 403, 'FLAGPOST_ERR_FORBIDDEN'],
        ['read bearer', { 'x-api-key': '', authorization: `Bearer ${READ_KEY}` }, 403, 'FLAGPOST_ERR_FORBIDDEN']
      ]
      for (const [what, headers, status, code] of attempts) {
        const { wrong } = await refusal(ctx, { ...opts, headers }, status, code)
        if (wrong.length > 0) failures.push({ case: `${String(opts.method)} ${String(opts.url)} ${what}`, wrong })
      }
    }
    t.same(failures.slice(0, 5), [], `every override write: 401 without a key or with a wrong one, 403 with the read key or bearer, nothing written (${failures.length} failed)`)
    // 401 comes before validation: an unauthenticated client learns nothing about the body
    await refused(t, ctx, { method: 'PUT', url: '/flags/beta/overrides/users/alice', payload: { bogus: 1 }, headers: { 'x-api-key': '' } }, 401, 'FLAGPOST_ERR_UNAUTHORIZED')
    t.same(await overrides(ctx, 'beta'), ['user:alice:false'], 'unchanged')
    t.equal((await get(ctx, '/customers/acme')).statusCode, 404)
  })

  t.test('reads under AUTH_READS=true', async (t) => {
    const ctx = await build(t, { AUTH_READS: 'true' })
    await createFlag(ctx, { name: 'beta' })
    for (const url of ['/flags/beta/overrides', '/flags/beta/customers']) {
      isProblem(t, await get(ctx, url), 401, 'FLAGPOST_ERR_UNAUTHORIZED', url)
      t.equal((await get(ctx, url, { 'x-api-key': READ_KEY })).statusCode, 200, `${url} with the read key`)
    }
  })
})
