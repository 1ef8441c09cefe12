import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { build, createFlag, type TestApp } from '../helper.js'
import { testDatabase } from '../support/test-database.js'
import { until } from '../support/until.js'

// SPEC §10: a key created or revoked on one instance is known on every instance within the propagation
// bound. Two apps on one database; the key is created and revoked through A's HTTP API and presented to
// B until B's answer changes. Without Redis the bound is the revision poll (CACHE_REFRESH_MS); with Redis
// instances tell each other about commits at once (README "Caching"), the poll being only the safety net.

type Build = Parameters<typeof build>[0]

/** How long B may take, at most, before the test gives up: far beyond either bound. */
const GIVE_UP_MS = 5000

/** Poll B until `check` holds or GIVE_UP_MS passed: whether it did, and after how long (ms). */
async function timed (check: () => Promise<boolean>): Promise<{ ok: boolean, ms: number }> {
  const start = performance.now()
  const ok = await until(check, GIVE_UP_MS, 5).then(() => true, () => false)
  return { ok, ms: performance.now() - start }
}

async function pair (t: Build, env: Record<string, string>): Promise<{ a: TestApp, b: TestApp }> {
  const db = await testDatabase(t, { shared: true })
  const a = await build(t, { DATABASE_URL: db.url, ...env })
  const b = await build(t, { DATABASE_URL: db.url, ...env })
  await createFlag(a, { name: 'f', type: 'boolean', default_value: true })
  // The first request of an app waits for its plugins (about a second): not part of any propagation.
  await Promise.all([a.app.ready(), b.app.ready()])
  return { a, b }
}

/**
 * Until A's Redis command connection is ready (at most 5 s): an announcement made while it reconnects is
 * lost (pub/sub is at most once; the poll is the safety net), and this test is about the feed, not the poll.
 */
async function publishing (a: TestApp): Promise<void> {
  const start = performance.now()
  while (a.container.feed?.commands.status !== 'ready' && performance.now() - start < 5000) await sleep(10)
}

/**
 * Wait until B's subscription carries A's announcements: A writes a probe flag (again every half second)
 * until B serves one from its snapshot, each written while A can publish, and B at the probe's revision
 * only by a message (B's poll is far slower). Timing starts only once the feed is known to be live.
 */
async function feedLive (a: TestApp, b: TestApp): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await publishing(a)
    await createFlag(a, { name: `probe-${i}`, type: 'boolean' })
    const start = performance.now()
    while (performance.now() - start < 500) {
      if ((await b.app.inject({ url: `/evaluate/probe-${i}` })).statusCode === 200) return
      await sleep(10)
    }
  }
  throw new Error('B never received an announcement from A over Redis')
}

async function createAndRevoke (t: Test, a: TestApp, b: TestApp, bound: string, ready: () => Promise<void> = async () => {}): Promise<void> {
  const statusOnB = async (secret: string, url: string): Promise<number> =>
    (await b.app.inject({ method: 'GET', url, headers: { 'x-api-key': secret } })).statusCode

  await ready()
  const created = await a.write({ method: 'POST', url: '/api-keys', payload: { name: 'roaming', role: 'editor' } })
  t.equal(created.statusCode, 201, 'created on A')
  const { id, secret } = created.json() as { id: string, secret: string }
  t.equal((await a.app.inject({ method: 'GET', url: '/flags/f', headers: { 'x-api-key': secret } })).statusCode, 200, 'A knows it at once')

  const known = await timed(async () => await statusOnB(secret, '/flags/f') === 200)
  t.ok(known.ok, `B accepts the new key after ${known.ms.toFixed(0)} ms (${bound})`)
  if (!known.ok) {
    // So that the revocation below is still tested: B catches up by hand.
    await b.container.snapshot.catchUp()
    t.equal(await statusOnB(secret, '/flags/f'), 200, 'B accepts the key once it caught up')
  }
  const write = await b.app.inject({ method: 'PUT', url: '/flags/f', headers: { authorization: `Bearer ${secret}` }, payload: { description: 'from B' } })
  t.equal(write.statusCode, 200, 'and lets it write, as an editor')

  await ready()
  const revoked = await a.write({ method: 'DELETE', url: `/api-keys/${id}` })
  t.equal(revoked.statusCode, 204, 'revoked on A')
  t.equal((await a.app.inject({ method: 'GET', url: '/flags/f', headers: { 'x-api-key': secret } })).statusCode, 401, 'A refuses it at once')

  const refused = await timed(async () => await statusOnB(secret, '/evaluate/f') === 401)
  t.ok(refused.ok, `B refuses the revoked key after ${refused.ms.toFixed(0)} ms (${bound})`)
  const after = await Promise.all([statusOnB(secret, '/flags/f'), statusOnB(secret, '/evaluate/f')])
  t.same(after, [401, 401], 'on reads and evaluations alike')
  const stale = await b.app.inject({ method: 'PUT', url: '/flags/f', headers: { 'x-api-key': secret }, payload: { description: 'after revocation' } })
  t.equal(stale.statusCode, 401, 'and on writes')
}

t.test('without Redis: the revision poll carries a new key and its revocation to the other instance', async (t) => {
  const POLL_MS = 100
  const { a, b } = await pair(t, { CACHE_REFRESH_MS: String(POLL_MS) })
  await createAndRevoke(t, a, b, `poll every ${POLL_MS} ms`)
})

t.test('with Redis: the change feed carries them, without waiting for the poll', async (t) => {
  const { redisUrlOrSkip } = await import('../support/redis.js')
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  // The poll (the safety net) is slower than the test waits: only the feed can carry the change in time.
  const { a, b } = await pair(t, { REDIS_URL: url, CACHE_REFRESH_MS: '60000' })
  await feedLive(a, b)
  await createAndRevoke(t, a, b, 'Redis feed; poll every 60 s', () => publishing(a))
})

t.test('with Redis and the default poll: revocation still reaches the other instance', async (t) => {
  const { redisUrlOrSkip } = await import('../support/redis.js')
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const { a, b } = await pair(t, { REDIS_URL: url, CACHE_REFRESH_MS: '200' })
  await feedLive(a, b)
  await createAndRevoke(t, a, b, 'Redis feed; poll every 200 ms', () => publishing(a))
})
