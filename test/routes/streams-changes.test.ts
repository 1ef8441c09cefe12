import t from 'tap'
import { build, createFlag, READ_KEY, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { dataOf, type SseEvent, type SseStream } from '../support/sse.js'
import { connected, createKey, liveApp, nextPercentage, write, type LiveApp } from '../support/streams.js'
import { until } from '../support/until.js'

// SPEC §12: GET /events streams change-log entries as GET /changes shows them, restricted to what the
// key may see, resumable with Last-Event-ID (exactly what was missed, in order, then live: no gap, no
// duplicate; past the replay limit one `reset`). The OFREP stream resumes with at most one re-fetch.

type Build = Parameters<typeof build>[0]
type Change = { revision: number, action: string, environment: string | null }
const admin = { 'x-api-key': WRITE_KEY }
const STREAM = '/ofrep/v1/event-stream'

/** GET /changes as `headers` sees it, oldest first, after `after`. */
async function changes (ctx: TestApp, headers: Record<string, string>, after = 0): Promise<Array<Record<string, unknown>>> {
  const res = await ctx.app.inject({ method: 'GET', url: `/changes?from_revision=${after + 1}&limit=1000`, headers })
  if (res.statusCode !== 200) throw new Error(`GET /changes: ${res.statusCode} ${res.body}`)
  return (res.json().changes as Array<Record<string, unknown>>).reverse()
}

/** Every event up to (and including) the one with id `revision`. */
async function upTo (stream: SseStream, revision: number, timeoutMs = 10_000): Promise<SseEvent[]> {
  await stream.next((e) => e.id === String(revision), timeoutMs)
  return stream.events.slice(0, stream.events.findIndex((e) => e.id === String(revision)) + 1)
}

const ids = (events: SseEvent[]): number[] => events.map((e) => Number(e.id))

/** A flag written in production and staging, an override, a customer and a key (and staging unless it exists): one entry each. */
async function someWrites (ctx: TestApp, { staging = true } = {}): Promise<void> {
  if (staging) await write(ctx, '/environments', { key: 'staging' }, 'POST')
  await createFlag(ctx, { name: 'checkout', type: 'boolean', default_value: true })
  await write(ctx, '/flags/checkout', { targeting_rules: { percentage: 25 } })
  await write(ctx, '/environments/staging/flags/checkout', { enabled: true })
  await write(ctx, '/flags/checkout/overrides/users/u1', { enabled: false })
  await write(ctx, '/customers', { id: 'acme' }, 'POST')
  await createKey(ctx, { name: 'ops', role: 'viewer' })
  await write(ctx, '/customers/acme', {}, 'DELETE')
}

t.test('/events: each entry as GET /changes shows it, id its revision, in order', async (t) => {
  const ctx = await liveApp(t)
  const stream = await connected(await ctx.open('/events', admin))
  const start = await revisionOf(ctx)
  await someWrites(ctx)
  const events = await upTo(stream, await revisionOf(ctx))
  const expected = await changes(ctx, admin, start)
  t.equal(events.length, expected.length, 'one event per entry')
  t.same(events.map((e) => e.event), expected.map(() => 'change'))
  t.same(ids(events), expected.map((c) => c.revision), 'ids are the revisions, ascending')
  t.strictSame(events.map((e) => dataOf(e)), expected, 'data: the entry exactly as GET /changes shows it')
  t.ok(expected.some((c) => String(c.action).startsWith('api_key.')), 'an admin sees key changes')
})

t.test('/events: a viewer of staging sees staging and global entries only, never api_key.*', async (t) => {
  const ctx = await liveApp(t)
  await write(ctx, '/environments', { key: 'staging' }, 'POST')
  const viewer = { 'x-api-key': (await createKey(ctx, { name: 'staging-viewer', role: 'viewer', environments: ['staging'] })).secret }
  const stream = await connected(await ctx.open('/events', viewer))
  const start = await revisionOf(ctx)
  await someWrites(ctx, { staging: false })
  const last = await write(ctx, '/environments/staging/flags/checkout', { enabled: false })
  const events = await upTo(stream, last)
  const seen = events.map((e) => dataOf<Change>(e))
  t.ok(seen.length > 0)
  t.ok(seen.every((c) => c.environment === 'staging' || c.environment === null), 'staging or global entries only')
  t.notOk(seen.some((c) => c.action.startsWith('api_key.')), 'no key changes')
  t.ok(seen.some((c) => c.action === 'customer.add'), 'global entries included')
  t.strictSame(events.map((e) => dataOf(e)), await changes(ctx, viewer, start), 'exactly what GET /changes shows this key')
})

t.test('/events: an editor of every environment sees every environment but no api_key.*; anonymous readers the same', async (t) => {
  const ctx = await liveApp(t)
  const editor = { 'x-api-key': (await createKey(ctx, { name: 'all-editor', role: 'editor' })).secret }
  const [byEditor, anonymous, byAdmin] = await Promise.all([ctx.open('/events', editor), ctx.open('/events'), ctx.open('/events', admin)].map(async (s) => connected(await s)))
  await someWrites(ctx)
  const last = await revisionOf(ctx)
  const [e, a, all] = await Promise.all([upTo(byEditor, last), upTo(anonymous, last), upTo(byAdmin, last)])
  const keyChanges = all.filter((x) => dataOf<Change>(x).action.startsWith('api_key.'))
  t.equal(keyChanges.length, 1)
  t.same(ids(e), ids(all).filter((id) => !ids(keyChanges).includes(id)), 'the editor: everything but the key creation')
  t.same(ids(a), ids(e), 'anonymous (reads open): the same')
})

t.test('/events under AUTH_READS=true: no key is a 401', async (t) => {
  const ctx = await liveApp(t, { AUTH_READS: 'true' })
  t.equal((await ctx.open('/events')).status, 401)
  t.equal((await ctx.open('/events', { 'x-api-key': READ_KEY })).status, 200)
})

t.test('/events resume: the missed entries exactly, in order, then live', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  const first = await connected(await ctx.open('/events', admin))
  const seen = await write(ctx, '/flags/f', { enabled: false })
  await first.next((e) => e.id === String(seen))
  first.close()
  await first.closed
  const missed = [
    await write(ctx, '/flags/f', { enabled: true }),
    await write(ctx, '/environments/development/flags/f', { enabled: true }),
    await write(ctx, '/customers', { id: 'c1' }, 'POST'),
    (await createKey(ctx, { name: 'k', role: 'viewer' }), await revisionOf(ctx))
  ]
  const resumed = await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(seen) }))
  const replayed = await upTo(resumed, missed.at(-1)!)
  t.same(ids(replayed), missed, 'the missed entries, in order')
  t.strictSame(replayed.map((e) => dataOf(e)), await changes(ctx, admin, seen), 'as GET /changes shows them')
  const next = await write(ctx, '/flags/f', { enabled: false })
  await resumed.next((e) => e.id === String(next))
  t.same(ids(resumed.events), [...missed, next], 'then live, nothing twice')
})

t.test('/events resume while writes go on: every revision once, in order (the replay and the live events meet without gap or duplicate)', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  const from = await revisionOf(ctx)
  const writes = 60
  let done = 0
  const writer = (async () => {
    for (let i = 0; i < writes; i++) { await write(ctx, '/customers', { id: `c${i}` }, 'POST'); done++ }
  })()
  // Reconnections at several points of the burst: while entries are being written, the replay is read.
  const streams: SseStream[] = []
  for (const at of [5, 20, 40]) {
    await until(() => done >= at, 10_000, 2)
    streams.push(await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(from) })))
  }
  await writer
  const last = await revisionOf(ctx)
  const expected = Array.from({ length: last - from }, (_, i) => from + i + 1)
  for (const [i, stream] of streams.entries()) {
    await upTo(stream, last)
    t.same(ids(stream.events), expected, `stream ${i + 1}: ${expected.length} revisions, each once, in order`)
  }
})

t.test('/events resume of a staging viewer: only the missed entries it may see', async (t) => {
  const ctx = await liveApp(t)
  await write(ctx, '/environments', { key: 'staging' }, 'POST')
  const viewer = { 'x-api-key': (await createKey(ctx, { name: 'sv', role: 'viewer', environments: ['staging'] })).secret }
  const from = await revisionOf(ctx)
  await someWrites(ctx, { staging: false })
  const resumed = await connected(await ctx.open('/events', { ...viewer, 'last-event-id': String(from) }))
  const last = await write(ctx, '/environments/staging/flags/checkout', { enabled: false })
  const events = await upTo(resumed, last)
  t.strictSame(events.map((e) => dataOf(e)), await changes(ctx, viewer, from))
  t.ok(events.every((e) => [null, 'staging'].includes(dataOf<Change>(e).environment)))
})

t.test('/events resume from an id the server never issued (a restored database): reset, then live', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  const current = await revisionOf(ctx)
  const resumed = await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(current + 1000) }))
  const reset = await resumed.next()
  t.equal(reset.event, 'reset', 'the client must re-read: what it holds is not this database\'s history')
  t.same(dataOf(reset), { type: 'reset', revision: current })
  t.equal(reset.id, String(current))
  const next = await write(ctx, '/flags/f', { enabled: false })
  t.equal((await resumed.next(undefined, 5000)).id, String(next), 'live entries follow, though their revisions are below the id it sent')
})

t.test('/events resume past the replay limit (1000 entries): one reset with the latest revision, then live', async (t) => {
  // A buffer that holds 1000 entries: here the limit is the count, not the bytes (next test).
  const ctx = await liveApp(t, { STREAM_BUFFER_BYTES: String(8 * 1024 * 1024) })
  const from = await revisionOf(ctx)
  // 1001 missed entries, written through the service (the HTTP layer adds nothing this test is about).
  for (let i = 0; i < 1001; i++) await ctx.container.services.subjects.addCustomer({ id: `c${i}` }, { actor: 'bulk' })
  const latest = await revisionOf(ctx)
  t.equal(latest - from, 1001)
  const resumed = await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(from) }))
  const reset = await resumed.next()
  t.equal(reset.event, 'reset')
  t.same(dataOf(reset), { type: 'reset', revision: latest })
  t.equal(reset.id, String(latest), 'its id: a reconnection after it resumes from there')
  const next = await write(ctx, '/customers', { id: 'after' }, 'POST')
  await resumed.next((e) => e.id === String(next))
  t.same(resumed.events.map((e) => e.event), ['reset', 'change'], 'nothing of the 1001 entries themselves')

  // From two later (the live write since makes 1000 after it): exactly the limit, replayed whole.
  const exactly = await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(from + 2) }))
  const replay = await upTo(exactly, next)
  t.same(ids(replay), Array.from({ length: 1000 }, (_, i) => from + 3 + i), '1000 missed entries (the limit) are replayed, not reset')
  t.ok(replay.every((e) => e.event === 'change'))
})

t.test('/events resume of a backlog larger than the stream buffer: a reset, not a stream dropped by its own replay', async (t) => {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  const from = await revisionOf(ctx)
  // 200 entries of ~2 KB (a description before and after): past the default 256 KB buffer, within 1000 entries.
  for (let i = 0; i < 200; i++) await ctx.container.services.flags.update('production', 'f', { description: `${i}`.padEnd(900, '.') }, { actor: 'bulk' })
  const latest = await revisionOf(ctx)
  const resumed = await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(from) }))
  const reset = await resumed.next()
  t.equal(reset.event, 'reset')
  t.same(dataOf(reset), { type: 'reset', revision: latest })
  const next = await write(ctx, '/customers', { id: 'after' }, 'POST')
  t.equal((await resumed.next()).id, String(next), 'the stream stays open and live')
  t.notOk(resumed.ended)
  t.equal(ctx.container.services.streams.stats().totals.changes.dropped, 0, 'not dropped as a slow consumer')

  const small = await connected(await ctx.open('/events', { ...admin, 'last-event-id': String(latest - 10) }))
  t.same(ids(await upTo(small, next)), [...Array.from({ length: 10 }, (_, i) => latest - 9 + i), next], 'a backlog that fits is replayed')
})

/** An OFREP stream resumed from `from` after `change`; what it received once a production sentinel write arrived. */
async function resumeOfrep (ctx: LiveApp, from: number): Promise<{ stream: SseStream, sentinel: number }> {
  const stream = await connected(await ctx.open(STREAM, { ...admin, 'last-event-id': String(from) }))
  await ctx.container.services.streams.settled()
  // The replay is read asynchronously: give it its moment before the sentinel's event can overtake it.
  await new Promise((resolve) => setTimeout(resolve, 200))
  const sentinel = await write(ctx, '/flags/sentinel', { targeting_rules: { percentage: nextPercentage() } })
  await stream.next((e) => e.id === String(sentinel))
  return { stream, sentinel }
}

async function ofrepApp (t: Build): Promise<LiveApp> {
  const ctx = await liveApp(t)
  await createFlag(ctx, { name: 'f', type: 'boolean' })
  await createFlag(ctx, { name: 'sentinel', type: 'boolean' })
  return ctx
}

t.test('OFREP resume: one refetch, id the latest concerning revision missed', async (t) => {
  const ctx = await ofrepApp(t)
  const from = await revisionOf(ctx)
  await write(ctx, '/flags/f', { enabled: false })
  const latest = await write(ctx, '/flags/f', { enabled: true })
  await write(ctx, '/environments/development/flags/f', { enabled: true })
  await createKey(ctx, { name: 'k', role: 'viewer' })
  const { stream, sentinel } = await resumeOfrep(ctx, from)
  t.same(ids(stream.events), [latest, sentinel], 'one re-fetch for everything missed, then live')
  t.equal(dataOf(stream.events[0]).etag, `"${latest}"`)
})

t.test('OFREP resume: nothing concerning missed, nothing sent', async (t) => {
  const ctx = await ofrepApp(t)
  const from = await revisionOf(ctx)
  await write(ctx, '/environments/development/flags/f', { enabled: true })
  await createKey(ctx, { name: 'k', role: 'viewer' })
  const { stream, sentinel } = await resumeOfrep(ctx, from)
  t.same(ids(stream.events), [sentinel])
})

t.test('OFREP resume from the current revision: nothing sent', async (t) => {
  const ctx = await ofrepApp(t)
  const { stream, sentinel } = await resumeOfrep(ctx, await revisionOf(ctx))
  t.same(ids(stream.events), [sentinel])
})

t.test('OFREP resume from an id the server never issued: one refetch at the current revision, then live', async (t) => {
  const ctx = await ofrepApp(t)
  const current = await revisionOf(ctx)
  const stream = await connected(await ctx.open(STREAM, { ...admin, 'last-event-id': String(current + 1000) }))
  const refetch = await stream.next()
  t.equal(refetch.id, String(current))
  t.same(dataOf(refetch).etag, `"${current}"`, 'an etag this instance can answer at once')
  const next = await write(ctx, '/flags/f', { enabled: false })
  t.equal((await stream.next()).id, String(next), 'live events follow')
})

t.test('OFREP resume past the replay limit: one refetch', async (t) => {
  const ctx = await ofrepApp(t)
  const from = await revisionOf(ctx)
  // Development's changes concern production not at all; past the limit the stream re-fetches anyway.
  for (let i = 0; i < 1001; i++) await ctx.container.services.flags.update('development', 'f', { enabled: i % 2 === 0 }, { actor: 'bulk' })
  const within = await resumeOfrep(ctx, from + 1)
  t.same(ids(within.stream.events), [within.sentinel], '1000 development changes (the limit): nothing to re-fetch')
  const { stream, sentinel } = await resumeOfrep(ctx, from)
  t.same(ids(stream.events), [from + 1001, sentinel], 'one more: a re-fetch (as of the last entry the replay read), then the live event')
})
