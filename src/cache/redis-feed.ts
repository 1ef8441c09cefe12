import { Redis } from 'ioredis'
import { patientRedisTimers } from './redis-timers.js'

/**
 * Every key and channel lives under `flagpost:v1:<deployment id>:`. `v1` is the shape of what is
 * stored (a deployment of a new shape bumps it and never reads an old one); the deployment id is
 * created once per database (MetaRepository), so deployments that share a Redis never share keys.
 */
export const redisNamespace = (deploymentId: string): string => `flagpost:v1:${deploymentId}:`
export const changesChannel = (namespace: string): string => `${namespace}changes`

/**
 * Time limits on Redis, in milliseconds. Redis only ever speeds things up (the revision poll and the
 * database are the truth), so it gets little time: a write never waits on it for more than
 * `cacheRead` once (see redis-flag-cache.ts), and /readyz's PING answers within `command`.
 */
export const REDIS_BOUNDS = Object.freeze({
  /** One command's answer (PING, PUBLISH). */
  command: 500,
  /** No data at all while commands wait: the connection is considered dead and reconnected. */
  socket: 1500,
  /** Opening a connection. */
  connect: 2000,
  /** The shared flag copy on a write's path: a read or a write waits this long, then goes without. */
  cacheRead: 200,
  /** After the copy timed out, skip it this long (the database serves), then try again. */
  cacheBackoff: 2000,
  /** TCP keepalive on idle connections (the subscriber mostly). */
  keepAliveDelay: 10_000
})

/** What a writer announces after its transaction committed. */
export interface ChangeMessage { revision: number, origin: string }

export interface FeedLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

/** Cross-instance change notification; at-most-once (the revision poll covers what it misses). */
export interface ChangeFeed {
  /** The command connection (fails fast while Redis is down): the shared flag copy uses it too. */
  readonly commands: Redis
  readonly namespace: string
  /** Subscribe; every message from another instance goes to `onChange`. */
  listen (onChange: (message: ChangeMessage) => void): void
  publish (message: Omit<ChangeMessage, 'origin'>): Promise<void>
  /** Whether Redis answers now (for /readyz). */
  ping (): Promise<boolean>
  close (): Promise<void>
}

/**
 * Redis on two connections: one for commands and publishing (failing fast while Redis is down, so
 * a write never waits on it), one subscribed and resubscribed by ioredis after every reconnect.
 * After a reconnect `onChange` gets the sentinel revision Infinity: messages sent meanwhile were lost.
 */
export function createRedisFeed ({ url, namespace, origin, logger }: {
  url: string, namespace: string, origin: string, logger: FeedLogger
}): ChangeFeed {
  patientRedisTimers()
  const channel = changesChannel(namespace)
  const options = { lazyConnect: false, retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000), connectTimeout: REDIS_BOUNDS.connect, keepAlive: REDIS_BOUNDS.keepAliveDelay }
  // The command connection never queues and never replays: a command fails at once while Redis is
  // not connected (enableOfflineQueue false, maxRetriesPerRequest 0), answers within commandTimeout
  // while it is connected, and a link that stops answering is dropped after socketTimeout and
  // reconnected, so that a stalled Redis turns into a down one (fast failures) instead of waits.
  const commands = new Redis(url, {
    ...options,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_BOUNDS.command,
    socketTimeout: REDIS_BOUNDS.socket,
    connectionName: `flagpost-cmd-${origin}`
  })
  const subscriber = new Redis(url, { ...options, maxRetriesPerRequest: 1, autoResubscribe: true, lazyConnect: true, connectionName: `flagpost-sub-${origin}` })
  let lastWarning = 0
  const warn = (err: Error, what: string): void => {
    // A Redis outage raises an error per retry: say it once in a while, not hundreds of times.
    if (Date.now() - lastWarning < 10_000) return
    lastWarning = Date.now()
    logger.warn({ err: { message: err.message } }, `redis ${what} unavailable; evaluations keep serving, the revision poll keeps instances converging`)
  }
  commands.on('error', (err) => warn(err, 'connection'))
  subscriber.on('error', (err) => warn(err, 'subscriber'))

  return {
    commands,
    namespace,
    listen (onChange) {
      let subscribedOnce = false
      subscriber.on('ready', () => {
        if (subscribedOnce) {
          logger.info({}, 'redis reconnected: resubscribed, catching up')
          onChange({ revision: Number.POSITIVE_INFINITY, origin: 'reconnect' })
        }
        subscribedOnce = true
      })
      subscriber.on('message', (from: string, raw: string) => {
        if (from !== channel) return
        let message: ChangeMessage
        try { message = JSON.parse(raw) as ChangeMessage } catch { return }
        if (typeof message.revision !== 'number' || message.origin === origin) return
        onChange(message)
      })
      subscriber.subscribe(channel).catch((err: Error) => warn(err, 'subscribe'))
    },
    async publish ({ revision }) {
      try {
        await commands.publish(channel, JSON.stringify({ revision, origin }))
      } catch (err) {
        warn(err as Error, 'publish')
      }
    },
    async ping () {
      // commandTimeout bounds it while connected; not connected, it fails at once (no offline queue).
      try { return (await commands.ping()) === 'PONG' } catch { return false }
    },
    async close () {
      subscriber.removeAllListeners('ready')
      // A subscriber that never subscribed never connected (lazyConnect): quit() would connect it first.
      await Promise.allSettled([subscriber.status === 'wait' ? undefined : subscriber.quit(), commands.quit()])
      subscriber.disconnect()
      commands.disconnect()
    }
  }
}

/**
 * Connect a snapshot to the feed: announce this process's commits, and catch up when another
 * instance announces a revision this one has not applied yet (older or own revisions are ignored).
 */
export function connectSnapshotToFeed (snapshot: {
  readonly revision: number
  catchUp (): Promise<void>
  onCommitted (listener: (change: { revision: number }) => Promise<void> | void): void
}, feed: ChangeFeed, logger: FeedLogger, { subscribe = true } = {}): void {
  if (subscribe) {
    feed.listen((message) => {
      if (message.revision <= snapshot.revision) return
      // A failure is recorded and logged (once per change of state) by the snapshot; the poll retries.
      snapshot.catchUp().catch(() => {})
    })
  }
  // Not awaited: the write is committed and answered whatever Redis does. The message goes out on
  // the command connection after the shared copy's update (same connection, so in order), and a
  // stalled Redis costs the write nothing here (publish gives up after REDIS_BOUNDS.command, logged).
  snapshot.onCommitted((change) => { void feed.publish(change) })
}
