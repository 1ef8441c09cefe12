import t from 'tap'
import murmurhash from 'murmurhash'
import { build, createFlag, type TestApp } from '../helper.js'

type Query = Record<string, string | string[]>

const evalGet = (ctx: TestApp, name: string, query: Query = {}) =>
  ctx.app.inject({ method: 'GET', url: `/evaluate/${name}`, query })

const evalPost = (ctx: TestApp, payload: unknown) =>
  ctx.app.inject({ method: 'POST', url: '/evaluate', payload: payload as Record<string, unknown> })

/**
 * Independent reference for a fallthrough percentage (SPEC §2.4): h = murmur3(flag + key), the
 * split is [[default, p*100], [off, (100-p)*100]] and the context is in iff floor(h*W/2^32) < p*100.
 */
function inPercentage (flag: string, key: string, percentage: number): boolean {
  const h = BigInt(murmurhash.v3(Buffer.from(flag + key, 'utf8'), 0))
  return (h * 10000n) >> 32n < BigInt(Math.round(percentage * 100))
}

/** The first ids (prefix0, prefix1, …) that fall in and out of a percentage split. */
function findInAndOut (flag: string, prefix: string, percentage: number): { inside: string, outside: string } {
  let inside: string | undefined
  let outside: string | undefined
  for (let i = 0; inside === undefined || outside === undefined; i++) {
    const id = `${prefix}${i}`
    if (inPercentage(flag, id, percentage)) inside ??= id
    else outside ??= id
  }
  return { inside, outside }
}

t.test('GET /evaluate/{name}', async (t) => {
  const ctx = await build(t)

  t.test('STATIC: a flag without targeting at 100 %', async (t) => {
    await createFlag(ctx, { name: 'static_flag', default_value: 'true' })
    const res = await evalGet(ctx, 'static_flag', { user_id: 'alice', country: 'DE' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.strictSame(res.json(), { name: 'static_flag', value: true, variant: 'on', reason: 'STATIC', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
    // No context at all is still STATIC.
    t.strictSame((await evalGet(ctx, 'static_flag')).json(),
      { name: 'static_flag', value: true, variant: 'on', reason: 'STATIC', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
  })

  t.test('TARGETING_MATCH on user_ids; everyone else falls through to 0 % (DEFAULT, off)', async (t) => {
    await createFlag(ctx, { name: 'beta', targeting_rules: { user_ids: ['alice', 'bob'] } })
    const alice = await evalGet(ctx, 'beta', { user_id: 'alice' })
    t.equal(alice.statusCode, 200)
    t.strictSame(alice.json(), { name: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'user_ids', metadata: {} })
    t.strictSame((await evalGet(ctx, 'beta', { user_id: 'bob' })).json().reason, 'TARGETING_MATCH')
    t.strictSame((await evalGet(ctx, 'beta', { user_id: 'carol' })).json(),
      { name: 'beta', value: false, variant: 'off', reason: 'DEFAULT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
    // Ids match exactly, not by prefix or case.
    t.equal((await evalGet(ctx, 'beta', { user_id: 'Alice' })).json().reason, 'DEFAULT')
    t.equal((await evalGet(ctx, 'beta', { user_id: 'alic' })).json().reason, 'DEFAULT')
  })

  t.test('targetingKey is an alias of user_id', async (t) => {
    const res = await evalGet(ctx, 'beta', { targetingKey: 'alice' })
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), { name: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'user_ids', metadata: {} })
  })

  t.test('TARGETING_MATCH on customer_ids with customer_id', async (t) => {
    await createFlag(ctx, { name: 'enterprise', targeting_rules: { customer_ids: ['acme', 42] } })
    t.strictSame((await evalGet(ctx, 'enterprise', { customer_id: 'acme', user_id: 'zed' })).json(),
      { name: 'enterprise', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'customer_ids', metadata: {} })
    // Integer ids are stored as strings and match the query-string text.
    t.equal((await evalGet(ctx, 'enterprise', { customer_id: '42' })).json().rule, 'customer_ids')
    t.strictSame((await evalGet(ctx, 'enterprise', { customer_id: 'globex' })).json(),
      { name: 'enterprise', value: false, variant: 'off', reason: 'DEFAULT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
    // A user_id equal to a customer id is not a customer match.
    t.equal((await evalGet(ctx, 'enterprise', { user_id: 'acme' })).json().reason, 'DEFAULT')
  })

  t.test('DISABLED: enabled=false beats user_ids and serves off_value', async (t) => {
    await createFlag(ctx, {
      name: 'killed',
      type: 'string',
      default_value: 'blue',
      off_value: 'grey',
      enabled: false,
      targeting_rules: { user_ids: ['alice'] }
    })
    for (const query of [{ user_id: 'alice' }, { user_id: 'carol' }, {}] as Query[]) {
      const res = await evalGet(ctx, 'killed', query)
      t.equal(res.statusCode, 200)
      t.strictSame(res.json(), { name: 'killed', value: 'grey', variant: 'off', reason: 'DISABLED', type: 'string', version: 1, rule: 'disabled', metadata: {} }, JSON.stringify(query))
    }
  })

  t.test('SPLIT at 50 %: one user in, one out, the same answer on every call', async (t) => {
    await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
    const { inside, outside } = findInAndOut('half', 'user-', 50)
    for (let i = 0; i < 3; i++) {
      t.strictSame((await evalGet(ctx, 'half', { user_id: inside })).json(),
        { name: 'half', value: true, variant: 'on', reason: 'SPLIT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} }, `${inside} in, call ${i}`)
      t.strictSame((await evalGet(ctx, 'half', { user_id: outside })).json(),
        { name: 'half', value: false, variant: 'off', reason: 'SPLIT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} }, `${outside} out, call ${i}`)
    }
    // targetingKey buckets exactly like user_id.
    t.equal((await evalGet(ctx, 'half', { targetingKey: inside })).json().value, true)
    t.equal((await evalGet(ctx, 'half', { targetingKey: outside })).json().value, false)
    // Other attributes do not move the bucket.
    t.equal((await evalGet(ctx, 'half', { user_id: inside, country: 'FR', plan: 'pro' })).json().value, true)
  })

  t.test('DEFAULT: 0 % serves the off variant; a split without user_id serves off', async (t) => {
    await createFlag(ctx, { name: 'zero', targeting_rules: { percentage: 0 } })
    t.strictSame((await evalGet(ctx, 'zero', { user_id: 'alice' })).json(),
      { name: 'zero', value: false, variant: 'off', reason: 'DEFAULT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
    t.strictSame((await evalGet(ctx, 'half')).json(),
      { name: 'half', value: false, variant: 'off', reason: 'DEFAULT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
    t.strictSame((await evalGet(ctx, 'half', { customer_id: 'acme', country: 'DE' })).json().reason, 'DEFAULT')
    // 100 % with some targeting is DEFAULT (on), not STATIC.
    await createFlag(ctx, { name: 'all_plus', targeting_rules: { user_ids: ['alice'], percentage: 100 } })
    t.strictSame((await evalGet(ctx, 'all_plus', { user_id: 'bob' })).json(),
      { name: 'all_plus', value: true, variant: 'on', reason: 'DEFAULT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
  })

  t.test('bucket_by=customer_id rolls out per customer', async (t) => {
    await createFlag(ctx, { name: 'per_customer', targeting_rules: { percentage: 50, bucket_by: 'customer_id' } })
    const { inside, outside } = findInAndOut('per_customer', 'cust-', 50)
    for (const user of ['u1', 'u2', 'u3']) {
      t.strictSame((await evalGet(ctx, 'per_customer', { customer_id: inside, user_id: user })).json(),
        { name: 'per_customer', value: true, variant: 'on', reason: 'SPLIT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
      t.strictSame((await evalGet(ctx, 'per_customer', { customer_id: outside, user_id: user })).json(),
        { name: 'per_customer', value: false, variant: 'off', reason: 'SPLIT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
    }
    // The bucketing attribute is absent: off, DEFAULT, even if user_id would hash "in".
    const userIn = findInAndOut('per_customer', 'user-', 50).inside
    t.strictSame((await evalGet(ctx, 'per_customer', { user_id: userIn })).json(),
      { name: 'per_customer', value: false, variant: 'off', reason: 'DEFAULT', type: 'boolean', version: 1, rule: 'fallthrough', metadata: {} })
  })

  t.test('string, number and json values come back typed', async (t) => {
    await createFlag(ctx, { name: 'color', type: 'string', default_value: 'blue' })
    await createFlag(ctx, { name: 'limit', type: 'number', default_value: '12.5' })
    await createFlag(ctx, { name: 'limit_off', type: 'number', default_value: 7, targeting_rules: { percentage: 0 } })
    await createFlag(ctx, { name: 'plan', type: 'json', default_value: { seats: 5, features: ['sso', 'audit'], trial: false } })
    await createFlag(ctx, { name: 'plan_text', type: 'json', default_value: '{"a":[1,null]}' })

    t.strictSame((await evalGet(ctx, 'color')).json(),
      { name: 'color', value: 'blue', variant: 'on', reason: 'STATIC', type: 'string', version: 1, rule: 'fallthrough', metadata: {} })
    t.strictSame((await evalGet(ctx, 'limit')).json(),
      { name: 'limit', value: 12.5, variant: 'on', reason: 'STATIC', type: 'number', version: 1, rule: 'fallthrough', metadata: {} })
    t.strictSame((await evalGet(ctx, 'limit_off', { user_id: 'x' })).json(),
      { name: 'limit_off', value: 0, variant: 'off', reason: 'DEFAULT', type: 'number', version: 1, rule: 'fallthrough', metadata: {} })
    t.strictSame((await evalGet(ctx, 'plan')).json(),
      { name: 'plan', value: { seats: 5, features: ['sso', 'audit'], trial: false }, variant: 'on', reason: 'STATIC', type: 'json', version: 1, rule: 'fallthrough', metadata: {} })
    t.strictSame((await evalGet(ctx, 'plan_text')).json().value, { a: [1, null] })
  })

  t.test('read-your-writes: the result follows PUT and DELETE at once, with the version', async (t) => {
    await createFlag(ctx, { name: 'theme', type: 'string', default_value: 'light', off_value: 'classic' })
    t.strictSame((await evalGet(ctx, 'theme', { user_id: 'u' })).json(),
      { name: 'theme', value: 'light', variant: 'on', reason: 'STATIC', type: 'string', version: 1, rule: 'fallthrough', metadata: {} })

    const put = await ctx.write({ method: 'PUT', url: '/flags/theme', payload: { default_value: 'dark' } })
    t.equal(put.statusCode, 200)
    t.equal(put.json().version, 2)
    t.strictSame((await evalGet(ctx, 'theme', { user_id: 'u' })).json(),
      { name: 'theme', value: 'dark', variant: 'on', reason: 'STATIC', type: 'string', version: 2, rule: 'fallthrough', metadata: {} })

    t.equal((await ctx.write({ method: 'PUT', url: '/flags/theme', payload: { enabled: false } })).statusCode, 200)
    t.strictSame((await evalGet(ctx, 'theme', { user_id: 'u' })).json(),
      { name: 'theme', value: 'classic', variant: 'off', reason: 'DISABLED', type: 'string', version: 3, rule: 'disabled', metadata: {} })

    t.equal((await ctx.write({ method: 'DELETE', url: '/flags/theme' })).statusCode, 204)
    t.equal((await evalGet(ctx, 'theme', { user_id: 'u' })).statusCode, 404)
  })

  t.test('unknown flag: 404 problem+json FLAGPOST_ERR_FLAG_NOT_FOUND', async (t) => {
    const res = await evalGet(ctx, 'no_such_flag', { user_id: 'alice' })
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.strictSame(res.json(), {
      type: 'urn:flagpost:problem:flag-not-found',
      title: 'Not Found',
      status: 404,
      detail: 'Flag "no_such_flag" does not exist',
      code: 'FLAGPOST_ERR_FLAG_NOT_FOUND',
      instance: '/evaluate/no_such_flag'
    })
  })

  t.test('context limits: 64 attributes pass, 65 are a 400', async (t) => {
    const attrs = (n: number): Query => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 'x']))
    t.equal((await evalGet(ctx, 'static_flag', { ...attrs(63), user_id: 'alice' })).statusCode, 200)
    const res = await evalGet(ctx, 'static_flag', { ...attrs(64), user_id: 'alice' })
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(res.json().code, 'FLAGPOST_ERR_VALIDATION')
    t.equal(res.json().status, 400)
  })

  t.test('an attribute value of 2,000 characters is a 400 naming the attribute', async (t) => {
    t.equal((await evalGet(ctx, 'static_flag', { country: 'x'.repeat(1024) })).statusCode, 200)
    const res = await evalGet(ctx, 'static_flag', { country: 'x'.repeat(2000) })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'FLAGPOST_ERR_VALIDATION')
    t.match(res.json().errors, [{ field: 'query.country' }])
    const longUser = await evalGet(ctx, 'static_flag', { user_id: 'u'.repeat(2000) })
    t.equal(longUser.statusCode, 400)
    t.match(longUser.json().errors, [{ field: 'query.user_id' }])
  })

  t.test('a repeated attribute is a 400, not a 500', async (t) => {
    const res = await evalGet(ctx, 'static_flag', { country: ['a', 'b'] })
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(res.json().code, 'FLAGPOST_ERR_VALIDATION')
    t.match(res.json().errors, [{ field: 'query.country' }])
    const raw = await ctx.app.inject({ method: 'GET', url: '/evaluate/beta?user_id=alice&user_id=bob' })
    t.equal(raw.statusCode, 400)
    t.equal(raw.json().code, 'FLAGPOST_ERR_VALIDATION')
  })

  t.test('30 % of 2,000 users (±4 %), each bucketed as the SPEC formula says', async (t) => {
    await createFlag(ctx, { name: 'thirty', targeting_rules: { percentage: 30 } })
    let on = 0
    let mismatches = 0
    for (let i = 0; i < 2000; i++) {
      const id = `user-${i}`
      const body = (await evalGet(ctx, 'thirty', { user_id: id })).json()
      if (body.reason !== 'SPLIT') mismatches++
      if (body.value === true) on++
      if (body.value !== inPercentage('thirty', id, 30)) mismatches++
    }
    t.equal(mismatches, 0, 'every user gets SPLIT and the bucket of the reference formula')
    t.ok(on >= 520 && on <= 680, `on for ${on} of 2000 users (expected 520..680)`)
  })
})

t.test('POST /evaluate', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'alpha', targeting_rules: { user_ids: ['alice'] } })
  await createFlag(ctx, { name: 'color', type: 'string', default_value: 'blue' })
  await createFlag(ctx, { name: 'seats', type: 'number', default_value: 3, enabled: false })

  const alpha = { name: 'alpha', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'user_ids', metadata: {} }
  const color = { name: 'color', value: 'blue', variant: 'on', reason: 'STATIC', type: 'string', version: 1, rule: 'fallthrough', metadata: {} }
  const seats = { name: 'seats', value: 0, variant: 'off', reason: 'DISABLED', type: 'number', version: 1, rule: 'disabled', metadata: {} }

  t.test('every flag when `flags` is omitted', async (t) => {
    const res = await evalPost(ctx, { context: { user_id: 'alice', country: 'DE', plan: 3, beta: true } })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.strictSame(res.json(), { results: { alpha, color, seats } })
  })

  t.test('an empty body evaluates every flag for an empty context', async (t) => {
    const res = await evalPost(ctx, {})
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), {
      results: { alpha: { ...alpha, value: false, variant: 'off', reason: 'DEFAULT', rule: 'fallthrough', metadata: {} }, color, seats }
    })
  })

  t.test('only the named flags; unknown names are reported inside results', async (t) => {
    const res = await evalPost(ctx, { context: { targetingKey: 'alice' }, flags: ['alpha', 'missing_flag'] })
    t.equal(res.statusCode, 200)
    t.strictSame(res.json(), {
      results: {
        alpha,
        missing_flag: { name: 'missing_flag', error_code: 'FLAG_NOT_FOUND', error_message: 'Flag "missing_flag" does not exist' }
      }
    })
    t.strictSame((await evalPost(ctx, { context: {}, flags: [] })).json(), { results: {} })
  })

  t.test('a name asked twice is answered once; the order is the order asked', async (t) => {
    const res = await evalPost(ctx, { context: { user_id: 'alice' }, flags: ['seats', 'alpha', 'missing_flag', 'alpha', 'missing_flag', 'seats'] })
    t.equal(res.statusCode, 200)
    t.strictSame(Object.keys(res.json().results), ['seats', 'alpha', 'missing_flag'])
    t.strictSame(res.json().results.alpha, alpha)
    t.equal(res.body.match(/"alpha":/g)?.length, 1, 'one member per name in the JSON text too')
  })

  t.test('every flag, ordered by name, the same bytes each time (each entry\'s JSON is made once)', async (t) => {
    const first = await evalPost(ctx, { context: { user_id: 'alice' } })
    t.strictSame(Object.keys(first.json().results), [...Object.keys(first.json().results)].sort())
    t.equal((await evalPost(ctx, { context: { user_id: 'alice' } })).body, first.body)
  })

  t.test('numeric and boolean context values match as text', async (t) => {
    await createFlag(ctx, { name: 'by_number', targeting_rules: { customer_ids: [42] } })
    const res = await evalPost(ctx, { context: { customer_id: 42 }, flags: ['by_number'] })
    t.equal(res.json().results.by_number.reason, 'TARGETING_MATCH')
    t.equal(res.json().results.by_number.rule, 'customer_ids')
  })

  t.test('1,000 names are accepted', async (t) => {
    const flags = Array.from({ length: 1000 }, (_, i) => `n${i}`)
    const res = await evalPost(ctx, { context: {}, flags })
    t.equal(res.statusCode, 200)
    t.equal(Object.keys(res.json().results).length, 1000)
  })

  t.test('bad bodies are 400 problem+json naming the field', async (t) => {
    const cases: Array<[string, unknown, string]> = [
      ['context not an object', { context: 'alice' }, 'body.context'],
      ['context an array', { context: ['alice'] }, 'body.context'],
      ['context value a string over 1024 characters', { context: { user_id: 'alice', plan: { tier: 'x'.repeat(1025) } } }, 'body.context.plan.tier'],
      ['1,001 names', { context: {}, flags: Array.from({ length: 1001 }, (_, i) => `n${i}`) }, 'body.flags'],
      ['a bad flag name', { flags: ['has space'] }, 'body.flags.0'],
      ['unknown field', { context: {}, user_id: 'alice' }, 'body.user_id'],
      ['context value too long', { context: { country: 'x'.repeat(2000) } }, 'body.context.country']
    ]
    for (const [what, payload, field] of cases) {
      const res = await evalPost(ctx, payload)
      t.equal(res.statusCode, 400, what)
      t.match(res.headers['content-type'], /^application\/problem\+json/, what)
      t.equal(res.json().code, 'FLAGPOST_ERR_VALIDATION', what)
      t.ok((res.json().errors as Array<{ field: string }>).some((e) => e.field === field), `${what}: errors name ${field}: ${res.body}`)
    }
  })

  t.test('65 context attributes are a 400', async (t) => {
    const context = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${i}`, i]))
    const res = await evalPost(ctx, { context })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'FLAGPOST_ERR_VALIDATION')
  })

  t.test('a body that is not JSON is a 400, not a 500', async (t) => {
    const res = await ctx.app.inject({ method: 'POST', url: '/evaluate', headers: { 'content-type': 'application/json' }, payload: '{"context":' })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'FLAGPOST_ERR_INVALID_JSON')
  })
})

t.test('POST /evaluate: context keys outside the attribute pattern are refused, not let through unchecked', async (t) => {
  const ctx = await build(t)
  for (const context of [{ 'bad key': { nested: [1] } }, { '1abc': 'x'.repeat(5000) }]) {
    const res = await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context } })
    t.equal(res.statusCode, 400, JSON.stringify(context).slice(0, 60))
    t.equal(res.json().code, 'FLAGPOST_ERR_VALIDATION')
  }
})
