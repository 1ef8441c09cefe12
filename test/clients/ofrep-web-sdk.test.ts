import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import { ClientProviderEvents, ErrorCode, OpenFeature, type Client, type EvaluationContext, type EventHandler } from '@openfeature/web-sdk'
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider'
import { build, createFlag, READ_KEY, type TestApp } from '../helper.js'
import { until } from '../support/until.js'

/**
 * The real OpenFeature web SDK with @openfeature/ofrep-web-provider (0.4.3) against a listening
 * Flagpost: one bulk POST /ofrep/v1/evaluate/flags per context, then polling with If-None-Match.
 *
 * What the provider needs from the runtime: fetch, Headers, Request, AbortController, DOMException,
 * TextEncoder and crypto.subtle, all global in Node 20. `document` is optional (no visibility
 * refresh without it) and EventSource is only used when a response advertises eventStreams (Flagpost
 * does not). The one missing piece is `localStorage`, used by the default cacheMode
 * 'local-cache-first': every access is caught and logged, so these tests run with cacheMode
 * 'disabled' rather than faking a browser global.
 */

interface Seen { status: number, ifNoneMatch?: string, context: unknown }
interface Served { ctx: TestApp, baseUrl: string, bulk: Seen[] }

/** A listening app that records every bulk request it answers. */
async function serve (t: Test, env: Record<string, string> = {}): Promise<Served> {
  const ctx = await build(t, env)
  const bulk: Seen[] = []
  ctx.app.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'POST' || request.url.split('?')[0] !== '/ofrep/v1/evaluate/flags') return
    const header = request.headers['if-none-match']
    bulk.push({ status: reply.statusCode, context: (request.body as { context?: unknown } | undefined)?.context, ...(header ? { ifNoneMatch: header } : {}) })
  })
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = ctx.app.server.address() as AddressInfo
  return { ctx, baseUrl: `http://127.0.0.1:${port}`, bulk }
}

let domains = 0
/** A client of its own domain, its provider initialised for `context`; closed when the test ends. */
async function clientFor (t: Test, baseUrl: string, context: EvaluationContext, options: { pollInterval?: number, headers?: Array<[string, string]> } = {}): Promise<Client> {
  const domain = `ofrep-web-${++domains}`
  t.teardown(() => OpenFeature.close())
  await OpenFeature.setContext(domain, context)
  await OpenFeature.setProviderAndWait(domain, new OFREPWebProvider({ baseUrl, cacheMode: 'disabled', ...options }))
  return OpenFeature.getClient(domain)
}

/** Resolves with the event's changed flags, or rejects after `ms`. */
function nextChange (client: Client, ms = 5000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.removeHandler(ClientProviderEvents.ConfigurationChanged, handler); reject(new Error(`no ConfigurationChanged within ${ms} ms`)) }, ms)
    const handler: EventHandler<ClientProviderEvents.ConfigurationChanged> = (details) => {
      clearTimeout(timer)
      client.removeHandler(ClientProviderEvents.ConfigurationChanged, handler)
      resolve(details?.flagsChanged ?? [])
    }
    client.addHandler(ClientProviderEvents.ConfigurationChanged, handler)
  })
}

t.test('bulk evaluation on initialisation and on every context change', async (t) => {
  const { ctx, baseUrl, bulk } = await serve(t)
  await createFlag(ctx, { name: 'beta', targeting_rules: { user_ids: ['alice'] }, metadata: { owner: 'web-team', sprint: 12 } })
  await createFlag(ctx, { name: 'enterprise', targeting_rules: { customer_ids: ['acme'] } })
  await createFlag(ctx, { name: 'theme', type: 'string', default_value: 'dark' })
  await createFlag(ctx, { name: 'page-size', type: 'number', default_value: 50 })
  await createFlag(ctx, { name: 'layout', type: 'json', default_value: { columns: 2 } })

  const client = await clientFor(t, baseUrl, { targetingKey: 'alice' })
  t.strictSame(bulk, [{ status: 200, context: { targetingKey: 'alice' } }], 'one bulk request on initialisation')
  t.strictSame(client.getBooleanDetails('beta', false), {
    flagKey: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', flagMetadata: { owner: 'web-team', sprint: 12 }
  })
  t.match(client.getStringDetails('theme', 'light'), { value: 'dark', variant: 'on', reason: 'STATIC' })
  t.equal(client.getNumberValue('page-size', 10), 50)
  t.strictSame(client.getObjectValue('layout', {}), { columns: 2 })
  t.match(client.getBooleanDetails('nope', true), { value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND })
  t.match(client.getBooleanDetails('theme', false), { value: false, reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH })

  await OpenFeature.setContext(client.metadata.domain as string, { targetingKey: 'bob' })
  t.equal(bulk.length, 2, 'setContext evaluates again')
  t.match(bulk[1], { status: 200, context: { targetingKey: 'bob' } })
  t.equal(client.getBooleanValue('beta', true), false, 'bob is not in beta')

  // Only customer_id changes: the provider keeps and re-sends its ETag, and must still get the new result.
  await OpenFeature.setContext(client.metadata.domain as string, { targetingKey: 'bob', customer_id: 'acme' })
  t.match(bulk[2], { status: 200, context: { targetingKey: 'bob', customer_id: 'acme' } })
  t.ok(bulk[2].ifNoneMatch, 'the provider sent If-None-Match for the new context')
  t.equal(client.getBooleanValue('enterprise', false), true, 'acme is an enterprise customer')
})

t.test('polling: 304 while nothing changes, a flag change arrives by the next poll', async (t) => {
  const { ctx, baseUrl, bulk } = await serve(t)
  await createFlag(ctx, { name: 'banner', type: 'string', default_value: 'hello' })
  await createFlag(ctx, { name: 'beta', targeting_rules: { user_ids: ['alice'] } })

  const client = await clientFor(t, baseUrl, { targetingKey: 'bob' }, { pollInterval: 50 })
  t.equal(client.getStringValue('banner', ''), 'hello')
  await t.resolves(until(() => bulk.filter((r) => r.status === 304).length >= 3, 5000, 20), 'polls answered 304')
  const etag = bulk[1].ifNoneMatch
  t.match(etag, /^"[A-Za-z0-9_-]+"$/, 'polls send the ETag back')
  t.ok(bulk.slice(1).every((r) => r.status === 304 && r.ifNoneMatch === etag), 'every poll so far: If-None-Match, 304')

  const changed = nextChange(client)
  t.equal((await ctx.write({ method: 'PUT', url: '/flags/banner', payload: { default_value: 'goodbye' } })).statusCode, 200)
  t.strictSame(await changed, ['banner'], 'ConfigurationChanged names the changed flag')
  t.equal(client.getStringValue('banner', ''), 'goodbye')
  const after = bulk.findIndex((r) => r.status === 200 && r.ifNoneMatch === etag)
  t.ok(after > 0, 'the poll after the change: a 200 for the old ETag')

  // A change that does not concern this context (bob is not alice) changes nothing bob sees: still 304.
  const count = bulk.length
  await ctx.write({ method: 'PUT', url: '/flags/beta', payload: { targeting_rules: { user_ids: ['alice', 'carol'] } } })
  await t.resolves(until(() => bulk.length >= count + 3, 5000, 20))
  t.ok(bulk.slice(count).every((r) => r.status === 304), 'still 304 for bob')
  t.equal(client.getBooleanValue('beta', true), false)

  // A new flag reaches the client too.
  const created = nextChange(client)
  await createFlag(ctx, { name: 'fresh', default_value: true })
  t.strictSame(await created, ['fresh'])
  t.equal(client.getBooleanValue('fresh', false), true)
})

t.test('AUTH_READS=true: the provider sends its headers with every bulk request', async (t) => {
  const { ctx, baseUrl, bulk } = await serve(t, { AUTH_READS: 'true' })
  await createFlag(ctx, { name: 'private_flag', default_value: true })
  const client = await clientFor(t, baseUrl, { targetingKey: 'alice' }, { pollInterval: 50, headers: [['X-API-Key', READ_KEY]] })
  t.equal(client.getBooleanValue('private_flag', false), true)
  await t.resolves(until(() => bulk.filter((r) => r.status === 304).length >= 2, 5000, 20), 'polls are authorised too')
  t.ok(bulk.every((r) => r.status === 200 || r.status === 304))

  // Without a key, initialisation fails for good: the client serves defaults.
  const domain = 'ofrep-web-no-key'
  t.teardown(() => OpenFeature.close())
  await OpenFeature.setContext(domain, { targetingKey: 'alice' })
  await t.rejects(OpenFeature.setProviderAndWait(domain, new OFREPWebProvider({ baseUrl, cacheMode: 'disabled' })))
  const anonymous = OpenFeature.getClient(domain)
  t.match(anonymous.getBooleanDetails('private_flag', false), { value: false, reason: 'ERROR', errorCode: ErrorCode.PROVIDER_FATAL })
})
