import { setImmediate } from 'node:timers/promises'
import type { ChangeEntry, ChangeVisibility } from '../repositories/change-log-repository.js'
import { isVisible } from '../repositories/change-log-repository.js'
import { changedFields, toChangeBody } from './change-view.js'

/**
 * Where a stream's events go: the HTTP response, seen through what the hub needs of it. `buffered`
 * is what the connection has accepted and not yet sent (a client that stops reading makes it grow).
 */
export interface StreamSink {
  write (chunk: Chunk): void
  readonly buffered: number
  readonly closed: boolean
  /** End the stream normally (the client reconnects, e.g. to another instance). */
  end (): void
  /** Cut the connection (a consumer too slow to keep). */
  destroy (): void
}

export type StreamKind = 'ofrep' | 'changes'
/** An event as written: encoded once (a Buffer) when it goes to many streams, instead of once per stream. */
export type Chunk = string | Buffer

/** What a stream carries: an environment's OFREP notifications, or the change log as a reader may see it. */
export type StreamTarget = ({ kind: 'ofrep', environment: string } | { kind: 'changes', visibility: ChangeVisibility }) & {
  /** Re-checked when keys change and at every heartbeat: false ends the stream (the key was revoked or expired). */
  allowed?: () => boolean
}

export interface StreamHubOptions {
  /** A comment line this often keeps proxies and load balancers from closing idle streams. */
  heartbeatMs: number
  /** A stream whose unsent bytes pass this is dropped: never buffered without bound. */
  bufferLimit: number
  /** How many missed entries a resumed change stream replays; past that it is told to `reset`. */
  replayLimit: number
}

export interface StreamLogger {
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

/** What the hub reads: the change log (after a revision, oldest first) and the revision served. */
export interface StreamSource {
  since (revision: number, limit: number, visibility: ChangeVisibility): Promise<ChangeEntry[]>
}

interface Subscriber {
  kind: StreamKind
  sink: StreamSink
  /** OFREP streams: the environment whose evaluations they refresh. */
  environment?: string
  /** Change streams: what the reader may see. */
  visibility?: ChangeVisibility
  /** Whether the key that opened it still may read it (not revoked, not expired); absent: anonymous. */
  allowed?: () => boolean
  /** The last revision sent (events at or below it are not sent again). */
  sent: number
  /** Events held back while a resumed stream's replay is read. */
  held: Array<{ revision: number, chunk: Chunk }> | null
}

/** Fields of a flag that every environment shares: a change to them reaches every environment's evaluations. */
const DEFINITION = new Set(['name', 'type', 'variants', 'metadata', 'bucketing_seed'])
const EVERYONE: ChangeVisibility = { apiKeys: true }
/** Entries read per query while catching up on a batch of revisions. */
const PAGE = 500

/**
 * Whether an entry can change what `environment` evaluates: its own changes, global ones (users and
 * customers, which inference and removals reach), and flag changes that reach every environment
 * (created, renamed, deleted, or a shared field changed). Key and other environments' changes cannot.
 */
export function concerns (entry: ChangeEntry, environment: string): boolean {
  if (entry.action.startsWith('api_key.')) return false
  if (entry.environment === environment || entry.environment === null) return true
  if (!entry.action.startsWith('flag.')) return false
  if (entry.action === 'flag.create' || entry.action === 'flag.delete' || entry.action === 'flag.rename') return true
  return changedFields(entry.before, entry.after).some((field) => DEFINITION.has(field.split('.')[0]))
}

/** The OFREP event (ADR-0008): re-fetch the bulk evaluation; the revision is its id and its etag. */
export const refetchEvent = (revision: number, at: Date): string =>
  `id: ${revision}\nevent: message\ndata: ${JSON.stringify({ type: 'refetchEvaluation', etag: `"${revision}"`, lastModified: Math.floor(at.getTime() / 1000) })}\n\n`
/** A change-log entry on the change stream. */
const changeEvent = (entry: ChangeEntry): string => `id: ${entry.revision}\nevent: change\ndata: ${JSON.stringify(toChangeBody(entry))}\n\n`
/** More was missed than a replay sends: the reader re-reads the state (GET /changes, the flags). */
const resetEvent = (revision: number): string => `id: ${revision}\nevent: reset\ndata: ${JSON.stringify({ type: 'reset', revision })}\n\n`
const HEARTBEAT = Buffer.from(': heartbeat\n\n')
/**
 * Streams a heartbeat round writes to before it lets other work run: a round over 10,000 streams in one
 * go held the event loop about 200 ms every interval, and every request that arrived meanwhile waited
 * for it; in slices of 256 the slowest request waited about 30 ms (bench/README.md, event streams). By
 * count, not by a time budget: a 10 ms budget let requests wait 120–140 ms (each slice's write
 * callbacks run after it). A fan-out is written in one go: letting other work run in between made the
 * last streams' events 20–30 % later, and a change's delivery is what streams are for.
 */
const HEARTBEAT_SLICE = 256

/**
 * Server-sent event streams (SPEC §12) on one instance. The snapshot tells the hub when it advanced
 * (a write here, or one announced by another instance or found by the poll); the hub then reads
 * the new change-log entries once and sends each stream what concerns it. Its work is off the
 * write's path: `advanced` only queues it.
 */
export function createStreamHub ({ source, revision, logger, options }: {
  source: StreamSource
  /** The revision the snapshot serves now. */
  revision: () => number
  logger: StreamLogger
  options: StreamHubOptions
}) {
  /** Every open stream, by its sink (a client that goes away is found by its sink: 10,000 leaving at once is not 10,000² steps). */
  const subscribers = new Map<StreamSink, Subscriber>()
  const counts: Record<StreamKind, { opened: number, dropped: number, events: number }> = {
    ofrep: { opened: 0, dropped: 0, events: 0 },
    changes: { opened: 0, dropped: 0, events: 0 }
  }
  let processed = revision()
  let target = processed
  let running: Promise<void> | null = null
  let heartbeat: NodeJS.Timeout | undefined
  let closed = false

  const remove = (sub: Subscriber): void => {
    subscribers.delete(sub.sink)
    if (subscribers.size === 0 && heartbeat !== undefined) { clearInterval(heartbeat); heartbeat = undefined }
  }
  const send = (sub: Subscriber, chunk: Chunk, revision?: number): void => {
    if (sub.sink.closed) { remove(sub); return }
    if (revision !== undefined) {
      if (revision <= sub.sent) return
      if (sub.held !== null) { sub.held.push({ revision, chunk }); return }
      sub.sent = revision
    }
    if (sub.sink.buffered > options.bufferLimit) {
      counts[sub.kind].dropped++
      logger.warn({ stream: sub.kind, buffered: sub.sink.buffered, limit: options.bufferLimit }, 'stream dropped: the client does not read its events (slow consumer)')
      remove(sub)
      sub.sink.destroy()
      return
    }
    if (revision !== undefined) counts[sub.kind].events++
    sub.sink.write(chunk)
  }
  /** A stream whose key was revoked (or expired) is ended: it must not go on reading what follows. */
  const revoked = (sub: Subscriber): boolean => {
    if (sub.allowed === undefined || sub.allowed()) return false
    logger.debug({ stream: sub.kind }, 'stream ended: its API key was revoked or expired')
    remove(sub)
    sub.sink.end()
    return true
  }
  /**
   * A heartbeat to every stream open now, letting the event loop go every HEARTBEAT_SLICE streams; a
   * stream that leaves meanwhile is skipped, and shutdown stops the round.
   */
  const heartbeatRound = async (): Promise<void> => {
    const subs = [...subscribers.values()]
    for (let i = 0; i < subs.length; i++) {
      if (i > 0 && i % HEARTBEAT_SLICE === 0) {
        await setImmediate()
        if (closed) return
      }
      const sub = subs[i]
      if (subscribers.get(sub.sink) === sub && !revoked(sub)) send(sub, HEARTBEAT)
    }
  }
  const startHeartbeat = (): void => {
    if (heartbeat !== undefined) return
    // Keys that expire (nothing is written when they do) are noticed at the next heartbeat.
    heartbeat = setInterval(() => { void heartbeatRound() }, options.heartbeatMs)
    heartbeat.unref()
  }

  /** Send a batch of entries (oldest first) to every live stream it concerns. */
  const deliver = (entries: ChangeEntry[]): void => {
    if (entries.length === 0) return
    // OFREP streams get one event per environment per batch: a re-fetch covers every change before it.
    const refetch = new Map<string, { revision: number, chunk: Buffer } | null>()
    const latestFor = (environment: string): { revision: number, chunk: Buffer } | null => {
      let event = refetch.get(environment)
      if (event === undefined) {
        const last = entries.findLast((entry) => concerns(entry, environment))
        refetch.set(environment, event = last === undefined ? null : { revision: last.revision, chunk: Buffer.from(refetchEvent(last.revision, last.at)) })
      }
      return event
    }
    const changes = entries.map((entry) => ({ entry, chunk: Buffer.from(changeEvent(entry)) }))
    // The keys were reloaded before the hub heard of this batch (container.ts): a revocation in it ends the key's streams first.
    const keysChanged = entries.some((entry) => entry.action.startsWith('api_key.'))
    for (const sub of subscribers.values()) {
      if (keysChanged && revoked(sub)) continue
      if (sub.kind === 'ofrep') {
        const event = latestFor(sub.environment!)
        if (event !== null) send(sub, event.chunk, event.revision)
      } else {
        for (const { entry, chunk } of changes) if (isVisible(entry, sub.visibility!)) send(sub, chunk, entry.revision)
      }
    }
  }

  /** Read and deliver everything up to `target`, a page at a time; a failed read is retried on the next advance. */
  const drain = async (): Promise<void> => {
    for (;;) {
      // `target` moves while a page is read (advanced() during the await); `closed` on shutdown.
      if (processed >= target || closed) return
      if (subscribers.size === 0) { processed = target; return }
      const entries = await source.since(processed, PAGE, EVERYONE)
      if (entries.length === 0) { processed = target; return }
      deliver(entries)
      processed = entries[entries.length - 1].revision
    }
  }

  const kick = (): void => {
    if (running !== null) return
    let failed = false
    running = drain()
      .catch((err: unknown) => {
        failed = true
        logger.warn({ err: { message: (err as Error).message } }, 'reading changes for streams failed; the next change retries')
      })
      .finally(() => {
        running = null
        // A revision that arrived as the drain finished: go again (after a failure, the next advance
        // does). Never after shutdown: the drain returns at once then, and re-kicking it would spin.
        if (!failed && !closed && processed < target) kick()
      })
  }

  /** Replay what a resumed stream missed, then release the events held meanwhile. */
  const resume = async (sub: Subscriber, lastEventId: number): Promise<void> => {
    try {
      if (sub.kind === 'ofrep') {
        const missed = await source.since(lastEventId, options.replayLimit + 1, EVERYONE)
        const last = missed.length > options.replayLimit ? missed.at(-1) : missed.findLast((entry) => concerns(entry, sub.environment!))
        if (last !== undefined) deliverHeld(sub, [{ revision: last.revision, chunk: refetchEvent(last.revision, last.at) }])
        // An id from the future (another deployment, a restored database): re-fetch to be sure, and
        // take what this database writes from here on, though its revisions are below that id.
        else if (lastEventId > revision()) deliverHeld(sub, [{ revision: revision(), chunk: refetchEvent(revision(), new Date()) }], revision())
        else deliverHeld(sub, [])
      } else {
        const missed = await source.since(lastEventId, options.replayLimit + 1, sub.visibility!)
        const replay = missed.map((entry) => ({ revision: entry.revision, chunk: changeEvent(entry) }))
        // More missed than a replay sends, an id from the future (what the client holds is not this
        // database's history), or more bytes than the stream may buffer (it would be dropped by its
        // own replay, reconnect with the same id, and be dropped again): the client re-reads instead.
        const future = missed.length === 0 && lastEventId > revision()
        if (missed.length > options.replayLimit || future || !fits(sub, [...replay, ...(sub.held ?? [])])) {
          const latest = Math.max(revision(), missed.at(-1)?.revision ?? 0, sub.held?.at(-1)?.revision ?? 0)
          deliverHeld(sub, [{ revision: latest, chunk: resetEvent(latest) }], future ? latest : undefined)
        } else {
          deliverHeld(sub, replay)
        }
      }
    } catch (err) {
      // Without its replay the stream would silently miss changes: end it, the client reconnects.
      logger.warn({ stream: sub.kind, err: { message: (err as Error).message } }, 'stream replay failed; closing the stream so the client reconnects')
      remove(sub)
      sub.sink.end()
    }
  }
  /** Whether `events` can be written at once without passing the stream's buffer limit. */
  const fits = (sub: Subscriber, events: Array<{ chunk: Chunk }>): boolean => {
    let bytes = sub.sink.buffered
    for (const { chunk } of events) if ((bytes += Buffer.byteLength(chunk)) > options.bufferLimit) return false
    return true
  }
  /** Send the replay, then what was held back meanwhile; `from` rewinds what counts as sent (an id from the future). */
  const deliverHeld = (sub: Subscriber, replay: Array<{ revision: number, chunk: Chunk }>, from?: number): void => {
    const held = sub.held ?? []
    sub.held = null
    if (from !== undefined) sub.sent = Math.min(sub.sent, from - 1)
    for (const event of [...replay, ...held]) send(sub, event.chunk, event.revision)
  }

  return {
    /**
     * Attach a stream. `lastEventId` (the SSE `Last-Event-ID` of a reconnecting client) replays what
     * it missed; without one it gets what happens from now on: nothing at or below the revision served
     * now, though a delivery under way (its log read in flight) is still to send those to the others.
     */
    open (sink: StreamSink, stream: StreamTarget, lastEventId?: number): void {
      if (closed) { sink.end(); return }
      const sub: Subscriber = { ...stream, sink, sent: lastEventId ?? revision(), held: lastEventId === undefined ? null : [] }
      subscribers.set(sink, sub)
      counts[sub.kind].opened++
      startHeartbeat()
      if (lastEventId !== undefined) void resume(sub, lastEventId)
    },

    /** Detach a stream whose client went away. */
    close (sink: StreamSink): void {
      const sub = subscribers.get(sink)
      if (sub !== undefined) remove(sub)
    },

    /** The snapshot reached `revision`: queue the delivery of what changed (never awaited by the write). */
    advanced (revision: number): void {
      if (closed || revision <= target) return
      target = revision
      kick()
    },

    /** Open streams by kind, and what was opened, dropped and sent since start. */
    stats () {
      const open: Record<StreamKind, number> = { ofrep: 0, changes: 0 }
      for (const sub of subscribers.values()) open[sub.kind]++
      return { open, totals: structuredClone(counts) }
    },

    /** Let every pending delivery finish (tests, benchmarks). */
    async settled (): Promise<void> {
      for (let pending = running; pending !== null; pending = running) await pending
    },

    /** End every stream (SIGTERM: clients reconnect to another instance) and accept no more. */
    shutdown (): void {
      closed = true
      for (const sub of subscribers.values()) sub.sink.end()
      subscribers.clear()
      if (heartbeat !== undefined) clearInterval(heartbeat)
      heartbeat = undefined
    }
  }
}

export type StreamHub = ReturnType<typeof createStreamHub>
