import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { changesChannel, redisNamespace } from '../../src/cache/redis-feed.js'
import { createRedisFlagCache } from '../../src/cache/redis-flag-cache.js'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import type { StoredFlag } from '../../src/repositories/flag-repository.js'
import { redisUrlOrSkip } from '../support/redis.js'
import { testDatabase } from '../support/test-database.js'
import { until } from '../support/until.js'

// The shared Redis copy of flag definitions (SPEC §7): the writer fills it after its commit and
// before it publishes; instances read it first and the database for what is missing or stale.

const WRITER = { actor: 'test' }
/** The default environment: where a fresh database's flags are served. */
const P = 'production'
const url = await redisUrlOrSkip(t)

function flag (name: string, value: string): StoredFlag {
  const at = new Date('2026-01-02T03:04:05.678Z')
  return {
    id: randomUUID(),
    name,
    environment: 'production',
    bucketingSeed: `seed-${name}`,
    description: 'd',
    type: 'string',
    enabled: true,
    variants: { on: value, off: '' },
    defaultVariant: 'on',
    offVariant: 'off',
    targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' },
    tags: ['t'],
    metadata: { owner: 'x' },
    version: 3,
    createdAt: at,
    updatedAt: at
  }
}

/** What the copy holds for one name: the flag in every environment (development served off), by environment. */
function views (name: string, value: string): StoredFlag[] {
  const production = flag(name, value)
  return [{ ...production, environment: 'development', enabled: false }, production]
}

/** What an entry serves in production. */
const onIn = (entry: StoredFlag[] | null | undefined): unknown => entry?.find((f) => f.environment === P)?.variants.on

/** Two instances on one SQLite file and one Redis, polls off: only the feed and the copy connect them. */
async function pair (t: Test, redisUrl: string): Promise<[Container, Container]> {
  const db = await testDatabase(t, { shared: true })
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: redisUrl, LOG_LEVEL: 'silent' })
  const a = await createContainer(config, { poll: false })
  const b = await createContainer(config, { poll: false })
  t.teardown(async () => { await a.close(); await b.close() })
  for (let i = 0; i < 100 && !(a.feed!.commands.status === 'ready' && b.feed!.commands.status === 'ready'); i++) await sleep(10)
  await sleep(50) // subscriptions settle
  return [a, b]
}

const served = (x: Container, name: string): unknown => { try { return x.services.flags.evaluate(P, name, {}).value } catch { return undefined } }

if (url !== null) {
  const raw = new Redis(url)
  t.teardown(() => raw.disconnect())
  await raw.ping() // connected: the cache skips a connection that is not ready

  t.test('entries round-trip, and a write never replaces a copy at the same or a newer revision', async (t) => {
    const namespace = redisNamespace(randomUUID())
    const cache = createRedisFlagCache(raw, namespace)
    const v1 = views('alpha', 'one')
    await cache.write(new Map([['alpha', v1], ['gone', null]]), 5)
    t.same(await cache.read(['alpha', 'gone', 'never'], 5), new Map([['alpha', v1], ['gone', null]]), 'flag in every environment (dates revived), tombstone; unknown left out')
    t.same(await cache.read(['alpha', 'gone'], 6), new Map(), 'older than the revision asked for: left for the database')
    await cache.write(new Map([['alpha', views('alpha', 'stale')]]), 4)
    await cache.write(new Map([['alpha', views('alpha', 'same revision')]]), 5)
    t.equal(onIn((await cache.read(['alpha'], 5)).get('alpha')), 'one', 'a slower writer does not overwrite')
    await cache.write(new Map([['alpha', views('alpha', 'two')]]), 7)
    t.equal(onIn((await cache.read(['alpha'], 7)).get('alpha')), 'two')
    t.ok(await raw.ttl(`${namespace}flag4:alpha`) > 0, 'entries expire unless rewritten')
    t.same(await createRedisFlagCache(raw, redisNamespace(randomUUID())).read(['alpha'], 0), new Map(), 'another namespace sees nothing')
    await raw.hset(`${namespace}flag4:alpha`, 'r', '9', 'v', '{not json')
    t.same(await cache.read(['alpha'], 0), new Map(), 'an unreadable entry is a miss, not an error')
    // An entry of the shape before bucketing seeds (no seed: it would hash by a renamed flag's new name) is never read.
    const { bucketingSeed, ...seedless } = flag('beta', 'old shape')
    await raw.hset(`${namespace}flag2:beta`, 'r', '9', 'v', JSON.stringify(seedless))
    t.same(await cache.read(['beta'], 0), new Map(), 'an entry of an older shape is a miss')
    // Nor one of the shape before environments (one flag, not its view in every environment).
    await raw.hset(`${namespace}flag3:gamma`, 'r', '9', 'v', JSON.stringify(flag('gamma', 'one environment')))
    t.same(await cache.read(['gamma'], 0), new Map(), 'an entry from before environments is a miss')
    await raw.del(`${namespace}flag4:alpha`, `${namespace}flag4:gone`, `${namespace}flag2:beta`, `${namespace}flag3:gamma`)
  })

  t.test('a Redis that is down costs nothing: reads miss at once, writes are dropped', async (t) => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null })
    t.teardown(() => down.disconnect())
    const cache = createRedisFlagCache(down, redisNamespace(randomUUID()))
    const start = Date.now()
    t.same(await cache.read(['a'], 1), new Map())
    await cache.write(new Map([['a', views('a', 'x')]]), 1)
    t.ok(Date.now() - start < 100, 'no waiting on a connection that is not there')
  })

  t.test('the writer fills the copy after its commit and before it publishes', async (t) => {
    const [a] = await pair(t, url)
    const listener = new Redis(url)
    t.teardown(() => listener.disconnect())
    const seen: Array<{ revision: number, copy: Record<string, string> }> = []
    listener.on('message', (_channel: string, message: string) => {
      const { revision } = JSON.parse(message) as { revision: number }
      // Read the copy the moment the message arrives: it must already hold that revision.
      void raw.hgetall(`${a.feed!.namespace}flag4:live`).then((copy) => seen.push({ revision, copy }))
    })
    await listener.subscribe(changesChannel(a.feed!.namespace))
    // One write at a time: the copy is read when each message arrives, before the next write.
    await a.services.flags.create(P, { name: 'live', type: 'string', defaultValue: 'v0' }, WRITER)
    await t.resolves(until(() => seen.length === 1, 3000, 2))
    await a.services.flags.update(P, 'live', { defaultValue: 'v1' }, WRITER)
    await t.resolves(until(() => seen.length === 2, 3000, 2))
    t.same(seen.map((s) => Number(s.copy.r)), seen.map((s) => s.revision), 'each message finds the copy at its revision')
    t.same(seen.map((s) => (JSON.parse(s.copy.v) as StoredFlag[]).map((f) => `${f.environment} ${String(f.variants.on)}`)),
      [['development v0', 'production v0'], ['development v1', 'production v1']], 'the flag in every environment')
    await a.services.flags.remove(P, 'live', WRITER)
    await t.resolves(until(() => seen.length === 3, 3000, 2))
    t.equal(seen[2].copy.v, 'null', 'a delete leaves a tombstone, not an old flag')
  })

  t.test('instances read changed flags from the copy, and from the database only when the copy is stale', async (t) => {
    const [a, b] = await pair(t, url)
    await a.services.flags.create(P, { name: 'x', type: 'string', defaultValue: 'db-1' }, WRITER)
    await t.resolves(until(() => served(b, 'x') === 'db-1', 3000, 2))
    const key = `${a.feed!.namespace}flag4:x`
    const next = a.snapshot.revision + 1

    // Plant a copy already at the next revision: the writer's own copy loses to it (same revision),
    // and both instances serve what the copy says, which proves they read it instead of the database.
    const planted = (JSON.parse((await raw.hget(key, 'v'))!) as StoredFlag[]).map((view) => ({ ...view, variants: { on: 'from-redis', off: '' } }))
    t.same(planted.map((view) => view.environment), ['development', P], 'the copy holds every environment\'s view')
    await raw.hset(key, 'r', String(next), 'v', JSON.stringify(planted))
    await a.services.flags.update(P, 'x', { defaultValue: 'db-2' }, WRITER)
    await t.resolves(until(() => served(b, 'x') === 'from-redis', 3000, 2), 'the other instance took the copy')
    t.equal(served(a, 'x'), 'from-redis', 'so did the writer')

    // A copy older than the change: ignored; the database wins and refreshes the copy.
    await raw.hset(key, 'r', '1', 'v', JSON.stringify(planted))
    await a.services.flags.update(P, 'x', { defaultValue: 'db-3' }, WRITER)
    await t.resolves(until(() => served(b, 'x') === 'db-3', 3000, 2), 'a stale copy is read through to the database')
    t.equal(served(a, 'x'), 'db-3')
    t.equal(Number(await raw.hget(key, 'r')), a.snapshot.revision, 'and the copy is current again')
    t.same((JSON.parse((await raw.hget(key, 'v'))!) as StoredFlag[]).map((view) => view.variants.on), ['db-3', 'db-3'])
  })

  t.test('deployments sharing one Redis never read each other\'s flags or messages', async (t) => {
    const dbs = [await testDatabase(t, { shared: true }), await testDatabase(t, { shared: true })]
    const instances = await Promise.all(dbs.map(async (db) =>
      await createContainer(loadConfig({ DATABASE_URL: db.url, REDIS_URL: url, LOG_LEVEL: 'silent' }), { poll: false })))
    t.teardown(async () => { for (const c of instances) await c.close() })
    const [one, two] = instances
    t.not(one.feed!.namespace, two.feed!.namespace)
    await one.services.flags.create(P, { name: 'same', type: 'string', defaultValue: 'one' }, WRITER)
    await two.services.flags.create(P, { name: 'same', type: 'string', defaultValue: 'two' }, WRITER)
    await one.services.flags.update(P, 'same', { defaultValue: 'one-b' }, WRITER)
    await sleep(100)
    t.equal(served(one, 'same'), 'one-b')
    t.equal(served(two, 'same'), 'two', 'the other deployment is untouched, though both wrote revision 1 and 2 of "same"')
    t.equal(two.snapshot.revision, 1)
  })
}
