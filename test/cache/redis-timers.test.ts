import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { Redis } from 'ioredis'
import { patientRedisTimers } from '../../src/cache/redis-timers.js'
import { REDIS_BOUNDS } from '../../src/cache/redis-feed.js'
import { redisUrlOrSkip } from '../support/redis.js'

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
