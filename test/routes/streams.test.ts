import t, { type Test } from 'tap'
import { createStreamTokens } from '../../src/services/stream-tokens.js'
import { build, createFlag, READ_KEY, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { dataOf, type SseEvent, type SseStream } from '../support/sse.js'
import { connected, createKey, liveApp, nextPercentage, write, type LiveApp } from '../support/streams.js'

// SPEC §12, OFREP ADR-0008: the bulk evaluation advertises an event stream for its environment, on a
// signed short-lived token instead of the key; the stream sends `refetchEvaluation` with the revision
// as id and etag for every change that can alter what the environment evaluates, and nothing else;
// the re-fetch with that etag answers at least that revision. Real listening servers, real sockets.

type Build = Parameters<typeof build>[0]
const admin = { 'x-api-key': WRITE_KEY }
const BULK = '/ofrep/v1/evaluate/flags'
const STREAM = '/ofrep/v1/event-stream'

/** The stream the bulk evaluation at `url` advertises to `headers`. */
async function advertised (ctx: TestApp, headers: Record<string, string>, url = BULK): Promise<{ type: string, endpoint: { requestUri: string }, inactivityDelaySec: number }> {
  const res = await ctx.app.inject({ method: 'POST', url, headers, payload: { context: { targetingKey: 'u1' } } })
  if (res.statusCode !== 200) throw new Error(`bulk ${url}: ${res.statusCode} ${res.body}`)
  const body = res.json()
  if (!Array.isArray(body.eventStreams) || body.eventStreams.length !== 1) throw new Error(`no single event stream in ${res.body}`)
  return body.eventStreams[0]
}

const tokenOf = (requestUri: string): string => new URL(requestUri, 'http://x').searchParams.get('token') ?? ''

const isRefetch = (event: SseEvent, revision: number): boolean =>
  event.id === String(revision) && event.event === 'message' && dataOf(event).type === 'refetchEvaluation' && dataOf(event).etag === `"${revision}"`

t.test('the bulk evaluation advertises an SSE stream on a token: the key is not in the URL, the token opens the stream', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const { secret } = await createKey(ctx, { name: 'web', role: 'client', environments: ['production'] })
  const stream = await advertised(ctx, { authorization: `Bearer ${secret}` })
  t.match(stream, { type: 'sse', inactivityDelaySec: 120, endpoint: { requestUri: /^\/ofrep\/v1\/event-stream\?token=[^&]+$/ } })
  t.notOk('url' in stream, 'exactly one of url and endpoint (ADR-0008)')
  const token = tokenOf(stream.endpoint.requestUri)
  t.match(token, /^production\./, 'the token names the key\'s environment')
  const random = secret.slice(secret.indexOf('_', 3) + 1)
  for (const part of [secret, random, random.slice(0, 12), random.slice(-12)]) t.notOk(stream.endpoint.requestUri.includes(part), 'no part of the key in the URL')
  t.equal((await advertised(ctx, { authorization: `Bearer ${secret}` })).endpoint.requestUri, stream.endpoint.requestUri, 'the same URL on the next bulk (providers keep their connection)')

  const sse = await connected(await ctx.open(stream.endpoint.requestUri))
  t.equal(sse.status, 200)
  t.match(sse.headers['content-type'], /^text\/event-stream/)
  t.equal(sse.headers['cache-control'], 'no-store')
  t.equal(sse.retry, 2000, 'tells EventSource how long to wait before reconnecting')
  const revision = await write(ctx, '/flags/f', { enabled: false })
  t.ok(isRefetch(await sse.next(), revision), 'the token\'s stream carries the production write')
})

t.test('a prefixed bulk evaluation advertises the prefixed stream of its environment', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const stream = await advertised(ctx, admin, `/environments/development${BULK}`)
  t.match(stream.endpoint.requestUri, /^\/environments\/development\/ofrep\/v1\/event-stream\?token=development\./)
  const dev = await connected(await ctx.open(stream.endpoint.requestUri))
  const prod = await connected(await ctx.open(STREAM, admin))
  const revision = await write(ctx, '/environments/development/flags/f', { enabled: true })
  t.ok(isRefetch(await dev.next(), revision), 'development\'s stream has its write')
  const sentinel = await write(ctx, '/flags/f', { enabled: false })
  t.ok(isRefetch(await prod.next(), sentinel))
  t.same(prod.events.map((e) => e.id), [String(sentinel)], 'production\'s stream had nothing of the development write')
})

t.test('refused stream tokens and keys', async (t) => {
  const ctx = await liveApp(t, { AUTH_READS: 'true' })
  const secret = await ctx.container.repositories.meta.streamSecret()
  const tokens = createStreamTokens(secret)
  const good = tokenOf((await advertised(ctx, admin)).endpoint.requestUri)
  const [payload, signature] = [good.slice(0, good.lastIndexOf('.')), good.slice(good.lastIndexOf('.') + 1)]
  const status = async (path: string, headers: Record<string, string> = {}): Promise<SseStream> => ctx.open(path, headers)

  t.test('the advertised token works', async (t) => {
    const sse = await status(`${STREAM}?token=${good}`)
    t.equal(sse.status, 200)
    sse.close()
  })
  const refusals: Array<[string, string, number, string]> = [
    ['a forged signature', `${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['a token moved to another environment', `development${payload.slice('production'.length)}.${signature}`, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['a token signed with another secret', createStreamTokens(`${secret}x`).issue('production', payload.split('.')[1]), 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['garbage', 'garbage', 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['an empty token', '', 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['a key as the token', WRITE_KEY, 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['an expired token', createStreamTokens(secret, () => Date.now() - 3 * 3_600_000).issue('production', payload.split('.')[1]), 401, 'FLAGPOST_ERR_UNAUTHORIZED'],
    ['an anonymous token while AUTH_READS=true', tokens.issue('production', '-'), 401, 'FLAGPOST_ERR_UNAUTHORIZED']
  ]
  for (const [label, token, code, error] of refusals) {
    t.test(label, async (t) => {
      const sse = await status(`${STREAM}?token=${encodeURIComponent(token)}`)
      t.equal(sse.status, code, sse.text)
      t.equal(JSON.parse(sse.text).code, error)
      t.equal(ctx.container.services.streams.stats().open.ofrep, 0, 'no stream attached')
    })
  }
  t.test('a token for production under /environments/development: 403', async (t) => {
    const sse = await status(`/environments/development${STREAM}?token=${good}`)
    t.equal(sse.status, 403)
    t.equal(JSON.parse(sse.text).code, 'FLAGPOST_ERR_FORBIDDEN')
  })
  t.test('a token for production unprefixed streams production', async (t) => {
    const sse = await connected(await status(`${STREAM}?token=${good}`))
    await createFlag(ctx, { name: 'g', type: 'boolean' })
    t.ok(isRefetch(await sse.next(), await revisionOf(ctx)))
  })
  t.test('no key and no token under AUTH_READS=true: 401', async (t) => {
    t.equal((await status(STREAM)).status, 401)
  })
  t.test('an unknown environment: 404', async (t) => {
    const sse = await status(`/environments/nowhere${STREAM}`, admin)
    t.equal(sse.status, 404)
    t.equal(JSON.parse(sse.text).code, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
  })
  t.test('a client key on /events: 403', async (t) => {
    const { secret: client } = await createKey(ctx, { name: 'c', role: 'client', environments: ['production'] })
    const sse = await status('/events', { 'x-api-key': client })
    t.equal(sse.status, 403)
    t.equal(JSON.parse(sse.text).code, 'FLAGPOST_ERR_FORBIDDEN')
  })
  for (const bad of ['abc', '-1', '1.5', '12345678901234567', ' 1 2']) {
    t.test(`Last-Event-ID ${JSON.stringify(bad)}: 400 on both streams`, async (t) => {
      for (const path of [STREAM, '/events']) {
        const sse = await status(path, { ...admin, 'last-event-id': bad })
        t.equal(sse.status, 400, `${path}: ${sse.text}`)
        t.equal(JSON.parse(sse.text).code, 'FLAGPOST_ERR_VALIDATION')
      }
    })
  }
})

t.test('a token of a revoked key is refused at once, and the key\'s open streams end', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  const { id, secret } = await createKey(ctx, { name: 'soon-gone', role: 'viewer' })
  const uri = (await advertised(ctx, { 'x-api-key': secret })).endpoint.requestUri
  const before = await connected(await ctx.open(uri))
  const changes = await connected(await ctx.open('/events', { 'x-api-key': secret }))
  t.equal(before.status, 200, 'the token works while the key does')
  const res = await ctx.write({ method: 'DELETE', url: `/api-keys/${id}` })
  t.equal(res.statusCode, 204)
  const after = await ctx.open(uri)
  t.equal(after.status, 401, 'the same token: 401 once the key is revoked')
  // A revoked key reads nothing more: its streams are ended, not left to carry what follows.
  await createFlag(ctx, { name: 'after-revocation', type: 'boolean' })
  await Promise.race([Promise.all([before.closed, changes.closed]), new Promise((resolve) => setTimeout(resolve, 2000))])
  t.ok(before.ended && changes.ended, 'both streams of the revoked key ended')
  t.notOk(changes.text.includes('after-revocation'), 'the change stream carried nothing written after the revocation')
  t.notOk(before.events.length > 0, 'nor did the OFREP stream')
})

t.test('a token whose environment was deleted: 404', async (t) => {
  const ctx = await liveApp(t)
  await write(ctx, '/environments', { key: 'qa' }, 'POST')
  const uri = (await advertised(ctx, admin, `/environments/qa${BULK}`)).endpoint.requestUri
  t.equal((await ctx.write({ method: 'DELETE', url: '/environments/qa' })).statusCode, 204)
  const sse = await ctx.open(uri)
  t.equal(sse.status, 404, sse.text)
})

/** An app with a flag `f`, and production's and development's streams open. */
async function environments (t: Build): Promise<LiveApp & { prod: SseStream, dev: SseStream }> {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'string', variants: { a: 'A', b: 'B' }, default_variant: 'a', off_variant: 'b' })
  await createFlag(ctx, { name: 'sentinel', type: 'boolean' })
  const prod = await connected(await ctx.open(STREAM, { 'x-api-key': READ_KEY }))
  const dev = await connected(await ctx.open(`/environments/development${STREAM}`, { 'x-api-key': READ_KEY }))
  return { ...ctx, prod, dev }
}

/**
 * What `stream` received from `change` on: `change` is made and delivered (settled) on its own,
 * then a production write follows; the stream has that write's event last.
 */
async function afterChange (t: Test, ctx: LiveApp, stream: SseStream, change: () => Promise<unknown>): Promise<{ events: SseEvent[], sentinel: number }> {
  const mark = stream.events.length
  await change()
  await ctx.container.services.streams.settled()
  const sentinel = await write(ctx, '/flags/sentinel', { targeting_rules: { percentage: nextPercentage() } })
  await stream.next((e) => e.id === String(sentinel))
  return { events: stream.events.slice(mark), sentinel }
}

t.test('OFREP events: a production write is one refetchEvaluation, id and etag its revision', async (t) => {
  const ctx = await environments(t)
  const before = Math.floor(Date.now() / 1000)
  const revision = await write(ctx, '/flags/f', { default_variant: 'b' })
  const event = await ctx.prod.next()
  t.equal(event.id, String(revision))
  t.equal(event.event, 'message', 'the envelope is always `message`; the type is in the data')
  const data = dataOf<{ type: string, etag: string, lastModified: number }>(event)
  t.same(Object.keys(data).sort(), ['etag', 'lastModified', 'type'])
  t.equal(data.type, 'refetchEvaluation')
  t.equal(data.etag, `"${revision}"`)
  t.ok(Number.isInteger(data.lastModified) && data.lastModified >= before - 1 && data.lastModified <= Date.now() / 1000 + 1, 'lastModified in Unix seconds')
  const { events, sentinel } = await afterChange(t, ctx, ctx.prod, async () => {})
  t.same(events.map((e) => e.id), [String(sentinel)], 'one event per write, no repeat')
  t.same(ctx.prod.events.map((e) => e.id), [String(revision), String(sentinel)])
})

t.test('OFREP events: another environment\'s configuration change is not sent', async (t) => {
  const ctx = await environments(t)
  let revision = 0
  const { events, sentinel } = await afterChange(t, ctx, ctx.prod, async () => { revision = await write(ctx, '/environments/development/flags/f', { enabled: false, default_variant: 'b' }) })
  t.same(events.map((e) => e.id), [String(sentinel)], 'only the later production write')
  t.ok(isRefetch(await ctx.dev.next(), revision), 'development had its own write')
})

t.test('OFREP events: a shared field (variants) changed under development reaches production', async (t) => {
  const ctx = await environments(t)
  const revision = await write(ctx, '/environments/development/flags/f', { variants: { b: 'Bee' } })
  t.ok(isRefetch(await ctx.prod.next(), revision), 'production: the variant it serves changed')
  t.ok(isRefetch(await ctx.dev.next(), revision))
})

t.test('OFREP events: a description (not evaluated) changes nothing served', async (t) => {
  const ctx = await environments(t)
  const { events, sentinel } = await afterChange(t, ctx, ctx.prod, () => write(ctx, '/environments/development/flags/f', { description: 'words' }))
  t.same(events.map((e) => e.id), [String(sentinel)])
})

t.test('OFREP events: creating an API key is not sent', async (t) => {
  const ctx = await environments(t)
  const { events, sentinel } = await afterChange(t, ctx, ctx.prod, () => createKey(ctx, { name: 'quiet', role: 'viewer' }))
  t.same(events.map((e) => e.id), [String(sentinel)])
})

t.test('OFREP events: customers (global) reach every environment, removal included', async (t) => {
  const ctx = await environments(t)
  const added = await write(ctx, '/customers', { id: 'acme' }, 'POST')
  t.ok(isRefetch(await ctx.prod.next(), added))
  t.ok(isRefetch(await ctx.dev.next(), added))
  const removed = await write(ctx, '/customers/acme', {}, 'DELETE')
  t.ok(isRefetch(await ctx.prod.next(), removed), 'removing a customer changes who its users evaluate as')
  t.ok(isRefetch(await ctx.dev.next(), removed))
})

t.test('OFREP events: a flag created, renamed or deleted anywhere reaches every environment', async (t) => {
  const ctx = await environments(t)
  for (const [what, change] of [
    ['create', () => write(ctx, '/environments/development/flags', { name: 'newcomer', type: 'boolean' }, 'POST')],
    ['rename', () => write(ctx, '/environments/development/flags/newcomer/rename', { new_name: 'renamed' }, 'POST')],
    ['delete', () => write(ctx, '/environments/development/flags/renamed', {}, 'DELETE')]
  ] as const) {
    const revision = await change()
    t.ok(isRefetch(await ctx.prod.next(), revision), `${what} in development: production re-fetches`)
  }
})

t.test('the re-fetch an event triggers answers at least its revision; a malformed etag is an OFREP 400', async (t) => {
  const ctx = await environments(t)
  const revision = await write(ctx, '/flags/f', { default_variant: 'b' })
  const etag = dataOf<{ etag: string }>(await ctx.prod.next()).etag
  const refetch = await ctx.app.inject({ method: 'POST', url: `${BULK}?flagConfigEtag=${encodeURIComponent(etag)}`, headers: { 'x-api-key': READ_KEY }, payload: { context: { targetingKey: 'u1' } } })
  t.equal(refetch.statusCode, 200)
  t.match(refetch.json().flags.find((f: { key: string }) => f.key === 'f'), { value: 'B', variant: 'b' })
  t.equal(ctx.container.snapshot.revision, revision)

  const started = performance.now()
  const ahead = await ctx.app.inject({ method: 'POST', url: `${BULK}?flagConfigEtag=${encodeURIComponent('"999999"')}`, payload: { context: {} } })
  t.equal(ahead.statusCode, 200, 'an etag from the future: the instance tries to catch up, then answers what it has')
  t.ok(performance.now() - started < 3000, 'within its bound (1 s) and slack')

  for (const bad of ['12', '"abc"', '"12', '""', `"${'9'.repeat(17)}"`]) {
    const res = await ctx.app.inject({ method: 'POST', url: `${BULK}?flagConfigEtag=${encodeURIComponent(bad)}`, payload: { context: {} } })
    t.equal(res.statusCode, 400, `flagConfigEtag=${bad}`)
    t.match(res.headers['content-type'], /^application\/json/, 'an OFREP body, not problem+json')
    t.match(res.json(), { errorCode: /^[A-Z_]+$/, errorDetails: /flagConfigEtag/ })
  }
  const long = await ctx.app.inject({ method: 'POST', url: `${BULK}?flagConfigLastModified=${'1'.repeat(41)}`, payload: { context: {} } })
  t.equal(long.statusCode, 400, 'flagConfigLastModified over 40 characters')
  const lastModified = await ctx.app.inject({ method: 'POST', url: `${BULK}?flagConfigLastModified=${Math.floor(Date.now() / 1000)}`, payload: { context: {} } })
  t.equal(lastModified.statusCode, 200, 'a lastModified alone: catch up once, answer')
})

t.test('HEAD on a stream answers the head and ends; the connection serves the next request', async (t) => {
  const ctx = await liveApp(t)
  for (const path of [STREAM, '/events']) {
    const res = await fetch(`${ctx.base}${path}`, { method: 'HEAD', headers: admin, signal: AbortSignal.timeout(3000) })
    t.equal(res.status, 200, path)
    t.match(res.headers.get('content-type'), /^text\/event-stream/)
    // The same keep-alive connection (undici reuses it) must not be held by a response that never ends.
    const next = await fetch(`${ctx.base}/healthz`, { signal: AbortSignal.timeout(3000) })
    t.equal(next.status, 200)
  }
  t.same(ctx.container.services.streams.stats().open, { ofrep: 0, changes: 0 }, 'no stream left attached')
})

t.test('a key that expires while its streams are open: they end at the next heartbeat', async (t) => {
  const ctx = await liveApp(t, { STREAM_HEARTBEAT_MS: '100' })
  const expiresAt = new Date(Date.now() + 1500)
  const { secret } = await createKey(ctx, { name: 'short-lived', role: 'viewer', expires_at: expiresAt.toISOString() })
  const streams = await Promise.all([ctx.open('/events', { 'x-api-key': secret }), ctx.open(STREAM, { 'x-api-key': secret })].map(async (s) => connected(await s)))
  t.notOk(streams.some((s) => s.ended), 'open while the key is valid')
  await Promise.race([Promise.all(streams.map((s) => s.closed)), new Promise((resolve) => setTimeout(resolve, 5000))])
  t.ok(streams.every((s) => s.ended), 'both ended once it expired')
  t.ok(Date.now() >= expiresAt.getTime(), 'not before')
  t.equal((await ctx.open('/events', { 'x-api-key': secret })).status, 401)
})

t.test('CORS: a stream keeps the CORS headers of an allowed origin', async (t) => {
  const ctx = await liveApp(t, { CORS_ORIGINS: 'https://app.example' })
  const uri = (await advertised(ctx, admin)).endpoint.requestUri
  const sse = await connected(await ctx.open(uri, { origin: 'https://app.example' }))
  t.equal(sse.headers['access-control-allow-origin'], 'https://app.example', 'EventSource in the page may read it')
  const other = await connected(await ctx.open(uri, { origin: 'https://evil.example' }))
  t.notOk('access-control-allow-origin' in other.headers, 'another origin gets no CORS grant')
})
