import { Redis } from 'ioredis'

/** Keys and channels are namespaced and versioned, so a deployment of a new shape never reads an old one. */
export const REDIS_NAMESPACE = 'flagpost:v1:'
export const CHANGES_CHANNEL = `${REDIS_NAMESPACE}changes`

/** What a writer announces after its transaction committed. */
export interface ChangeMessage { revision: number, names: string[], origin: string }

export interface FeedLogger {
  warn (obj: object, msg: string): void
  info (obj: object, msg: string): void
}

/** Cross-instance change notification; at-most-once (the revision poll covers what it misses). */
export interface ChangeFeed {
  publish (message: Omit<ChangeMessage, 'origin'>): Promise<void>
  /** Whether Redis answers now (for /readyz). */
  ping (): Promise<boolean>
  close (): Promise<void>
}

/**
 * Redis pub/sub on two connections: one publishes (failing fast while Redis is down, so a write
 * never waits on it), one subscribes and is resubscribed by ioredis after every reconnect. Every
 * message from another instance is handed to `onChange`; after a reconnect `onChange` is called
 * with the sentinel revision Infinity, because messages sent meanwhile were lost.
 */
export function createRedisFeed ({ url, origin, onChange, logger }: {
  url: string, origin: string, onChange: (message: ChangeMessage) => void, logger: FeedLogger
}): ChangeFeed {
  const options = { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000) }
  const publisher = new Redis(url, { ...options, enableOfflineQueue: false, connectionName: `flagpost-pub-${origin}` })
  const subscriber = new Redis(url, { ...options, autoResubscribe: true, connectionName: `flagpost-sub-${origin}` })
  let lastWarning = 0
  const warn = (err: Error, what: string): void => {
    // A Redis outage raises an error per retry: say it once in a while, not hundreds of times.
    if (Date.now() - lastWarning < 10_000) return
    lastWarning = Date.now()
    logger.warn({ err: { message: err.message } }, `redis ${what} unavailable; evaluations keep serving, the revision poll keeps instances converging`)
  }
  publisher.on('error', (err) => warn(err, 'publisher'))
  subscriber.on('error', (err) => warn(err, 'subscriber'))

  let subscribedOnce = false
  subscriber.on('ready', () => {
    if (subscribedOnce) {
      logger.info({}, 'redis reconnected: resubscribed, catching up')
      onChange({ revision: Number.POSITIVE_INFINITY, names: [], origin: 'reconnect' })
    }
    subscribedOnce = true
  })
  subscriber.subscribe(CHANGES_CHANNEL).catch((err: Error) => warn(err, 'subscribe'))
  subscriber.on('message', (channel: string, raw: string) => {
    if (channel !== CHANGES_CHANNEL) return
    let message: ChangeMessage
    try { message = JSON.parse(raw) as ChangeMessage } catch { return }
    if (typeof message.revision !== 'number' || message.origin === origin) return
    onChange(message)
  })

  return {
    async publish ({ revision, names }) {
      try {
        await publisher.publish(CHANGES_CHANNEL, JSON.stringify({ revision, names, origin }))
      } catch (err) {
        warn(err as Error, 'publish')
      }
    },
    async ping () {
      try { return (await publisher.ping()) === 'PONG' } catch { return false }
    },
    async close () {
      subscriber.removeAllListeners('ready')
      await Promise.allSettled([subscriber.quit(), publisher.quit()])
      subscriber.disconnect()
      publisher.disconnect()
    }
  }
}

/**
 * Connect a snapshot to the Redis feed: announce this process's commits, and catch up when another
 * instance announces a revision this one has not applied yet (older or own revisions are ignored).
 */
export function connectSnapshotToRedis (snapshot: {
  readonly revision: number
  catchUp (): Promise<void>
  onCommitted (listener: (change: { revision: number, names: string[] }) => Promise<void>): void
}, { url, origin, logger }: { url: string, origin: string, logger: FeedLogger }): ChangeFeed {
  const feed = createRedisFeed({
    url,
    origin,
    logger,
    onChange: (message) => {
      if (message.revision <= snapshot.revision) return
      snapshot.catchUp().catch((err: Error) => logger.warn({ err: { message: err.message } }, 'catch-up after a change message failed; the poll will retry'))
    }
  })
  snapshot.onCommitted((change) => feed.publish(change))
  return feed
}
