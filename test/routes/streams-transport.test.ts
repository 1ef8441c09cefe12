import type { IncomingMessage, ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { build, createFlag, READ_KEY, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { listening, openSse, sseClient } from '../support/sse.js'
import { connected, liveApp } from '../support/streams.js'
import { testDatabase } from '../support/test-database.js'
import { until } from '../support/until.js'

// SPEC §12: heartbeats keep idle streams open; a client that stops reading is dropped once its unsent
// bytes pass STREAM_BUFFER_BYTES, never buffered without bound, and the server goes on serving
// everyone else; /metrics counts streams and events; closing the app ends every stream; a stream
// token is a credential and never reaches a log line.

const admin = { 'x-api-key': WRITE_KEY }
const STREAM = '/ofrep/v1/event-stream'

/** A sample of the /metrics text: `name{kind="x"}` → value. */
async function metric (ctx: TestApp, name: string, kind: string): Promise<number | undefined> {
  const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body
  const line = text.split('\n').find((l) => l.startsWith(`${name}{kind="${kind}"} `))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

t.test('heartbeats: a comment every STREAM_HEARTBEAT_MS on both streams, not counted as events', async (t) => {
  const ctx = await liveApp(t, { STREAM_HEARTBEAT_MS: '100' })
  const [ofrep, changes] = await Promise.all([ctx.open(STREAM, admin), ctx.open('/events', admin)].map(async (s) => connected(await s)))
  await Promise.all([ofrep.comment((c) => c === 'heartbeat', 3, 5000), changes.comment((c) => c === 'heartbeat', 3, 5000)])
  t.same([ofrep.events, changes.events], [[], []], 'heartbeats are comments: EventSource dispatches nothing')
  t.match(ofrep.text, /^retry: 2000\n: connected\n\n(: heartbeat\n\n)+$/, 'the stream so far: the preamble and heartbeats, nothing else')
  t.equal(await metric(ctx, 'flagpost_stream_events_total', 'ofrep'), 0)
})

t.test('the default heartbeat is 15 s: none within a short wait', async (t) => {
  const ctx = await liveApp(t)
  const stream = await connected(await ctx.open(STREAM, admin))
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(stream.comments, ['connected'])
})

t.test('/metrics counts open streams, opened streams and events by kind', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  const streams = await Promise.all([ctx.open(STREAM, admin), ctx.open(STREAM, admin), ctx.open('/events', admin)].map(async (s) => connected(await s)))
  t.equal(await metric(ctx, 'flagpost_streams_open', 'ofrep'), 2)
  t.equal(await metric(ctx, 'flagpost_streams_open', 'changes'), 1)
  t.equal(await metric(ctx, 'flagpost_streams_opened_total', 'ofrep'), 2)
  t.equal(await metric(ctx, 'flagpost_stream_events_total', 'ofrep'), 0)
  const res = await ctx.write({ method: 'PUT', url: '/flags/f', payload: { enabled: false } })
  t.equal(res.statusCode, 200)
  await Promise.all(streams.map(async (s) => s.next()))
  t.equal(await metric(ctx, 'flagpost_stream_events_total', 'ofrep'), 2, 'one event to each OFREP stream')
  t.equal(await metric(ctx, 'flagpost_stream_events_total', 'changes'), 1)
  streams[0].close()
  await until(async () => await metric(ctx, 'flagpost_streams_open', 'ofrep') === 1, 10_000, 20, 'the server to see the client go')
  t.equal(await metric(ctx, 'flagpost_streams_opened_total', 'ofrep'), 2, 'opened counts what was opened, not what is open')
  t.equal(await metric(ctx, 'flagpost_streams_dropped_total', 'ofrep'), 0)
})

/** A metadata object of ~50 KB (50 values of 1000 characters), different for each `i`. */
const bulky = (i: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`k${k}`, `${i}-${k}-`.padEnd(1000, String.fromCharCode(97 + (i % 26)))]))

t.test('a client that stops reading is dropped past STREAM_BUFFER_BYTES, its unsent bytes bounded; everyone else is still served', async (t) => {
  const LIMIT = 4096
  const ctx = await build(t, { STREAM_BUFFER_BYTES: String(LIMIT) })
  const base = await listening(ctx.app)
  const open = sseClient(t, base)
  await createFlag(ctx, { name: 'big', type: 'boolean' })
  // The server's side of the slow stream, to see what it holds for it (response and socket buffers).
  let slow: ServerResponse | undefined
  ctx.app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => { if (req.headers['user-agent'] === 'slow') slow = res })

  // A raw client: sends the request, then never reads (paused), so what the server writes piles up.
  const socket: Socket = connect(Number(new URL(base).port), '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  let received = 0
  socket.on('data', (chunk: Buffer) => { received += chunk.length })
  socket.write(`GET /events HTTP/1.1\r\nHost: flagpost\r\nUser-Agent: slow\r\nX-API-Key: ${WRITE_KEY}\r\nAccept: text/event-stream\r\n\r\n`)
  await until(() => received > 0, 10_000, 20, 'the slow stream to open')
  socket.pause()
  const reader = await connected(await open('/events', admin))
  const ofrep = await connected(await open(STREAM, admin))
  t.equal(ctx.container.services.streams.stats().open.changes, 2)
  t.ok(slow !== undefined, 'the server holds the slow response')

  let writes = 0
  let largestEvent = 0
  let mostHeld = 0
  while (await metric(ctx, 'flagpost_streams_dropped_total', 'changes') !== 1) {
    if (writes >= 400) throw new Error(`not dropped after ${writes} writes of ~100 KB events`)
    const res = await ctx.write({ method: 'PUT', url: '/flags/big', payload: { metadata: bulky(writes) } })
    if (res.statusCode !== 200) throw new Error(`write ${writes}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    writes++
    await ctx.container.services.streams.settled()
    largestEvent = Math.max(largestEvent, Buffer.byteLength((await ctx.app.inject({ method: 'GET', url: '/changes?limit=1', headers: admin })).body) + 64)
    mostHeld = Math.max(mostHeld, slow!.writableLength)
  }
  t.comment(`dropped after ${writes} writes of ~${Math.round(largestEvent / 1024)} KB events`)
  t.ok(largestEvent > LIMIT, 'every event alone is past the limit')
  t.ok(mostHeld <= LIMIT + largestEvent, `the server held at most the limit and one event for it (${mostHeld} bytes)`)
  t.ok(slow!.destroyed, 'and then let go of the response')
  const stats = ctx.container.services.streams.stats()
  t.same(stats.open, { ofrep: 1, changes: 1 }, 'the slow stream is gone, the others are open')
  t.equal(stats.totals.ofrep.dropped, 0)
  t.equal(await metric(ctx, 'flagpost_streams_open', 'changes'), 1)

  const last = await revisionOf(ctx)
  await reader.next((e) => e.id === String(last), 10_000)
  t.equal(reader.events.length, writes, 'the reading client got every event, the slow one notwithstanding')
  t.equal((await ofrep.next((e) => e.id === String(last), 10_000)).id, String(last))
  t.equal((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  const more = await ctx.write({ method: 'PUT', url: '/flags/big', payload: { metadata: bulky(writes + 1) } })
  t.equal(more.statusCode, 200, 'writes go on')
  t.equal((await reader.next()).id, String(await revisionOf(ctx)), 'and reach the live streams')
  t.equal(await metric(ctx, 'flagpost_streams_dropped_total', 'changes'), 1, 'dropped once, not again')

  // Reading now gets what the kernel held, then the end of a connection the server closed.
  const closed = new Promise<void>((resolve) => { socket.once('close', () => resolve()) })
  socket.resume()
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))])
  t.ok(socket.destroyed, 'the dropped connection is closed')
})

t.test('a heartbeat that finds the client not reading drops the stream, with no event to send', async (t) => {
  const LIMIT = 4096
  const ctx = await build(t, { STREAM_BUFFER_BYTES: String(LIMIT), STREAM_HEARTBEAT_MS: '100' })
  const base = await listening(ctx.app)
  await createFlag(ctx, { name: 'big', type: 'boolean' })
  let slow: ServerResponse | undefined
  ctx.app.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => { slow = res })
  const socket: Socket = connect(Number(new URL(base).port), '127.0.0.1')
  t.teardown(() => { socket.destroy() })
  let received = 0
  socket.on('data', (chunk: Buffer) => { received += chunk.length })
  socket.write(`GET /events HTTP/1.1\r\nHost: flagpost\r\nX-API-Key: ${WRITE_KEY}\r\n\r\n`)
  await until(() => received > 0, 10_000, 20, 'the slow stream to open')
  socket.pause()
  const hub = ctx.container.services.streams
  const dropped = (): boolean => hub.stats().totals.changes.dropped > 0
  // Events, each sent only while the server holds no more than the limit for the stream (so that no
  // event can be what drops it); once past the limit, none: a heartbeat must notice. (The kernel may
  // take more of the backlog meanwhile, as its send buffer grows: then one more event.)
  let overWhenSent = false
  for (let i = 0; !dropped(); i++) {
    if (i >= 400) throw new Error('never dropped')
    if (slow!.writableLength > LIMIT) {
      const quietUntil = Date.now() + 1000
      while (!dropped() && Date.now() < quietUntil) await new Promise((resolve) => setTimeout(resolve, 20))
      if (dropped()) break
      overWhenSent ||= slow!.writableLength > LIMIT
    }
    await ctx.write({ method: 'PUT', url: '/flags/big', payload: { metadata: bulky(i) } })
    await hub.settled()
  }
  t.notOk(overWhenSent, 'no event was sent while past the limit: the drop was a heartbeat\'s')
  t.equal(hub.stats().open.changes, 0)
  t.ok(slow!.destroyed)
})

t.test('closing the app ends every stream (the clients reconnect elsewhere)', async (t) => {
  const db = await testDatabase(t)
  const container = await createContainer(loadConfig({ DATABASE_URL: db.url, API_KEY: WRITE_KEY, LOG_LEVEL: 'silent' }))
  t.teardown(() => container.close())
  const app = await buildApp(container)
  t.teardown(() => app.close())
  const base = await listening(app)
  const streams = await Promise.all([openSse(base, STREAM, admin), openSse(base, '/events', admin), openSse(base, '/environments/development/ofrep/v1/event-stream', admin)].map(async (s) => connected(await s)))
  t.teardown(() => { for (const s of streams) s.close() })
  const started = performance.now()
  await app.close()
  t.ok(performance.now() - started < 5000, 'close() does not wait on the streams')
  await Promise.all(streams.map((s) => s.closed))
  t.ok(streams.every((s) => s.ended), 'every stream ended')
  t.same(container.services.streams.stats().open, { ofrep: 0, changes: 0 })
  const after = await openSse(base, STREAM, admin).then((s) => s.status, (err: Error) => err.message)
  t.match(String(after), /ECONNREFUSED/, 'and no new one is accepted')
})

t.test('logs: a stream token is [redacted] in request logs; no key, secret or token appears in any line', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter((l) => l !== '')); done() } })
  const db = await testDatabase(t)
  const container = await createContainer(loadConfig({ DATABASE_URL: db.url, API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY, AUTH_READS: 'true' }), { poll: false })
  t.teardown(() => container.close())
  const app = await buildApp(container, { logger: { level: 'trace', stream } })
  t.teardown(() => app.close())
  const base = await listening(app)
  const open = sseClient(t, base)

  const created = await app.inject({ method: 'POST', url: '/api-keys', headers: admin, payload: { name: 'web', role: 'client', environments: ['production'] } })
  t.equal(created.statusCode, 201)
  const secret: string = created.json().secret
  const bulk = await app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { authorization: `Bearer ${secret}` }, payload: { context: {} } })
  const requestUri: string = bulk.json().eventStreams[0].endpoint.requestUri
  const token = new URL(requestUri, base).searchParams.get('token') ?? ''
  t.match(token, /^production\./)

  const good = await connected(await open(requestUri))
  const forged = await open(`${requestUri.slice(0, -3)}AAA`)
  t.equal(forged.status, 401)
  const extra = await open(`${STREAM}?flavour=x&token=${token}&x=1`)
  t.equal(extra.status, 400, 'an unknown query parameter: refused, and logged')
  const prefixed = await open(`/environments/development${STREAM}?token=${token}`)
  t.equal(prefixed.status, 403)
  t.equal((await open('/events', { 'x-api-key': secret })).status, 403, 'a client key on /events')
  const res = await app.inject({ method: 'POST', url: '/flags', headers: admin, payload: { name: 'logged' } })
  t.equal(res.statusCode, 201)
  await good.next()
  good.close()
  await new Promise((resolve) => setTimeout(resolve, 100))

  const streamed = lines.filter((l) => l.includes('token='))
  t.ok(streamed.filter((l) => l.includes('request completed') || l.includes('stream opened')).length >= 4, 'the four stream requests with a token are logged')
  t.ok(streamed.every((l) => /token=\[redacted\](&|"|$)/.test(l)), 'each with the token redacted')
  const signature = token.slice(token.lastIndexOf('.') + 1)
  const leaks = [
    ['the token', token],
    ['its signature', signature],
    ['the forged signature', `${signature.slice(0, -3)}AAA`],
    ['the managed secret', secret.slice(secret.indexOf('_', 3) + 1)],
    ['API_KEY', WRITE_KEY],
    ['READ_API_KEY', READ_KEY]
  ].flatMap(([label, value]) => lines.filter((l) => l.includes(value)).map((l) => `${label}: ${l.slice(0, 300)}`))
  t.same(leaks, [], `none of ${lines.length} log lines holds a token or a key`)
})
