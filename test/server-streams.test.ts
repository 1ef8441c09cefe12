import { Agent, request, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import t from 'tap'
import { start, type Running } from './support/process.js'
import { openSse, type SseStream } from './support/sse.js'
import { testDatabase } from './support/test-database.js'
import { until } from './support/until.js'

/**
 * SIGTERM with event streams open (SPEC §12): streams never finish by themselves, so the server ends
 * them at once (their clients reconnect to another instance) instead of waiting for them until its
 * force timer; the idle keep-alive connection is closed, a write still in flight is answered, and the
 * process exits 0 well within its 10 s bound. The built server (dist/bin/server.js), as `npm start` runs it.
 */

const KEY = 'a-configured-key-1234567890'
const admin = { 'x-api-key': KEY }

function drainLog (server: Running): { boundMs: number } | undefined {
  const line = server.output().split('\n').find((l) => l.includes('shutting down'))
  return line === undefined ? undefined : JSON.parse(line) as { boundMs: number }
}

t.test('SIGTERM ends every OFREP and change stream at once, answers the write in flight, and exits 0 within the bound', async (t) => {
  // debug: the server logs each request as it arrives, which is how the test knows a half-sent one reached it.
  const server = await start({ DATABASE_URL: (await testDatabase(t, { shared: true })).url, API_KEY: KEY, LOG_LEVEL: 'debug' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.ok(server.ready, 'the server listens')
  const created = await fetch(`${server.base}/flags`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{"name":"f"}' })
  t.equal(created.status, 201)
  const bulk = await fetch(`${server.base}/ofrep/v1/evaluate/flags`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{"context":{}}' })
  const requestUri = ((await bulk.json()) as { eventStreams: Array<{ endpoint: { requestUri: string } }> }).eventStreams[0].endpoint.requestUri

  const streams: SseStream[] = await Promise.all([
    openSse(server.base, '/ofrep/v1/event-stream', admin),
    openSse(server.base, requestUri),
    openSse(server.base, '/environments/development/ofrep/v1/event-stream', admin),
    openSse(server.base, '/events', admin),
    openSse(server.base, '/events', { ...admin, 'last-event-id': '0' })
  ])
  t.teardown(() => { for (const s of streams) s.close() })
  t.same(streams.map((s) => s.status), [200, 200, 200, 200, 200])
  await Promise.all(streams.map(async (s) => s.comment((c) => c === 'connected')))
  await streams[4].next((e) => e.id === '1')

  // An idle keep-alive connection, as a proxy's pool holds one.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => { agent.destroy() })
  let idle: Socket | undefined
  await new Promise<void>((resolve, reject) => {
    const req = request(`${server.base}/healthz`, { agent }, (res: IncomingMessage) => { res.resume(); res.on('end', () => resolve()) })
    req.on('socket', (s) => { idle = s })
    req.on('error', reject)
    req.end()
  })
  const idleClosed = new Promise<void>((resolve) => idle!.once('close', () => resolve()))

  // A write whose body is half sent: it commits after SIGTERM, when the streams are already ended.
  const body = JSON.stringify({ description: 'written while draining' })
  const write = request(`${server.base}/flags/f`, { method: 'PUT', agent: false, headers: { ...admin, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } })
  const answered = new Promise<number>((resolve, reject) => {
    write.on('response', (res: IncomingMessage) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    write.on('error', reject)
  })
  write.write(body.slice(0, 5))
  await until(() => /"method":"PUT","url":"\/flags\/f"/.test(server.output()), 30_000, 20, 'the server to see the PUT')

  const sent = performance.now()
  server.child.kill('SIGTERM')
  await until(() => drainLog(server) !== undefined || server.child.exitCode !== null, 30_000, 20, 'the drain to start')
  const ended = await Promise.race([
    Promise.all(streams.map((s) => s.closed)).then(() => performance.now() - sent),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000))
  ])
  t.ok(ended !== null, `every stream ended, ${ended === null ? 'not within 5 s' : `after ${Math.round(ended)} ms`}`)
  t.ok(streams.every((s) => s.ended))
  await idleClosed
  t.pass('the idle keep-alive connection was closed')

  write.end(body.slice(5))
  t.equal(await answered, 200, 'the write in flight is answered')
  const code = await server.exited
  const ms = performance.now() - sent
  const bound = drainLog(server)?.boundMs ?? 0
  t.equal(code, 0, 'exit 0: drained, not forced')
  t.ok(bound > 0 && ms < bound, `exited in ${Math.round(ms)} ms, within the ${bound} ms bound`)
  t.match(server.output(), /"msg":"shut down: requests answered, connections and database closed"/)
  t.notMatch(server.output(), /shutdown timed out/)
  t.same(streams.map((s) => s.events.filter((e) => e.event === 'change' && e.id !== '1').length), [0, 0, 0, 0, 0], 'no event written after the end')
})

t.test('SIGTERM with streams only (no request in flight): exit 0 at once', async (t) => {
  const server = await start({ DATABASE_URL: (await testDatabase(t, { shared: true })).url, API_KEY: KEY, STREAM_HEARTBEAT_MS: '100' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const streams = await Promise.all(Array.from({ length: 20 }, async (_, i) => openSse(server.base, i % 2 === 0 ? '/events' : '/ofrep/v1/event-stream', admin)))
  t.teardown(() => { for (const s of streams) s.close() })
  await Promise.all(streams.map(async (s) => s.comment((c) => c === 'heartbeat')))
  const sent = performance.now()
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
  await Promise.all(streams.map((s) => s.closed))
  const ms = performance.now() - sent
  t.ok(ms < (drainLog(server)?.boundMs ?? 0), `20 streams: exited in ${Math.round(ms)} ms`)
})
