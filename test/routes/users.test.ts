import t, { type Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { badQueries, refusal } from '../support/refusals.js'
import { build, createFlag, isProblem, READ_KEY, refused, wrote, type TestApp } from '../helper.js'

type Json = Record<string, any>

const addUser = async (t: Test, ctx: TestApp, payload: Json): Promise<Json> =>
  (await wrote(t, ctx, { method: 'POST', url: '/users', payload }, 201)).json()
const get = (ctx: TestApp, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => ctx.app.inject({ url, headers })
const ids = (list: Json[]): string[] => list.map((x) => x.id)

t.test('POST /users', async (t) => {
  t.test('201 with Location; without a customer', async (t) => {
    const ctx = await build(t)
    const res = await wrote(t, ctx, { method: 'POST', url: '/users', payload: { id: 'alice@example.com' } }, 201)
    t.equal(res.headers.location, '/users/alice%40example.com')
    const body = res.json()
    t.same(Object.keys(body).sort(), ['created_at', 'customer_id', 'id'])
    t.match(body, { id: 'alice@example.com', customer_id: null })
    t.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const got = await get(ctx, '/users/alice@example.com')
    t.equal(got.statusCode, 200)
    t.same(got.json(), body)
    t.same((await get(ctx, `/users/${encodeURIComponent('alice@example.com')}`)).json(), body, 'the Location form works too')
    t.same((await get(ctx, '/customers')).json().customers, [], 'no customer registered')
  })

  t.test('with a customer: a known one, an unknown one is registered (one revision), integers as strings', async (t) => {
    const ctx = await build(t)
    await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id: 'acme', name: 'Acme' } }, 201)
    t.match(await addUser(t, ctx, { id: 'alice', customer_id: 'acme' }), { id: 'alice', customer_id: 'acme' })
    t.equal((await get(ctx, '/customers/acme')).json().name, 'Acme', 'the known customer is untouched')
    t.match(await addUser(t, ctx, { id: 'bob', customer_id: 'globex' }), { id: 'bob', customer_id: 'globex' })
    t.match((await get(ctx, '/customers/globex')).json(), { id: 'globex', name: null }, 'the unknown customer is registered')
    t.match(await addUser(t, ctx, { id: 7, customer_id: 42 }), { id: '7', customer_id: '42' })
    t.equal((await get(ctx, '/customers/42')).statusCode, 200)
    t.match(await addUser(t, ctx, { id: 'carol', customer_id: null }), { id: 'carol', customer_id: null }, 'null: no customer')
  })

  t.test('409 when the id exists; the original is unchanged', async (t) => {
    const ctx = await build(t)
    const original = await addUser(t, ctx, { id: 'alice', customer_id: 'acme' })
    const body = await refused(t, ctx, { method: 'POST', url: '/users', payload: { id: 'alice', customer_id: 'globex' } }, 409, 'FLAGPOST_ERR_USER_EXISTS')
    t.match(body.detail, /alice/)
    t.same((await get(ctx, '/users/alice')).json(), original)
    t.equal((await get(ctx, '/customers/globex')).statusCode, 404, 'the failed write registered nobody')
  })

  t.test('400 naming the field', async (t) => {
    const ctx = await build(t)
    // Each refused POST is checked as refused() does; what was wrong is listed and asserted once below.
    const failures: Array<{ case: string, wrong: string[] }> = []
    let sent = 0
    const bad = async (payload: unknown, field: string, label: string): Promise<void> => {
      sent++
      const { body, wrong } = await refusal(ctx, { method: 'POST', url: '/users', payload: payload as Json }, 400, 'FLAGPOST_ERR_VALIDATION')
      if (body.errors?.some((e: Json) => e.field === field) !== true) wrong.push(`does not name ${field}: ${JSON.stringify(body.errors)}`)
      if (wrong.length > 0) failures.push({ case: label, wrong })
    }
    await bad({}, 'body.id', 'missing id')
    await bad({ id: false }, 'body.id', 'boolean id')
    await bad({ id: 2.5 }, 'body.id', 'fractional id')
    await bad({ id: 'alice', customer_id: true }, 'body.customer_id', 'boolean customer')
    await bad({ id: 'alice', customer_id: '' }, 'body.customer_id', 'empty customer')
    await bad({ id: 'alice', customer_id: 'a b' }, 'body.customer_id', 'customer with a space')
    await bad({ id: 'alice', customer_id: 'a\u0000' }, 'body.customer_id', 'customer with NUL')
    await bad({ id: 'alice', customerId: 'acme' }, 'body.customerId', 'camelCase field')
    await bad({ id: 'alice', name: 'Alice' }, 'body.name', 'unknown field')
    for (const id of ['', 'a b', 'a/b', '..', 'a\u0000b', 'tab\there', '<img src=x onerror=alert(1)>', 'x'.repeat(257)]) {
      await bad({ id }, 'body.id', `id ${JSON.stringify(id.slice(0, 20))}`)
    }
    t.same(failures.slice(0, 5), [], `each of ${sent} bad bodies: a 400 problem naming the field, nothing written (${failures.length} failed)`)
    t.same((await get(ctx, '/users')).json().users, [])
    t.same((await get(ctx, '/customers')).json().customers, [])
  })
})

t.test('GET /users', async (t) => {
  t.test('pages in id order; ?customer_id= filters', async (t) => {
    const ctx = await build(t)
    const all = ['u7', 'u1', 'u5', 'u3', 'u2', 'u6', 'u4']
    for (const [i, id] of all.entries()) await addUser(t, ctx, { id, ...(i % 2 === 0 ? { customer_id: 'acme' } : {}) })
    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const res = await get(ctx, `/users?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      t.equal(res.statusCode, 200, res.body)
      const page: Json = res.json()
      sizes.push(page.users.length)
      seen.push(...ids(page.users))
      cursor = page.next_cursor
      if (cursor === null) break
    }
    t.same(sizes, [3, 3, 1])
    t.same(seen, [...all].sort())

    const acme = (await get(ctx, '/users?customer_id=acme')).json()
    t.same(ids(acme.users), ['u2', 'u4', 'u5', 'u7'])
    t.ok(acme.users.every((u: Json) => u.customer_id === 'acme'))
    t.equal(acme.next_cursor, null)
    const first = (await get(ctx, '/users?customer_id=acme&limit=2')).json()
    t.same(ids(first.users), ['u2', 'u4'])
    const rest = (await get(ctx, `/users?customer_id=acme&limit=2&cursor=${encodeURIComponent(first.next_cursor)}`)).json()
    t.same(ids(rest.users), ['u5', 'u7'], 'the cursor keeps the filter\'s order')
    t.same((await get(ctx, '/users?customer_id=nobody')).json(), { users: [], next_cursor: null })
  })

  t.test('bad cursor, limit, customer_id or parameter: 400 naming it', async (t) => {
    const ctx = await build(t)
    await addUser(t, ctx, { id: 'alice' })
    const queries: Array<[string, string]> = [
      ['cursor=not-a-cursor!!', 'query.cursor'], ['limit=0', 'query.limit'], ['limit=1001', 'query.limit'], ['limit=x', 'query.limit'],
      ['customer_id=', 'query.customer_id'], ['customer_id=a%20b', 'query.customer_id'], ['customer_id=a%00b', 'query.customer_id'],
      ['customer=acme', 'query.customer']
    ]
    t.same(await badQueries((url) => get(ctx, url), '/users', queries), [], `each of ${queries.length} bad parameters: a 400 problem naming exactly that parameter`)
  })
})

t.test('GET /users/{id}: 404, 400', async (t) => {
  const ctx = await build(t)
  const missing = isProblem(t, await get(ctx, '/users/nobody'), 404, 'FLAGPOST_ERR_USER_NOT_FOUND', '/users/nobody')
  t.match(missing.detail, /nobody/)
  // (an encoded `..` never reaches the route: URL normalisation resolves it first)
  for (const path of ['a%00b', 'a%20b', 'a%2Fb', '-x', 'x'.repeat(257)]) {
    const body = isProblem(t, await get(ctx, `/users/${path}`), 400, 'FLAGPOST_ERR_VALIDATION', `/users/${path}`)
    t.same(body.errors.map((e: Json) => e.field), ['params.id'], path)
  }
})

t.test('DELETE /users/{id}: 204, its overrides go, its customer stays', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
  await addUser(t, ctx, { id: 'alice', customer_id: 'acme' })
  await addUser(t, ctx, { id: 'bob', customer_id: 'acme' })
  await wrote(t, ctx, { method: 'PUT', url: '/flags/beta/overrides/users/alice', payload: { enabled: true } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/beta/overrides/users/bob', payload: { enabled: true } }, 200)
  t.equal((await get(ctx, '/evaluate/beta?user_id=alice')).json().rule, 'user_override')

  t.equal((await wrote(t, ctx, { method: 'DELETE', url: '/users/alice' }, 204)).body, '')
  isProblem(t, await get(ctx, '/users/alice'), 404, 'FLAGPOST_ERR_USER_NOT_FOUND', '/users/alice')
  t.same((await get(ctx, '/flags/beta/overrides')).json().overrides.map((o: Json) => o.id), ['bob'])
  t.match((await get(ctx, '/evaluate/beta?user_id=alice')).json(), { value: false, rule: 'fallthrough' })
  t.equal((await get(ctx, '/customers/acme')).statusCode, 200, 'the customer stays')
  t.same(ids((await get(ctx, '/users?customer_id=acme')).json().users), ['bob'])

  await refused(t, ctx, { method: 'DELETE', url: '/users/alice' }, 404, 'FLAGPOST_ERR_USER_NOT_FOUND', 'second delete')
  const bad = await refused(t, ctx, { method: 'DELETE', url: '/users/a%20b' }, 400, 'FLAGPOST_ERR_VALIDATION')
  t.same(bad.errors.map((e: Json) => e.field), ['params.id'])
})

t.test('a registered user\'s customer is inferred by evaluation', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'enterprise', targeting_rules: { customer_ids: ['acme'] } })
  await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
  await addUser(t, ctx, { id: 'alice', customer_id: 'acme' })
  await wrote(t, ctx, { method: 'PUT', url: '/flags/beta/overrides/customers/acme', payload: { enabled: true } }, 200)
  t.match((await get(ctx, '/evaluate/beta?user_id=alice')).json(), { value: true, reason: 'TARGETING_MATCH', rule: 'customer_override' })
  t.match((await get(ctx, '/evaluate/beta?user_id=alice&customer_id=globex')).json(), { value: false, rule: 'fallthrough' }, 'an explicit customer_id wins')
  t.match((await get(ctx, '/evaluate/enterprise?user_id=alice')).json(), { value: true, rule: 'customer_ids' }, 'targeting customer_ids too')
  t.match((await get(ctx, '/evaluate/beta?user_id=stranger')).json(), { value: false, rule: 'fallthrough' })
  // The other ways a flag reads customer_id (the service infers it only for a flag that reads it).
  await createFlag(ctx, { name: 'by-rule', targeting_rules: { percentage: 0, rules: [{ id: 'acme', clauses: [{ attribute: 'customer_id', operator: 'eq', values: ['acme'] }], serve: { variant: 'on' } }] } })
  await createFlag(ctx, { name: 'by-customer', targeting_rules: { percentage: 50, bucket_by: 'customer_id' } })
  t.match((await get(ctx, '/evaluate/by-rule?user_id=alice')).json(), { value: true, rule: 'rule:acme' }, 'a rule on customer_id')
  t.match((await get(ctx, '/evaluate/by-customer?user_id=alice')).json(), { reason: 'SPLIT' }, 'a rollout by customer_id')
  t.match((await get(ctx, '/evaluate/by-customer?user_id=stranger')).json(), { reason: 'DEFAULT' }, 'no customer: no bucket')
})

t.test('auth', async (t) => {
  t.test('writes need a write key', async (t) => {
    const ctx = await build(t)
    await addUser(t, ctx, { id: 'alice' })
    const failures: Array<{ case: string, wrong: string[] }> = []
    for (const opts of [{ method: 'POST', url: '/users', payload: { id: 'bob' } }, { method: 'DELETE', url: '/users/alice' }] as InjectOptions[]) {
      const attempts: Array<[string, Record<string, string>, number, string]> = [
        ['no key', { 'x-api-key': '' }, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
        ['wrong bearer', { 'x-api-key': '', authorization: 'Bearer nope-0123456789' }, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
        ['read key', { 'x-api-key': READ_KEY }, 403, 'FLAGPOST_ERR_FORBIDDEN']
      ]
      for (const [what, headers, status, code] of attempts) {
        const { wrong } = await refusal(ctx, { ...opts, headers }, status, code)
        if (wrong.length > 0) failures.push({ case: `${String(opts.method)} ${String(opts.url)} ${what}`, wrong })
      }
    }
    t.same(failures.slice(0, 5), [], `POST and DELETE: 401 without a key or with a wrong bearer, 403 with the read key, nothing written (${failures.length} failed)`)
    t.equal((await get(ctx, '/users/alice')).statusCode, 200)
    t.equal((await get(ctx, '/users/bob')).statusCode, 404)
  })

  t.test('reads under AUTH_READS=true', async (t) => {
    const ctx = await build(t, { AUTH_READS: 'true' })
    await addUser(t, ctx, { id: 'alice' })
    for (const url of ['/users', '/users/alice', '/users?customer_id=acme']) {
      isProblem(t, await get(ctx, url), 401, 'FLAGPOST_ERR_UNAUTHORIZED', url.split('?')[0])
      t.equal((await get(ctx, url, { 'x-api-key': READ_KEY })).statusCode, 200, `${url} with the read key`)
    }
  })
})
