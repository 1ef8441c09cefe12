import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { changesChannel } from '../../src/cache/redis-feed.js'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import { testDatabase } from '../support/test-database.js'
import { until } from '../support/until.js'

const WRITER = { actor: 'test' }
/** The default environment: where a fresh database's flags are served. */
const P = 'production'

t.test('with Redis, a commit on one instance reaches another without the poll', async (t) => {
  const { redisUrlOrSkip } = await import('../support/redis.js')
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const db = await testDatabase(t, { shared: true })
  // The poll is off on both (poll: false): only the Redis feed can carry the change.
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: url, LOG_LEVEL: 'silent' })
  const instances: Container[] = []
  for (let i = 0; i < 3; i++) instances.push(await createContainer(config, { poll: false }))
  t.teardown(async () => { for (const c of instances) await c.close() })
  const [a, b, c] = instances
  await sleep(100) // subscriptions settle

  const served = (x: Container, name: string): unknown => { try { return x.services.flags.evaluate(P, name, { user_id: 'u' }).value } catch { return undefined } }
  await a.services.flags.create(P, { name: 'live', type: 'string', defaultValue: 'v0' }, WRITER)
  await t.resolves(until(() => served(b, 'live') === 'v0' && served(c, 'live') === 'v0', 3000, 2), 'both other instances got the new flag')

  const latencies: number[] = []
  const lost: string[] = []
  for (let i = 1; i <= 50; i++) {
    const start = performance.now()
    await a.services.flags.update(P, 'live', { defaultValue: `v${i}` }, WRITER)
    await until(() => served(b, 'live') === `v${i}` && served(c, 'live') === `v${i}`, 3000, 2).catch(() => { lost.push(`write ${i}: b serves ${String(served(b, 'live'))}, c ${String(served(c, 'live'))}`) })
    latencies.push(performance.now() - start)
  }
  t.same(lost.slice(0, 5), [], `each of 50 writes in a row reached both other instances (${lost.length} did not)`)
  latencies.sort((x, y) => x - y)
  t.comment(`propagation over 50 writes (write + delivery to 2 instances): p50 ${latencies[25].toFixed(1)} ms, p99 ${latencies[49].toFixed(1)} ms`)

  await b.services.subjects.setOverride(P, 'live', 'user', 'u', { enabled: false }, WRITER)
  await t.resolves(until(() => served(a, 'live') === '' && served(c, 'live') === '', 3000, 2), 'override writes travel the same way, from any instance')
  t.equal(a.snapshot.revision, b.snapshot.revision)
  t.equal(b.snapshot.revision, c.snapshot.revision)
})

t.test('stale and foreign-shaped messages are ignored', async (t) => {
  const { redisUrlOrSkip } = await import('../support/redis.js')
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const db = await testDatabase(t)
  const container = await createContainer(loadConfig({ DATABASE_URL: db.url, REDIS_URL: url, LOG_LEVEL: 'silent' }), { poll: false })
  const raw = new Redis(url)
  t.teardown(async () => { await container.close(); raw.disconnect() })
  await container.services.flags.create(P, { name: 'x', defaultValue: true }, WRITER)
  let catchUps = 0
  const original = container.snapshot.catchUp
  container.snapshot.catchUp = async () => { catchUps++; return original() }
  await sleep(100)
  const channel = changesChannel(container.feed!.namespace)
  for (const message of ['not json', JSON.stringify({ names: [] }), JSON.stringify({ revision: 0, names: [], origin: 'other' }), JSON.stringify({ revision: 1, names: ['x'], origin: 'other' })]) {
    await raw.publish(channel, message)
  }
  await raw.publish(channel, JSON.stringify({ revision: 99, names: [], origin: 'other' }))
  await t.resolves(until(() => catchUps === 1, 3000, 2), 'only the newer revision triggered a catch-up')
  await sleep(100)
  t.equal(catchUps, 1)
})

t.test('readiness reports Redis when configured', async (t) => {
  const { redisUrlOrSkip } = await import('../support/redis.js')
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const { build } = await import('../helper.js')
  const ctx = await build(t, { REDIS_URL: url })
  // Redis is reported, never a reason to be unready (the whole fleet shares it): until its
  // connection is up the instance is ready but degraded.
  let res = await ctx.app.inject({ url: '/readyz' })
  for (let i = 0; i < 100 && res.json().checks.redis !== 'ok'; i++) {
    t.equal(res.statusCode, 200)
    await sleep(20)
    res = await ctx.app.inject({ url: '/readyz' })
  }
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'ready')
  t.match(res.json().checks, { database: 'ok', snapshot: 'ok', redis: 'ok' })
})
