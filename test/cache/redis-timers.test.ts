import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { Redis } from 'ioredis'
import { patientRedisTimers } from '../../src/cache/redis-timers.js'
import { REDIS_BOUNDS } from '../../src/cache/redis-feed.js'
import { redisUrlOrSkip } from '../support/redis.js'
import { startTcpProxy } from '../support/tcp-proxy.js'
import { until } from '../support/until.js'

// ioredis's timeouts must judge the connection, not the event loop: a reply that arrived while the loop
// was blocked is read before they fire; a Redis that stalls still times out (src/cache/redis-timers.ts).

patientRedisTimers()
const OPTIONS = { commandTimeout: REDIS_BOUNDS.command, socketTimeout: REDIS_BOUNDS.socket, enableOfflineQueue: false, maxRetriesPerRequest: 0 }
const block = (ms: number): void => { for (const end = Date.now() + ms; Date.now() < end;) { /* the loop is busy: nothing else runs */ } }

t.test('a command in flight while the event loop is blocked past both timeouts succeeds, and the connection stays', async (t) => {
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const redis = new Redis(url, OPTIONS)
  t.teardown(() => redis.disconnect())
  const events: string[] = []
  redis.on('error', (err: Error) => events.push(`error: ${err.message}`))
  redis.on('reconnecting', () => events.push('reconnecting'))
  await new Promise((resolve) => redis.once('ready', resolve))
  const ping = redis.ping()
  block(REDIS_BOUNDS.socket + 500)
  t.equal(await ping, 'PONG')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(events, [], 'no timeout, no reconnect')
  t.equal(redis.status, 'ready')
})

t.test('a Redis that accepts and never answers still fails the command and the connection within their bounds', async (t) => {
  const server = createServer((socket) => { socket.on('data', () => {}) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const redis = new Redis({ ...OPTIONS, host: '127.0.0.1', port: (server.address() as AddressInfo).port, enableReadyCheck: false, lazyConnect: true, retryStrategy: () => null })
  const errors: string[] = []
  redis.on('error', (err: Error) => errors.push(err.message))
  t.teardown(() => redis.disconnect())
  await redis.connect()
  const started = Date.now()
  await t.rejects(redis.ping(), /Command timed out/)
  t.ok(Date.now() - started < REDIS_BOUNDS.command + 400, `the command failed after ${Date.now() - started} ms`)
  await new Promise((resolve) => setTimeout(resolve, REDIS_BOUNDS.socket))
  t.ok(errors.some((e) => /Socket timeout/.test(e)), `the stalled socket was dropped: ${errors.join('; ')}`)
})

t.test('a socket timer armed on a stream that closed for another reason never drops the reconnected one, which arms its own', async (t) => {
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const target = new URL(url)
  const proxy = await startTcpProxy(Number(target.port || 6379), target.hostname)
  const redis = new Redis(`redis://127.0.0.1:${proxy.port}`, { ...OPTIONS, retryStrategy: () => 50 })
  t.teardown(async () => { redis.disconnect(); proxy.resume(); await proxy.close() })
  const events: string[] = []
  redis.on('error', (err: Error) => events.push(`error: ${err.message}`))
  redis.on('reconnecting', () => events.push('reconnecting'))
  await new Promise((resolve) => redis.once('ready', resolve))

  proxy.stall()
  const armed = Date.now()
  await t.rejects(redis.ping(), /Command timed out/, 'the first stream stalls with a command waiting: its socket timer is armed')
  // The stream closes before its timer fires, for a reason of its own (here the link is cut).
  proxy.cut(); proxy.resume(); proxy.restore()
  await new Promise((resolve) => redis.once('ready', resolve))
  t.ok(Date.now() - armed < REDIS_BOUNDS.socket, `reconnected ${Date.now() - armed} ms after the timer was armed, before it would fire`)
  events.length = 0
  await new Promise((resolve) => setTimeout(resolve, armed + REDIS_BOUNDS.socket + 400 - Date.now()))
  t.same(events, [], 'the first stream\'s timer, past its time, dropped nothing')
  t.equal(redis.status, 'ready')
  t.equal(await redis.ping(), 'PONG')

  proxy.stall()
  await t.rejects(redis.ping(), /Command timed out/)
  await t.resolves(until(() => events.some((e) => /Socket timeout/.test(e)), REDIS_BOUNDS.socket + 1000, 20), 'the new stream, stalled, is dropped by a timer of its own')
})
