import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { WRITE_KEY } from '../helper.js'
import { redisUrlOrSkip } from '../support/redis.js'
import { testDatabase } from '../support/test-database.js'
import { startTcpProxy } from '../support/tcp-proxy.js'
import { until } from '../support/until.js'

t.test('Redis cut mid-load: evaluations never fail, writes succeed, instances converge by poll, and resubscribe on return', async (t) => {
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const proxy = await startTcpProxy(Number(new URL(url).port || 6379), new URL(url).hostname)
  // Two instances on one database: a SQLite file, or a Postgres schema on the Postgres pass.
  const { url: databaseUrl } = await testDatabase(t, { shared: true })
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, API_KEY: WRITE_KEY, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: '200' }
  const a = await createContainer(loadConfig(env))
  const b = await createContainer(loadConfig(env))
  const appA = await buildApp(a)
  const appB = await buildApp(b)
  t.teardown(async () => { await appA.close(); await appB.close(); await a.close(); await b.close(); await proxy.close() })
  // Both apps compile their schemas now (seconds on a loaded machine, the event loop blocked meanwhile), not
  // inside the bounds below: B's first request would otherwise spend the 5 s waiting for v0 compiling.
  await Promise.all([appA.ready(), appB.ready()])
  const write = (value: string) => appA.inject({ method: 'PUT', url: '/flags/f', headers: { 'x-api-key': WRITE_KEY }, payload: { default_value: value } })
  const valueOnB = async (): Promise<unknown> => (await appB.inject({ url: '/evaluate/f?user_id=u' })).json().value
  t.equal((await appA.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY }, payload: { name: 'f', type: 'string', default_value: 'v0' } })).statusCode, 201)
  await t.resolves(until(async () => await valueOnB() === 'v0', 5000, 10))

  // Load on B for the whole outage: every evaluation must answer 200.
  let failures = 0
  let evaluations = 0
  let loading = true
  const load = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- the test clears loading while this runs
    while (loading) {
      const res = await appB.inject({ url: '/evaluate/f?user_id=u' })
      evaluations++
      if (res.statusCode !== 200) failures++
      await sleep(1)
    }
  })()

  proxy.cut()
  await sleep(100)
  const during = await write('v1')
  t.equal(during.statusCode, 200, 'a write while Redis is down succeeds')
  await t.resolves(until(async () => await valueOnB() === 'v1', 5000, 10), 'the other instance converges through the revision poll')

  proxy.restore()
  await sleep(2500) // ioredis reconnects (backoff ≤ 2 s) and resubscribes
  // Make the poll unable to explain the next arrival: stop it on B, so only a message can.
  b.snapshot.close()
  t.equal((await write('v2')).statusCode, 200)
  await t.resolves(until(async () => await valueOnB() === 'v2', 5000, 10), 'after Redis returns, B is resubscribed and hears the change')

  loading = false
  await load
  t.ok(evaluations > 100, `evaluations kept running (${evaluations})`)
  t.equal(failures, 0, 'no evaluation failed during the outage')
})
