import t, { type Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { badQueries, refusal } from '../support/refusals.js'
import { build, createFlag, isProblem, READ_KEY, WRITE_KEY, refused, wrote, type TestApp } from '../helper.js'

type Json = Record<string, any>

const addCustomer = async (t: Test, ctx: TestApp, payload: Json): Promise<Json> =>
  (await wrote(t, ctx, { method: 'POST', url: '/customers', payload }, 201)).json()
const get = (ctx: TestApp, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => ctx.app.inject({ url, headers })

/** Strings no customer id may be, with the reason. */
const HOSTILE_IDS: Array<[string, string]> = [
  ['', 'empty'], [' ', 'a space'], ['a b', 'inner space'], ['a/b', 'a slash'], ['..', 'dot-dot'], ['.', 'a dot'],
  ['a\u0000b', 'NUL'], ['a\nb', 'newline'], ['<script>alert(1)</script>', 'markup'], ["x'; DROP TABLE customers;--", 'SQL'],
  ['a?b', 'a query'], ['a#b', 'a fragment'], ['%2e%2e', 'percent'], ['\u202eevil', 'bidi override'], ['x'.repeat(257), '257 characters']
]

t.test('POST /customers', async (t) => {
  t.test('201 with Location and the stored customer; GET returns the same', async (t) => {
    const ctx = await build(t)
    const res = await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id: 'acme', name: 'Acme Inc.' } }, 201)
    t.equal(res.headers.location, '/customers/acme')
    t.match(res.headers['content-type'], /^application\/json/)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['created_at', 'id', 'name'])
    t.match(body, { id: 'acme', name: 'Acme Inc.' })
    t.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const got = await get(ctx, '/customers/acme')
    t.equal(got.statusCode, 200)
    t.same(got.json(), body)
  })

  t.test('name is optional (null); integer ids and integers as strings; emails and dots are fine', async (t) => {
    const ctx = await build(t)
    t.same((await addCustomer(t, ctx, { id: 'globex' })).name, null)
    const numeric = await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id: 42 } }, 201)
    t.equal(numeric.json().id, '42', 'a JSON integer id is stored as its string')
    t.equal(numeric.headers.location, '/customers/42')
    t.equal((await get(ctx, '/customers/42')).statusCode, 200)
    await refused(t, ctx, { method: 'POST', url: '/customers', payload: { id: '42' } }, 409, 'FLAGPOST_ERR_CUSTOMER_EXISTS', '"42" is 42')
    for (const id of ['0', '007', 'billing@acme.example.com', 'a.b-c_d+e', 'auth0|5f7c8ec7', 'urn:acme:1', 'x'.repeat(256)]) {
      const res = await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id } }, 201)
      t.equal(res.json().id, id)
      t.equal(res.headers.location, `/customers/${encodeURIComponent(id)}`)
      const got = await get(ctx, `/customers/${encodeURIComponent(id)}`)
      t.equal(got.statusCode, 200, `GET ${id}`)
      t.equal(got.json().id, id)
    }
  })

  t.test('409 when the id exists; the original is unchanged', async (t) => {
    const ctx = await build(t)
    const original = await addCustomer(t, ctx, { id: 'acme', name: 'first' })
    const body = await refused(t, ctx, { method: 'POST', url: '/customers', payload: { id: 'acme', name: 'second' } }, 409, 'FLAGPOST_ERR_CUSTOMER_EXISTS')
    t.match(body.detail, /acme/)
    t.same((await get(ctx, '/customers/acme')).json(), original)
  })

  t.test('400 naming the field: missing or wrong-typed id, unknown fields, bad names, hostile ids', async (t) => {
    const ctx = await build(t)
    // Each refused POST is checked as refused() does; what was wrong is listed and asserted once below.
    const failures: Array<{ case: string, wrong: string[] }> = []
    let sent = 0
    const bad = async (payload: unknown, field: string, label: string): Promise<void> => {
      sent++
      const { body, wrong } = await refusal(ctx, { method: 'POST', url: '/customers', payload: payload as Json }, 400, 'FLAGPOST_ERR_VALIDATION')
      if (body.errors?.some((e: Json) => e.field === field) !== true) wrong.push(`does not name ${field}: ${JSON.stringify(body.errors)}`)
      if (wrong.length > 0) failures.push({ case: label, wrong })
    }
    await bad({}, 'body.id', 'missing id')
    await bad({ id: null }, 'body.id', 'null id')
    await bad({ id: true }, 'body.id', 'boolean id')
    await bad({ id: 1.5 }, 'body.id', 'fractional id')
    await bad({ id: -1 }, 'body.id', 'negative id')
    await bad({ id: ['acme'] }, 'body.id', 'array id')
    await bad({ id: { a: 1 } }, 'body.id', 'object id')
    await bad({ id: 'acme', extra: 1 }, 'body.extra', 'unknown field')
    await bad({ id: 'acme', customer_id: 'x' }, 'body.customer_id', 'a user field')
    await bad({ id: 'acme', name: 5 }, 'body.name', 'numeric name')
    await bad({ id: 'acme', name: 'a\u0000b' }, 'body.name', 'NUL in name')
    await bad({ id: 'acme', name: 'n'.repeat(257) }, 'body.name', 'long name')
    for (const [id, why] of HOSTILE_IDS) await bad({ id }, 'body.id', `id: ${why}`)
    await bad([{ id: 'acme' }], 'body', 'an array body')
    t.same(failures.slice(0, 5), [], `each of ${sent} bad bodies: a 400 problem naming the field, nothing written (${failures.length} failed)`)
    t.equal((await get(ctx, '/customers')).json().customers.length, 0, 'nothing registered')
  })

  t.test('not JSON: 400 for broken JSON, 415 for text', async (t) => {
    const ctx = await build(t)
    await refused(t, ctx, { method: 'POST', url: '/customers', payload: '{"id":', headers: { 'content-type': 'application/json' } }, 400, 'FLAGPOST_ERR_INVALID_JSON')
    await refused(t, ctx, { method: 'POST', url: '/customers', payload: 'acme', headers: { 'content-type': 'text/plain' } }, 415, 'FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE')
  })
})

t.test('GET /customers', async (t) => {
  t.test('walks every page in id order; next_cursor null at the end', async (t) => {
    const ctx = await build(t)
    const ids = ['golf', 'alpha', 'echo', 'charlie', 'bravo', 'foxtrot', 'delta']
    for (const id of ids) await addCustomer(t, ctx, { id, name: id.toUpperCase() })
    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    for (let i = 0; i < 10; i++) {
      const res = await get(ctx, `/customers?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)
      t.equal(res.statusCode, 200, res.body)
      const page: Json = res.json()
      sizes.push(page.customers.length)
      seen.push(...page.customers.map((c: Json) => c.id))
      cursor = page.next_cursor
      if (cursor === null) break
      t.type(cursor, 'string')
    }
    t.same(sizes, [3, 3, 1])
    t.same(seen, [...ids].sort())
    const all = (await get(ctx, '/customers')).json()
    t.same(all.customers.map((c: Json) => c.id), [...ids].sort(), 'default limit: all of them')
    t.equal(all.next_cursor, null)
    t.match(all.customers[0], { id: 'alpha', name: 'ALPHA' })
    const exact = (await get(ctx, '/customers?limit=7')).json()
    t.equal(exact.customers.length, 7)
    t.equal(exact.next_cursor, null, 'no cursor when the page holds the last one')
  })

  t.test('an empty list', async (t) => {
    const ctx = await build(t)
    t.same((await get(ctx, '/customers')).json(), { customers: [], next_cursor: null })
  })

  t.test('bad cursor, limit or unknown parameter: 400 naming it', async (t) => {
    const ctx = await build(t)
    await addCustomer(t, ctx, { id: 'acme' })
    const queries: Array<[string, string]> = [
      ['cursor=not-a-cursor!!', 'query.cursor'], ['cursor=%00', 'query.cursor'], [`cursor=${'A'.repeat(513)}`, 'query.cursor'],
      ['limit=0', 'query.limit'], ['limit=1001', 'query.limit'], ['limit=abc', 'query.limit'], ['limit=2.5', 'query.limit'],
      ['sort=name', 'query.sort']
    ]
    t.same(await badQueries((url) => get(ctx, url), '/customers', queries), [], `each of ${queries.length} bad parameters: a 400 problem naming exactly that parameter`)
  })
})

t.test('GET /customers/{id}', async (t) => {
  const ctx = await build(t)
  await addCustomer(t, ctx, { id: 'acme' })
  const missing = isProblem(t, await get(ctx, '/customers/nobody'), 404, 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND', '/customers/nobody')
  t.match(missing.detail, /nobody/)
  for (const [path, why] of [['a%00b', 'NUL'], ['a%20b', 'space'], ['%3Cscript%3E', 'markup'], ['x'.repeat(257), 'too long'], ['a%2Fb', 'an encoded slash']]) {
    const body = isProblem(t, await get(ctx, `/customers/${path}`), 400, 'FLAGPOST_ERR_VALIDATION', `/customers/${path}`)
    t.same(body.errors.map((e: Json) => e.field), ['params.id'], why)
  }
})

t.test('DELETE /customers/{id}', async (t) => {
  t.test('204; then 404; its overrides go, its users stay without a customer', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'beta', targeting_rules: { percentage: 0 } })
    await addCustomer(t, ctx, { id: 'acme' })
    await addCustomer(t, ctx, { id: 'globex' })
    await wrote(t, ctx, { method: 'POST', url: '/users', payload: { id: 'alice@acme.example', customer_id: 'acme' } }, 201)
    await wrote(t, ctx, { method: 'PUT', url: '/flags/beta/overrides/customers/acme', payload: { enabled: true } }, 200)
    await wrote(t, ctx, { method: 'PUT', url: '/flags/beta/overrides/customers/globex', payload: { enabled: true } }, 200)
    t.equal((await get(ctx, '/evaluate/beta?user_id=alice@acme.example')).json().rule, 'customer_override', 'inferred customer override')

    const res = await wrote(t, ctx, { method: 'DELETE', url: '/customers/acme' }, 204)
    t.equal(res.body, '')
    isProblem(t, await get(ctx, '/customers/acme'), 404, 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND', '/customers/acme')
    const overrides = (await get(ctx, '/flags/beta/overrides')).json().overrides
    t.same(overrides.map((o: Json) => `${o.subject}:${o.id}`), ['customer:globex'], 'only the removed customer\'s override is gone')
    t.same((await get(ctx, '/users/alice@acme.example')).json().customer_id, null, 'the user stays, without a customer')
    t.match((await get(ctx, '/evaluate/beta?customer_id=acme')).json(), { value: false, rule: 'fallthrough' })
    t.match((await get(ctx, '/evaluate/beta?user_id=alice@acme.example')).json(), { value: false, rule: 'fallthrough' })

    await refused(t, ctx, { method: 'DELETE', url: '/customers/acme' }, 404, 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND', 'second delete')
    await refused(t, ctx, { method: 'DELETE', url: '/customers/never' }, 404, 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND')
    const bad = await refused(t, ctx, { method: 'DELETE', url: '/customers/a%00b' }, 400, 'FLAGPOST_ERR_VALIDATION')
    t.same(bad.errors.map((e: Json) => e.field), ['params.id'])
    // registering the same id again starts clean
    await addCustomer(t, ctx, { id: 'acme' })
    t.match((await get(ctx, '/evaluate/beta?customer_id=acme')).json(), { value: false, rule: 'fallthrough' })
  })
})

t.test('GET /customers/{id}/flags: the flags on for that customer, evaluated', async (t) => {
  const ctx = await build(t)
  await addCustomer(t, ctx, { id: 'acme' })
  await addCustomer(t, ctx, { id: 'globex' })
  await createFlag(ctx, { name: 'everyone' })
  await createFlag(ctx, { name: 'nobody', targeting_rules: { percentage: 0 } })
  await createFlag(ctx, { name: 'targeted', targeting_rules: { customer_ids: ['acme'] } })
  await createFlag(ctx, { name: 'pinned_on', targeting_rules: { percentage: 0 } })
  await createFlag(ctx, { name: 'pinned_off' })
  await createFlag(ctx, { name: 'killed', enabled: false })
  await createFlag(ctx, { name: 'colour', type: 'string', variants: { blue: 'b', green: 'g', grey: 'x' }, default_variant: 'blue', off_variant: 'grey' })
  await createFlag(ctx, { name: 'by_plan', targeting_rules: { rules: [{ clauses: [{ attribute: 'plan', operator: 'eq', values: ['pro'] }], serve: { variant: 'on' } }] } })
  for (const [flag, enabled] of [['pinned_on', true], ['pinned_off', false], ['killed', true]] as const) {
    await wrote(t, ctx, { method: 'PUT', url: `/flags/${flag}/overrides/customers/acme`, payload: { enabled } }, 200)
  }
  await wrote(t, ctx, { method: 'PUT', url: '/flags/colour/overrides/customers/acme', payload: { enabled: true, variant: 'green' } }, 200)

  const res = await get(ctx, '/customers/acme/flags')
  t.equal(res.statusCode, 200, res.body)
  const flags: Json[] = res.json().flags
  t.same(flags.map((f) => f.name), ['colour', 'everyone', 'pinned_on', 'targeted'], 'by name; off, killed and rule-only flags left out')
  t.strictSame(flags.find((f) => f.name === 'pinned_on'),
    { name: 'pinned_on', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'customer_override', metadata: {} })
  t.match(flags.find((f) => f.name === 'colour'), { value: 'g', variant: 'green', rule: 'customer_override' })
  t.match(flags.find((f) => f.name === 'targeted'), { value: true, rule: 'customer_ids' })
  t.match(flags.find((f) => f.name === 'everyone'), { value: true, rule: 'fallthrough' })

  t.same((await get(ctx, '/customers/globex/flags')).json().flags.map((f: Json) => f.name), ['colour', 'everyone', 'pinned_off'])
  isProblem(t, await get(ctx, '/customers/initech/flags'), 404, 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND', '/customers/initech/flags')
  const bad = isProblem(t, await get(ctx, '/customers/a%20b/flags'), 400, 'FLAGPOST_ERR_VALIDATION', '/customers/a%20b/flags')
  t.same(bad.errors.map((e: Json) => e.field), ['params.id'])
})

t.test('auth: writes need a write key; reads are open, or need a key under AUTH_READS', async (t) => {
  t.test('writes', async (t) => {
    const ctx = await build(t)
    await addCustomer(t, ctx, { id: 'acme' })
    const failures: Array<{ case: string, wrong: string[] }> = []
    for (const opts of [{ method: 'POST', url: '/customers', payload: { id: 'new' } }, { method: 'DELETE', url: '/customers/acme' }] as InjectOptions[]) {
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
    t.same(failures.slice(0, 5), [], `POST and DELETE: 401 without a key or with a wrong one, 403 with the read key or bearer, nothing written (${failures.length} failed)`)
    t.equal((await get(ctx, '/customers/acme')).statusCode, 200, 'still there')
    t.equal((await get(ctx, '/customers/new')).statusCode, 404, 'not created')
    const bearer = await ctx.app.inject({ method: 'POST', url: '/customers', payload: { id: 'via_bearer' }, headers: { authorization: `Bearer ${WRITE_KEY}` } })
    t.equal(bearer.statusCode, 201)
  })

  t.test('reads under AUTH_READS=true', async (t) => {
    const ctx = await build(t, { AUTH_READS: 'true' })
    await addCustomer(t, ctx, { id: 'acme' })
    for (const url of ['/customers', '/customers/acme', '/customers/acme/flags']) {
      isProblem(t, await get(ctx, url), 401, 'FLAGPOST_ERR_UNAUTHORIZED', url)
      t.equal((await get(ctx, url, { 'x-api-key': READ_KEY })).statusCode, 200, `${url} with the read key`)
    }
  })
})
