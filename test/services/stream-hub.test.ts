import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { isVisible, type ChangeEntry, type ChangeVisibility } from '../../src/repositories/change-log-repository.js'
import { concerns, createStreamHub, type StreamHubOptions, type StreamSink } from '../../src/services/stream-hub.js'
import { dataOf, parseSse } from '../support/sse.js'

// The stream hub (SPEC §12) with a fake change log and fake connections: exactly what each stream is
// sent, when the log is read, what a replay does when live events arrive meanwhile, a read that fails,
// a shutdown under way, heartbeats, slow consumers, revoked keys.

const EVERYONE: ChangeVisibility = { apiKeys: true }

/** A change log in memory whose reads can be made to stall or fail, and that counts them. */
function fakeLog () {
  const entries: ChangeEntry[] = []
  const reads: Array<{ after: number, limit: number }> = []
  const stalls: Array<Promise<void>> = []
  let failures = 0
  return {
    entries,
    reads,
    /** The current revision (what the snapshot serves, in these tests). */
    get revision () { return entries.length },
    append (entry: Partial<ChangeEntry> = {}): ChangeEntry {
      const full: ChangeEntry = {
        revision: entries.length + 1,
        at: new Date(),
        actor: 'test',
        action: 'flag.update',
        environment: 'production',
        flagId: 'f1',
        flag: 'f',
        before: { enabled: true },
        after: { enabled: false },
        ...entry
      }
      entries.push(full)
      return full
    },
    /** The next read waits until the returned function is called. */
    stallNext (): () => void {
      let release!: () => void
      stalls.push(new Promise<void>((resolve) => { release = resolve }))
      return release
    },
    failNext () { failures++ },
    source: {
      async since (after: number, limit: number, visibility: ChangeVisibility): Promise<ChangeEntry[]> {
        reads.push({ after, limit })
        const stall = stalls.shift()
        if (stall !== undefined) await stall
        if (failures > 0) { failures--; throw new Error('the database is away') }
        return entries.filter((e) => e.revision > after && isVisible(e, visibility)).slice(0, limit)
      }
    }
  }
}

/** A connection that records what it was sent; `buffered` is set by the test (a client that stops reading). */
function fakeSink () {
  let text = ''
  const state = { buffered: 0, ended: false, destroyed: false }
  const sink: StreamSink = {
    write (chunk) { if (state.ended || state.destroyed) throw new Error('written after the end'); text += chunk },
    get buffered () { return state.buffered },
    get closed () { return state.ended || state.destroyed },
    end () { state.ended = true },
    destroy () { state.destroyed = true }
  }
  return {
    sink,
    state,
    get events () { return parseSse(text).events },
    get heartbeats () { return parseSse(text).comments.filter((c) => c === 'heartbeat').length },
    get ids () { return parseSse(text).events.map((e) => Number(e.id)) }
  }
}

function hubOn (t: Test, log: ReturnType<typeof fakeLog>, options: Partial<StreamHubOptions> = {}) {
  const warnings: string[] = []
  const hub = createStreamHub({
    source: log.source,
    revision: () => log.revision,
    logger: { warn: (_obj, msg) => { warnings.push(msg) }, debug: () => {} },
    options: { heartbeatMs: 60_000, bufferLimit: 1_000_000, replayLimit: 1000, ...options }
  })
  t.teardown(() => { hub.shutdown() })
  /** Append entries and tell the hub, as a write does. */
  const write = async (...entries: Array<Partial<ChangeEntry>>): Promise<void> => {
    for (const entry of entries) log.append(entry)
    hub.advanced(log.revision)
    await hub.settled()
  }
  return { hub, warnings, write }
}

const ofrep = (environment = 'production') => ({ kind: 'ofrep' as const, environment })
const changes = (visibility: ChangeVisibility = EVERYONE) => ({ kind: 'changes' as const, visibility })

t.test('concerns: what can change an environment\'s evaluations', async (t) => {
  const entry = (e: Partial<ChangeEntry>): ChangeEntry => ({ revision: 1, at: new Date(), actor: 'a', action: 'flag.update', environment: 'development', flagId: null, flag: 'f', before: {}, after: {}, ...e })
  t.ok(concerns(entry({ environment: 'production' }), 'production'), 'its own change')
  t.notOk(concerns(entry({ before: { enabled: true }, after: { enabled: false } }), 'production'), 'another environment\'s configuration')
  t.ok(concerns(entry({ before: { variants: { a: 1 } }, after: { variants: { a: 2 } } }), 'production'), 'a shared field (variants) changed elsewhere')
  t.ok(concerns(entry({ before: { metadata: {} }, after: { metadata: { owner: 'x' } } }), 'production'), 'metadata (OFREP returns it)')
  t.ok(concerns(entry({ before: { bucketing_seed: 'a' }, after: { bucketing_seed: 'b' } }), 'production'), 'the bucketing seed')
  t.notOk(concerns(entry({ before: { description: 'a' }, after: { description: 'b' } }), 'production'), 'a description evaluates nothing')
  for (const action of ['flag.create', 'flag.delete', 'flag.rename']) t.ok(concerns(entry({ action }), 'production'), `${action} anywhere`)
  t.notOk(concerns(entry({ action: 'override.set' }), 'production'), 'another environment\'s override')
  t.ok(concerns(entry({ action: 'customer.remove', environment: null }), 'production'), 'customers and users are global')
  t.notOk(concerns(entry({ action: 'api_key.create', environment: null }), 'production'), 'keys evaluate nothing')
})

t.test('one read of the log per advance, however many streams; each stream gets what concerns it', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  const streams = [fakeSink(), fakeSink(), fakeSink()]
  for (const s of streams) hub.open(s.sink, changes())
  const prod = fakeSink()
  const dev = fakeSink()
  hub.open(prod.sink, ofrep())
  hub.open(dev.sink, ofrep('development'))
  const production = { environment: 'production' }
  await write(production, { environment: 'development' }, production, { action: 'api_key.create', environment: null })
  t.equal(log.reads.length, 1, 'one read for the batch')
  for (const s of streams) t.same(s.ids, [1, 2, 3, 4], 'every entry to every change stream')
  t.same(prod.ids, [3], 'one re-fetch per environment per batch: the latest concerning revision')
  t.same(dev.ids, [2])
  t.same(dataOf(prod.events[0]), { type: 'refetchEvaluation', etag: '"3"', lastModified: Math.floor(log.entries[2].at.getTime() / 1000) })
  t.same(hub.stats().totals.changes.events, 12)
  t.same(hub.stats().totals.ofrep.events, 2)
})

t.test('a change stream sees what its visibility allows', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  const staging = fakeSink()
  hub.open(staging.sink, changes({ environments: ['staging'], apiKeys: false }))
  await write({ environment: 'production' }, { environment: 'staging' }, { environment: null, action: 'customer.add' }, { environment: null, action: 'api_key.create' })
  t.same(staging.ids, [2, 3])
})

t.test('without streams the log is not read; a stream opened later starts from then', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  await write({}, {})
  t.equal(log.reads.length, 0)
  const s = fakeSink()
  hub.open(s.sink, changes())
  await write({})
  t.same(s.ids, [3], 'not the entries before it opened')
})

t.test('a stream opened while a delivery is under way is not sent what was written before it opened', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  const early = fakeSink()
  hub.open(early.sink, changes())
  const release = log.stallNext()
  log.append({})
  hub.advanced(log.revision)
  // The delivery of revision 1 is reading the log; the snapshot already serves revision 1.
  const late = fakeSink()
  const lateOfrep = fakeSink()
  hub.open(late.sink, changes())
  hub.open(lateOfrep.sink, ofrep())
  release()
  await hub.settled()
  await write({})
  t.same([early.ids, late.ids, lateOfrep.ids], [[1, 2], [2], [2]])
})

t.test('resume: live events that arrive while the replay is read are sent after it, each once, in order', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  for (let i = 0; i < 3; i++) log.append()
  hub.advanced(3)
  await hub.settled()
  const s = fakeSink()
  const release = log.stallNext()
  hub.open(s.sink, changes(), 1)
  // While the replay read stalls: two more writes, delivered live (held back for this stream).
  await write({}, {})
  t.same(s.ids, [], 'nothing before the replay')
  release()
  await sleep(10)
  t.same(s.ids, [2, 3, 4, 5], 'the replay (2..5) then the held 4 and 5, not twice')
  await write({})
  t.same(s.ids, [2, 3, 4, 5, 6])
})

t.test('resume: the OFREP replay and live events held meanwhile make one re-fetch per revision, never one at or below Last-Event-ID', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  await write({}, {})
  const s = fakeSink()
  const release = log.stallNext()
  hub.open(s.sink, ofrep(), 1)
  await write({})
  release()
  await sleep(10)
  t.same(s.ids, [3], 'the replay found 3 (the latest concerning), the held 3 is not sent again')
})

t.test('resume: events the hub delivers late, at or below Last-Event-ID, are not sent', async (t) => {
  const log = fakeLog()
  const { hub } = hubOn(t, log)
  log.append()
  log.append()
  const s = fakeSink()
  hub.open(s.sink, changes(), 2)
  await sleep(10)
  hub.advanced(2)
  await hub.settled()
  t.same(s.ids, [], 'the client had them')
})

t.test('resume past the replay limit: a change stream gets one reset, an OFREP stream one re-fetch', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log, { replayLimit: 5 })
  for (let i = 0; i < 8; i++) log.append({ environment: 'development' })
  hub.advanced(8)
  const c = fakeSink()
  const o = fakeSink()
  hub.open(c.sink, changes(), 1)
  hub.open(o.sink, ofrep(), 1)
  const within = fakeSink()
  hub.open(within.sink, changes(), 3)
  const quiet = fakeSink()
  hub.open(quiet.sink, ofrep(), 3)
  await sleep(10)
  t.same(c.events.map((e) => [e.event, e.id]), [['reset', '8']], 'six missed > 5: reset at the latest revision')
  t.same(dataOf(c.events[0]), { type: 'reset', revision: 8 })
  t.same(o.ids, [7], 'OFREP: a re-fetch as of the last entry read, though none concerned production')
  t.same(within.ids, [4, 5, 6, 7, 8], 'five missed: replayed')
  t.same(quiet.ids, [], 'five missed development changes: nothing for production')
  await write({})
  t.same(c.ids, [8, 9], 'then live')
})

t.test('resume from an id the log never reached: reset (changes) or re-fetch (OFREP) at the current revision, then live', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log)
  await write({}, {})
  const c = fakeSink()
  const o = fakeSink()
  hub.open(c.sink, changes(), 50)
  hub.open(o.sink, ofrep(), 50)
  await sleep(10)
  t.same(c.events.map((e) => [e.event, e.id]), [['reset', '2']])
  t.same(o.ids, [2])
  await write({})
  t.same(c.ids, [2, 3], 'live entries below the id it sent are sent')
  t.same(o.ids, [2, 3])
})

t.test('resume of a backlog larger than the buffer limit: a reset instead of a replay the stream would be dropped for', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log, { bufferLimit: 2000 })
  for (let i = 0; i < 10; i++) log.append({ after: { description: 'x'.repeat(300) } })
  hub.advanced(10)
  const big = fakeSink()
  hub.open(big.sink, changes(), 0)
  const small = fakeSink()
  hub.open(small.sink, changes(), 8)
  await sleep(10)
  t.same(big.events.map((e) => e.event), ['reset'])
  t.notOk(big.state.destroyed)
  t.same(small.ids, [9, 10])
  await write({})
  t.same(big.ids, [10, 11])
  t.equal(hub.stats().totals.changes.dropped, 0)
})

t.test('a failed replay read ends the stream (the client reconnects) and says why', async (t) => {
  const log = fakeLog()
  const { hub, warnings, write } = hubOn(t, log)
  await write({})
  const s = fakeSink()
  const other = fakeSink()
  hub.open(other.sink, changes())
  log.failNext()
  hub.open(s.sink, changes(), 0)
  await sleep(10)
  t.ok(s.state.ended, 'ended, not left silently missing what it missed')
  t.same(s.events, [])
  t.equal(hub.stats().open.changes, 1)
  t.match(warnings, [/stream replay failed/])
  await write({})
  t.same(other.ids, [2], 'the other streams go on')
})

t.test('a failed live read is retried on the next advance: nothing is lost', async (t) => {
  const log = fakeLog()
  const { hub, warnings, write } = hubOn(t, log)
  const s = fakeSink()
  hub.open(s.sink, changes())
  log.failNext()
  await write({})
  t.same(s.ids, [])
  t.match(warnings, [/reading changes for streams failed/])
  await write({})
  t.same(s.ids, [1, 2], 'both, in order')
})

t.test('settled() waits for a delivery under way, and for the one a later advance adds to it', async (t) => {
  const log = fakeLog()
  const { hub } = hubOn(t, log)
  const s = fakeSink()
  hub.open(s.sink, changes())
  const release = log.stallNext()
  log.append()
  hub.advanced(1)
  let done = false
  const settled = hub.settled().then(() => { done = true })
  log.append()
  hub.advanced(2)
  await sleep(20)
  t.notOk(done, 'not settled while the read stalls')
  release()
  await settled
  t.same(s.ids, [1, 2], 'settled: both delivered')
})

t.test('shutdown ends every stream, a delivery under way sends nothing after it, and nothing more is accepted', async (t) => {
  const log = fakeLog()
  const { hub } = hubOn(t, log)
  const s = fakeSink()
  hub.open(s.sink, changes())
  const release = log.stallNext()
  log.append()
  hub.advanced(1)
  hub.shutdown()
  t.ok(s.state.ended)
  release()
  await hub.settled()
  t.same(s.events, [], 'the batch read before the shutdown is not written to ended streams')
  const late = fakeSink()
  hub.open(late.sink, changes())
  t.ok(late.state.ended, 'a stream opened after shutdown is ended at once')
  const reads = log.reads.length
  log.append()
  hub.advanced(2)
  await hub.settled()
  t.equal(log.reads.length, reads, 'no read after shutdown')
  t.same(hub.stats().open, { ofrep: 0, changes: 0 })
})

t.test('heartbeats: every heartbeatMs while a stream is open, never sooner; none once it is closed', async (t) => {
  const log = fakeLog()
  const { hub } = hubOn(t, log, { heartbeatMs: 50 })
  const s = fakeSink()
  const opened = performance.now()
  hub.open(s.sink, ofrep())
  while (s.heartbeats < 3) await sleep(5)
  t.ok(performance.now() - opened >= 3 * 50 - 5, 'three heartbeats take at least three intervals')
  t.same(s.events, [], 'comments, not events')
  hub.close(s.sink)
  const count = s.heartbeats
  await sleep(200)
  t.equal(s.heartbeats, count, 'none after the stream is detached')
})

/**
 * 1,000 streams on a hub whose heartbeat comes every 300 ms (long enough that the next round cannot begin
 * before a test's checks). `onFirstHeartbeat` runs `during` at the round's first write and notes how many
 * heartbeats were written when the event loop next runs other work (setImmediate: queued before the hub's own).
 */
function heartbeatRound (t: Test) {
  const { hub } = hubOn(t, fakeLog(), { heartbeatMs: 300 })
  const streams = Array.from({ length: 1000 }, () => fakeSink())
  const beats = (): number => streams.reduce((n, s) => n + s.heartbeats, 0)
  for (const s of streams) hub.open(s.sink, ofrep())
  const onFirstHeartbeat = (during: () => void): { midway?: number } => {
    const seen: { midway?: number } = {}
    const first = streams[0].sink.write.bind(streams[0].sink)
    streams[0].sink.write = (chunk) => {
      first(chunk)
      streams[0].sink.write = first
      during()
      setImmediate(() => { seen.midway = beats() })
    }
    return seen
  }
  return { hub, streams, beats, onFirstHeartbeat }
}

t.test('a heartbeat round over many streams lets other work run between slices, reaches every stream once, and skips one closed meanwhile', async (t) => {
  const { hub, streams, beats, onFirstHeartbeat } = heartbeatRound(t)
  const seen = onFirstHeartbeat(() => { hub.close(streams[999].sink) })
  // Polled, not awaited: the heartbeat timer does not keep the process alive (unref).
  while (seen.midway === undefined) await sleep(1)
  t.ok(seen.midway > 0 && seen.midway < 999, `other work ran after ${seen.midway} of the round's heartbeats`)
  while (beats() < 999) await sleep(1)
  t.equal(streams[999].heartbeats, 0, 'the stream detached during the round got none')
  t.ok(streams.slice(0, 999).every((s) => s.heartbeats === 1), 'every other stream got exactly one')
})

t.test('shutdown during a heartbeat round stops it: nothing is written after', async (t) => {
  const { hub, streams, beats, onFirstHeartbeat } = heartbeatRound(t)
  const stop: { at?: number } = {}
  onFirstHeartbeat(() => { hub.shutdown(); stop.at = beats() })
  while (stop.at === undefined) await sleep(5)
  await sleep(100)
  t.equal(stop.at, 1, 'shut down at the round\'s first heartbeat')
  t.equal(beats(), stop.at, 'nothing was written after the shutdown')
  t.ok(streams.every((s) => s.state.ended), 'every stream was ended')
})

t.test('a slow consumer is dropped when an event is due and its buffer is past the limit; the others are served', async (t) => {
  const log = fakeLog()
  const { hub, warnings, write } = hubOn(t, log, { bufferLimit: 1000 })
  const slow = fakeSink()
  const fine = fakeSink()
  hub.open(slow.sink, changes())
  hub.open(fine.sink, changes())
  slow.state.buffered = 1000
  await write({})
  t.same(slow.ids, [1], 'at the limit: still written')
  slow.state.buffered = 1001
  await write({})
  t.ok(slow.state.destroyed, 'past it: cut')
  t.same(slow.ids, [1])
  t.same(fine.ids, [1, 2])
  t.same(hub.stats().totals.changes.dropped, 1)
  t.same(hub.stats().open.changes, 1)
  t.match(warnings, [/slow consumer/])
})

t.test('a stream whose key is revoked ends when the keys change, or at the next heartbeat (expiry)', async (t) => {
  const log = fakeLog()
  const { hub, write } = hubOn(t, log, { heartbeatMs: 50 })
  let valid = true
  let expiring = true
  const revoked = fakeSink()
  const expired = fakeSink()
  const anonymous = fakeSink()
  hub.open(revoked.sink, { ...changes(), allowed: () => valid })
  hub.open(expired.sink, { ...ofrep(), allowed: () => expiring })
  hub.open(anonymous.sink, changes())
  await write({})
  valid = false
  await write({ action: 'api_key.revoke', environment: null })
  t.ok(revoked.state.ended, 'ended by the revocation')
  t.same(revoked.ids, [1], 'and not sent the revocation or anything after')
  t.same(anonymous.ids, [1, 2])
  expiring = false
  await write({})
  t.notOk(expired.state.ended, 'an ordinary change does not re-check the keys')
  while (!expired.state.ended) await sleep(10)
  t.pass('the heartbeat ended the expired key\'s stream')
  t.same(hub.stats().open, { ofrep: 0, changes: 1 })
})
