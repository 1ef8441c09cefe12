import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import { ErrorCode, OpenFeature, StandardResolutionReasons, type Client } from '@openfeature/server-sdk'
import { OFREPProvider } from '@openfeature/ofrep-provider'
import { build, createFlag, READ_KEY, type TestApp } from '../helper.js'

/**
 * The real OpenFeature server SDK with @openfeature/ofrep-provider (0.1.3) against a listening
 * Flagpost: one POST /ofrep/v1/evaluate/flags/{key} per evaluation.
 */

interface Served { ctx: TestApp, baseUrl: string }

async function serve (t: Test, env: Record<string, string> = {}): Promise<Served> {
  const ctx = await build(t, env)
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = ctx.app.server.address() as AddressInfo
  return { ctx, baseUrl: `http://127.0.0.1:${port}` }
}

let domains = 0
/** A client of its own domain and provider; every provider is closed when the test ends. */
async function clientFor (t: Test, baseUrl: string, headers?: Array<[string, string]>): Promise<Client> {
  const domain = `ofrep-server-${++domains}`
  t.teardown(() => OpenFeature.close())
  await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl, ...(headers ? { headers } : {}) }))
  return OpenFeature.getClient(domain)
}

t.test('the OFREP server provider evaluates Flagpost flags', async (t) => {
  const { ctx, baseUrl } = await serve(t)
  await createFlag(ctx, { name: 'new_checkout', targeting_rules: { user_ids: ['alice'] }, metadata: { owner: 'checkout-team', ticket: 1234, beta: true } })
  await createFlag(ctx, { name: 'theme.color', type: 'string', variants: { blue: '#00f', green: '#0f0' }, default_variant: 'blue', off_variant: 'green' })
  await createFlag(ctx, { name: 'max-items', type: 'number', default_value: 12.5, targeting_rules: { percentage: 0 } })
  await createFlag(ctx, { name: 'layout', type: 'json', default_value: { columns: 3, widgets: ['news', 'weather'] } })
  await createFlag(ctx, { name: 'killed', enabled: false, default_value: true })

  t.test('boolean: value, variant, reason and flag metadata', async (t) => {
    const client = await clientFor(t, baseUrl)
    t.strictSame(await client.getBooleanDetails('new_checkout', false, { targetingKey: 'alice' }), {
      flagKey: 'new_checkout',
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      flagMetadata: { owner: 'checkout-team', ticket: 1234, beta: true }
    })
    t.match(await client.getBooleanDetails('new_checkout', true, { targetingKey: 'bob' }),
      { value: false, variant: 'off', reason: 'DEFAULT', flagMetadata: { owner: 'checkout-team' } })
    t.match(await client.getBooleanDetails('killed', true, { targetingKey: 'alice' }), { value: false, variant: 'off', reason: 'DISABLED' })
    t.equal(await client.getBooleanValue('new_checkout', false, { targetingKey: 'alice', country: 'DE', seats: 3, trial: false }), true)
  })

  t.test('string', async (t) => {
    const client = await clientFor(t, baseUrl)
    t.strictSame(await client.getStringDetails('theme.color', 'black', { targetingKey: 'alice' }),
      { flagKey: 'theme.color', value: '#00f', variant: 'blue', reason: StandardResolutionReasons.STATIC, flagMetadata: {} })
  })

  t.test('number', async (t) => {
    const client = await clientFor(t, baseUrl)
    t.strictSame(await client.getNumberDetails('max-items', 1, { targetingKey: 'alice' }),
      { flagKey: 'max-items', value: 0, variant: 'off', reason: 'DEFAULT', flagMetadata: {} })
    await ctx.write({ method: 'PUT', url: '/flags/max-items', payload: { targeting_rules: { percentage: 100 } } })
    t.equal(await client.getNumberValue('max-items', 1, { targetingKey: 'alice' }), 12.5, 'a change is seen at once: no client cache')
  })

  t.test('object', async (t) => {
    const client = await clientFor(t, baseUrl)
    t.strictSame(await client.getObjectDetails('layout', {}, { targetingKey: 'alice' }),
      { flagKey: 'layout', value: { columns: 3, widgets: ['news', 'weather'] }, variant: 'on', reason: 'STATIC', flagMetadata: {} })
  })

  t.test('FLAG_NOT_FOUND: the default value', async (t) => {
    const client = await clientFor(t, baseUrl)
    t.match(await client.getBooleanDetails('no_such_flag', true, { targetingKey: 'alice' }), {
      flagKey: 'no_such_flag', value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: 'Flag "no_such_flag" does not exist'
    })
    t.equal(await client.getStringValue('no_such_flag', 'fallback'), 'fallback')
  })

  t.test('TYPE_MISMATCH: a string flag asked as a boolean', async (t) => {
    const client = await clientFor(t, baseUrl)
    t.match(await client.getBooleanDetails('theme.color', false, { targetingKey: 'alice' }),
      { value: false, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH })
    t.match(await client.getNumberDetails('new_checkout', 7), { value: 7, errorCode: ErrorCode.TYPE_MISMATCH })
  })

  t.test('a nested context attribute is read as its dotted name (account.plan)', async (t) => {
    await createFlag(ctx, {
      name: 'pro_only',
      targeting_rules: { rules: [{ id: 'pro', clauses: [{ attribute: 'account.plan', operator: 'eq', values: ['pro'] }], serve: { variant: 'on' } }], percentage: 0 }
    })
    const client = await clientFor(t, baseUrl)
    t.match(await client.getBooleanDetails('pro_only', false, { targetingKey: 'alice', account: { plan: 'pro', seats: [1, 2] } }),
      { value: true, variant: 'on', reason: 'TARGETING_MATCH' })
    t.match(await client.getBooleanDetails('pro_only', true, { targetingKey: 'alice', account: { plan: 'free' } }),
      { value: false, variant: 'off', reason: 'DEFAULT' })
  })

  t.test('INVALID_CONTEXT: a context nested beyond the limit', async (t) => {
    const client = await clientFor(t, baseUrl)
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } }
    t.match(await client.getBooleanDetails('new_checkout', false, { targetingKey: 'alice', ...deep }), {
      value: false, reason: 'ERROR', errorCode: ErrorCode.INVALID_CONTEXT, errorMessage: /nests deeper than 8 levels/
    })
  })
})

t.test('AUTH_READS=true: the provider needs a key in its headers', async (t) => {
  const { ctx, baseUrl } = await serve(t, { AUTH_READS: 'true' })
  await createFlag(ctx, { name: 'private_flag', default_value: true })

  t.test('without a key: the default value and an error', async (t) => {
    const client = await clientFor(t, baseUrl)
    const details = await client.getBooleanDetails('private_flag', false, { targetingKey: 'alice' })
    // The provider turns a 401 into an error without a code or message: the SDK reports GENERAL.
    t.match(details, { value: false, reason: 'ERROR', errorCode: ErrorCode.GENERAL })
  })

  t.test('with X-API-Key or a bearer token: the value', async (t) => {
    for (const headers of [[['X-API-Key', READ_KEY]], [['Authorization', `Bearer ${READ_KEY}`]]] as Array<Array<[string, string]>>) {
      const client = await clientFor(t, baseUrl, headers)
      t.match(await client.getBooleanDetails('private_flag', false, { targetingKey: 'alice' }), { value: true, reason: 'STATIC' }, headers[0][0])
    }
  })
})

t.test('rate limited: the provider honours Retry-After and pauses', async (t) => {
  const { ctx, baseUrl } = await serve(t, { RATE_LIMIT_PER_MINUTE: '2' })
  await createFlag(ctx, { name: 'f', default_value: true })
  let requests = 0
  ctx.app.server.on('request', () => { requests++ })
  const client = await clientFor(t, baseUrl)
  t.equal(await client.getBooleanValue('f', false), true)
  t.equal(await client.getBooleanValue('f', false), true)
  t.match(await client.getBooleanDetails('f', false), { value: false, reason: 'ERROR', errorCode: ErrorCode.GENERAL, errorMessage: /rate limit exceeded/i })
  const before = requests
  t.match(await client.getBooleanDetails('f', false), { value: false, errorCode: ErrorCode.GENERAL, errorMessage: /paused due to TooManyRequests/ })
  t.equal(requests, before, 'paused until Retry-After: no request is sent')
})
