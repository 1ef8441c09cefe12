import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { REDIS_BOUNDS } from '../../src/cache/redis-feed.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { WRITE_KEY } from '../helper.js'
import { dropSchema, isolatedUrl, postgresUrlOrSkip } from '../support/postgres.js'
import { redisUrlOrSkip } from '../support/redis.js'
import { startTcpProxy } from '../support/tcp-proxy.js'
import { until } from '../support/until.js'

// Redis that stops answering without refusing (packets held, nothing closed). Redis only speeds
// things up, so a write must not wait on it: before the bounds each write took 1.5–2.3 s longer.

/** What a stalled Redis may add to a write: the shared copy's read bound once per backoff, plus a loaded machine's slack. */
const ADDED_BOUND_MS = REDIS_BOUNDS.cacheRead + 800

t.test('Redis stalled: writes answer promptly, evaluations serve, instances converge by poll; after resume the feed carries changes again', async (t) => {
  const pg = await postgresUrlOrSkip(t, 'Redis stall suite (Postgres)')
  const redis = await redisUrlOrSkip(t)
  if (pg === null || redis === null) return
  const { url: databaseUrl, schema } = isolatedUrl(pg)
  const proxy = await startTcpProxy(Number(new URL(redis).port || 6379), new URL(redis).hostname)
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, API_KEY: WRITE_KEY, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: '200' }
  const a = await createContainer(loadConfig(env))
  const b = await createContainer(loadConfig(env))
  const [appA, appB] = [await buildApp(a), await buildApp(b)]
  t.teardown(async () => {
    proxy.resume()
    await appA.close(); await appB.close(); await a.close(); await b.close()
    await proxy.close()
    await dropSchema(pg, schema)
  })
  const headers = { 'x-api-key': WRITE_KEY }
  const write = async (value: string): Promise<{ status: number, ms: number }> => {
    const started = performance.now()
    const res = await appA.inject({ method: 'PUT', url: '/flags/f', headers, payload: { default_value: value } })
    return { status: res.statusCode, ms: Math.round(performance.now() - started) }
  }
  const valueOn = async (app: typeof appA): Promise<unknown> => (await app.inject({ url: '/evaluate/f?user_id=u' })).json().value
  t.equal((await appA.inject({ method: 'POST', url: '/flags', headers, payload: { name: 'f', type: 'string', default_value: 'v0' } })).statusCode, 201)
  await t.resolves(until(async () => await valueOn(appB) === 'v0', 8000, 20))
  const baseline = await write('v-before')
  t.equal(baseline.status, 200)
  t.comment(`write with Redis answering: ${baseline.ms} ms`)

  proxy.stall()
  const latencies: number[] = []
  for (let i = 1; i <= 6; i++) {
    const { status, ms } = await write(`v-stalled-${i}`)
    latencies.push(ms)
    t.equal(status, 200, `write ${i} succeeds with Redis stalled`)
    t.ok(ms < baseline.ms + ADDED_BOUND_MS, `write ${i} answered in ${ms} ms`)
    await sleep(400) // spread over the copy's backoff and the command connection's socket timeout
  }
  t.comment(`writes with Redis stalled: ${latencies.join(', ')} ms (baseline ${baseline.ms} ms; bound: + ${REDIS_BOUNDS.cacheRead} ms once per ${REDIS_BOUNDS.cacheBackoff} ms)`)
  let failed = 0
  for (let i = 0; i < 50; i++) if ((await appB.inject({ url: '/evaluate/f?user_id=u' })).statusCode !== 200) failed++
  t.equal(failed, 0, 'evaluations serve with Redis stalled')
  await t.resolves(until(async () => await valueOn(appB) === 'v-stalled-6', 8000, 20), 'the other instance converges through the revision poll')
  const started = performance.now()
  const ready = await appA.inject({ url: '/readyz' })
  t.comment(`/readyz with Redis stalled: ${ready.statusCode} after ${Math.round(performance.now() - started)} ms`)
  t.ok(performance.now() - started < REDIS_BOUNDS.command + 1500, '/readyz answers within the PING bound')

  proxy.resume()
  await t.resolves(until(async () => a.feed!.commands.status === 'ready' && (await a.feed!.ping()), 8000, 20), 'the command connection is back')
  // Make the poll unable to explain the next arrival: stop it on B, so only a message can.
  b.snapshot.close()
  t.equal((await write('v-after')).status, 200)
  await t.resolves(until(async () => await valueOn(appB) === 'v-after', 8000, 20), 'after the stall, B hears the change through the feed')
})
