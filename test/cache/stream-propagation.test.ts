import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { build, createFlag, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { dataOf, listening, sseClient, type SseStream } from '../support/sse.js'
import { connected } from '../support/streams.js'
import { testDatabase } from '../support/test-database.js'

// SPEC §7, §12: streams on one instance carry what another instance wrote. Two apps on one database;
// A writes, B's OFREP stream and change stream (real connections) receive it: with Redis at once (B's
// poll is a minute, so only the feed can explain it), without Redis within the revision poll. And a
// re-fetch sent to an instance that has not heard of the write yet answers it all the same (the
// event's etag makes it catch up first), as behind a load balancer the stream and the re-fetch may
// reach different instances.

type Build = Parameters<typeof build>[0]
const admin = { 'x-api-key': WRITE_KEY }
const BULK = '/ofrep/v1/evaluate/flags'

interface Pair { a: TestApp, b: TestApp, open: (path: string, headers?: Record<string, string>) => Promise<SseStream> }

async function pair (t: Build, env: Record<string, string>): Promise<Pair> {
  const db = await testDatabase(t, { shared: true })
  const a = await build(t, { DATABASE_URL: db.url, ...env })
  const b = await build(t, { DATABASE_URL: db.url, ...env })
  await createFlag(a, { name: 'f', type: 'string', variants: { one: '1', two: '2', three: '3' }, default_variant: 'one' })
  await Promise.all([a.app.ready(), b.app.ready()])
  return { a, b, open: sseClient(t, await listening(b.app)) }
}

/** Until B's snapshot is at A's revision (B's streams are then past everything written so far). */
async function caughtUp (a: TestApp, b: TestApp, ms = 10_000): Promise<void> {
  const target = await revisionOf(a)
  const deadline = Date.now() + ms
  while (b.container.snapshot.revision < target) {
    if (Date.now() > deadline) throw new Error(`B stayed at ${b.container.snapshot.revision}, A is at ${target}`)
    await sleep(10)
  }
}

/** Wait until A can publish and B hears it (a probe write reaches B's snapshot within half a second). */
async function feedLive (a: TestApp, b: TestApp): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const start = Date.now()
    while (a.container.feed?.commands.status !== 'ready' && Date.now() - start < 5000) await sleep(10)
    await createFlag(a, { name: `probe-${i}`, type: 'boolean' })
    const target = await revisionOf(a)
    const sent = Date.now()
    while (Date.now() - sent < 500) {
      if (b.container.snapshot.revision >= target) return
      await sleep(10)
    }
  }
  throw new Error('B never received an announcement from A over Redis')
}

const bulkOn = async (ctx: TestApp, query = ''): Promise<string> => {
  const res = await ctx.app.inject({ method: 'POST', url: `${BULK}${query}`, headers: admin, payload: { context: { targetingKey: 'u1' } } })
  if (res.statusCode !== 200) throw new Error(`bulk: ${res.statusCode} ${res.body}`)
  return res.json().flags.find((f: { key: string }) => f.key === 'f').value
}

/** A writes; B's streams receive it; how long each took (ms). */
async function writeOnA (t: Test, { a, b, open }: Pair, variant: string): Promise<{ ofrep: number, changes: number }> {
  await caughtUp(a, b)
  const ofrep = await connected(await open('/ofrep/v1/event-stream', admin))
  const changes = await connected(await open('/events', admin))
  const sent = performance.now()
  const res = await a.write({ method: 'PUT', url: '/flags/f', payload: { default_variant: variant } })
  t.equal(res.statusCode, 200)
  const revision = await revisionOf(a)
  const [event, change] = await Promise.all([
    ofrep.next(undefined, 70_000).then((e) => ({ e, ms: performance.now() - sent })),
    changes.next(undefined, 70_000).then((e) => ({ e, ms: performance.now() - sent }))
  ])
  t.equal(event.e.id, String(revision), 'B\'s OFREP stream: A\'s revision')
  t.same(dataOf(event.e), { type: 'refetchEvaluation', etag: `"${revision}"`, lastModified: dataOf(event.e).lastModified })
  t.equal(change.e.id, String(revision), 'B\'s change stream: A\'s entry')
  t.match(dataOf(change.e), { revision, action: 'flag.update', environment: 'production', flag: 'f', changed: ['default_value', 'default_variant'] })
  t.equal(await bulkOn(b, `?flagConfigEtag=${encodeURIComponent(`"${revision}"`)}`), { one: '1', two: '2', three: '3' }[variant], 'B\'s re-fetch answers A\'s write')
  t.same([ofrep.events.length, changes.events.length], [1, 1], 'one event each')
  return { ofrep: event.ms, changes: change.ms }
}

t.test('with Redis: a write on A reaches streams on B at once (B\'s poll is a minute)', async (t) => {
  const { redisUrlOrSkip } = await import('../support/redis.js')
  const url = await redisUrlOrSkip(t)
  if (url === null) return
  const ctx = await pair(t, { REDIS_URL: url, CACHE_REFRESH_MS: '60000' })
  await feedLive(ctx.a, ctx.b)
  for (const variant of ['two', 'three']) {
    const { ofrep, changes } = await writeOnA(t, ctx, variant)
    t.ok(Math.max(ofrep, changes) < 5000, `arrived in ${ofrep.toFixed(0)} / ${changes.toFixed(0)} ms: the feed, not the 60 s poll`)
  }
})

t.test('without Redis: a write on A reaches streams on B within the revision poll', async (t) => {
  const POLL_MS = 300
  const ctx = await pair(t, { CACHE_REFRESH_MS: String(POLL_MS) })
  t.equal(ctx.b.container.feed, undefined, 'no feed: only the poll')
  for (const variant of ['two', 'three']) {
    const { ofrep, changes } = await writeOnA(t, ctx, variant)
    // The bound is the poll interval plus one catch-up; the slack is for a loaded test machine.
    t.ok(Math.max(ofrep, changes) < POLL_MS + 2000, `arrived in ${ofrep.toFixed(0)} / ${changes.toFixed(0)} ms (poll every ${POLL_MS} ms)`)
  }
})

t.test('a re-fetch with the event\'s etag on an instance that has not heard of the write answers it', async (t) => {
  // B hears of nothing by itself within the test: no Redis, a one-minute poll.
  const { a, b } = await pair(t, { CACHE_REFRESH_MS: '60000' })
  await b.container.snapshot.catchUp()
  t.equal(await bulkOn(b), '1')
  const res = await a.write({ method: 'PUT', url: '/flags/f', payload: { default_variant: 'two' } })
  t.equal(res.statusCode, 200)
  const revision = await revisionOf(a)
  t.ok(b.container.snapshot.revision < revision, 'B is behind')
  t.equal(await bulkOn(b), '1', 'a plain bulk on B still answers the old value (the premise)')
  t.equal(await bulkOn(b, `?flagConfigEtag=${encodeURIComponent(`"${revision}"`)}`), '2', 'with the etag: A\'s value')
  t.ok(b.container.snapshot.revision >= revision, 'B caught up to answer it')

  const again = await a.write({ method: 'PUT', url: '/flags/f', payload: { default_variant: 'three' } })
  t.equal(again.statusCode, 200)
  t.equal(await bulkOn(b), '2', 'behind again')
  t.equal(await bulkOn(b, `?flagConfigLastModified=${Math.floor(Date.now() / 1000)}`), '3', 'lastModified alone: B catches up with the database first')
})

t.test('B\'s streams resumed with A\'s revision as Last-Event-ID: nothing twice, nothing missed', async (t) => {
  const ctx = await pair(t, { CACHE_REFRESH_MS: '100' })
  const { a, b, open } = ctx
  await caughtUp(a, b)
  const from = await revisionOf(a)
  for (const variant of ['two', 'three', 'one']) {
    const res = await a.write({ method: 'PUT', url: '/flags/f', payload: { default_variant: variant } })
    t.equal(res.statusCode, 200)
  }
  const last = await revisionOf(a)
  // Resumed on B, possibly before B's poll found A's writes: the replay reads the database.
  const changes = await connected(await open('/events', { ...admin, 'last-event-id': String(from) }))
  await changes.next((e) => e.id === String(last), 10_000)
  await caughtUp(a, b)
  await b.container.services.streams.settled()
  const more = await a.write({ method: 'PUT', url: '/flags/f', payload: { default_variant: 'two' } })
  t.equal(more.statusCode, 200)
  await changes.next((e) => e.id === String(last + 1), 10_000)
  t.same(changes.events.map((e) => Number(e.id)), [from + 1, from + 2, from + 3, from + 4])
})

t.test('a key revoked on A: its streams on B end within the poll, its token on B is refused', async (t) => {
  const ctx = await pair(t, { CACHE_REFRESH_MS: '200' })
  const { a, b, open } = ctx
  const created = await a.write({ method: 'POST', url: '/api-keys', payload: { name: 'roaming', role: 'viewer' } })
  t.equal(created.statusCode, 201)
  const { id, secret } = created.json() as { id: string, secret: string }
  await caughtUp(a, b)
  // B reloads its keys right after its revision moved (a listener of the catch-up): wait until it knows this one.
  let bulk = await b.app.inject({ method: 'POST', url: BULK, headers: { 'x-api-key': secret }, payload: { context: {} } })
  for (const end = Date.now() + 5000; bulk.statusCode !== 200 && Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 20))) {
    bulk = await b.app.inject({ method: 'POST', url: BULK, headers: { 'x-api-key': secret }, payload: { context: {} } })
  }
  t.equal(bulk.statusCode, 200, 'B knows the key created on A')
  const uri: string = bulk.json().eventStreams[0].endpoint.requestUri
  const streams = await Promise.all([open(uri), open('/events', { 'x-api-key': secret })].map(async (s) => connected(await s)))
  t.equal((await a.write({ method: 'DELETE', url: `/api-keys/${id}` })).statusCode, 204)
  await Promise.race([Promise.all(streams.map((s) => s.closed)), sleep(5000)])
  t.ok(streams.every((s) => s.ended), 'both of the key\'s streams on B ended')
  t.equal((await open(uri)).status, 401, 'the token A issued no longer opens a stream on B')
})
