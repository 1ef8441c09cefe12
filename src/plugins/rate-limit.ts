import fp from 'fastify-plugin'
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit'
import { RateLimitedError } from '../errors.js'

const WINDOW_MS = 60_000
/** Clients tracked at once; past this the oldest window is forgotten (memory stays bounded under a flood of IPs). */
const MAX_CLIENTS = 100_000

interface Window { count: number, resetAt: number }
type IncrCallback = (error: Error | null, result?: { current: number, ttl: number }) => void

/**
 * Fixed one-minute windows per client, shared by every rate-limited route: the limit is on a
 * client's evaluation requests, whichever evaluation routes they use. (The plugin's own store
 * gives each route with a `config.rateLimit` its separate counters.)
 */
export class SharedWindowStore implements FastifyRateLimitStore {
  private readonly windows = new Map<string, Window>()
  private readonly capacity: number

  /** The plugin passes its own settings here; only `capacity` (tests) is read. */
  constructor (options: { capacity?: number } = {}) {
    this.capacity = options.capacity ?? MAX_CLIENTS
  }

  /** Clients currently tracked. */
  get size (): number { return this.windows.size }

  incr (key: string, callback: IncrCallback, timeWindow: number = WINDOW_MS): void {
    const now = Date.now()
    let window = this.windows.get(key)
    if (window === undefined || window.resetAt <= now) {
      // Re-inserted so that the map stays ordered by window start, oldest first.
      this.windows.delete(key)
      this.makeRoom(now)
      window = { count: 0, resetAt: now + timeWindow }
      this.windows.set(key, window)
    }
    window.count++
    callback(null, { current: window.count, ttl: window.resetAt - now })
  }

  /** Drop expired windows from the front; when still full, the oldest live one. */
  private makeRoom (now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt > now && this.windows.size < this.capacity) return
      this.windows.delete(key)
    }
  }

  child (): FastifyRateLimitStore { return this }
}

/**
 * Rate limiting per client IP over the evaluation routes (RATE_LIMIT_PER_MINUTE; 0 = off). Only
 * routes that opt in with `config: { rateLimit: {} }` are limited; they share one budget per
 * client. Register before the routes: the limiter attaches itself as routes are added.
 * Behind a load balancer the client IP is the balancer's unless Fastify's `trustProxy` is set,
 * and each instance counts on its own.
 */
export default fp(async function rateLimiting (app) {
  const max = app.config.rateLimitPerMinute
  if (max <= 0) return
  await app.register(rateLimit, {
    global: false,
    max,
    timeWindow: WINDOW_MS,
    keyGenerator: (request) => request.ip,
    store: SharedWindowStore,
    errorResponseBuilder: (_request, context) => new RateLimitedError(context.max, Math.max(1, Math.ceil(context.ttl / 1000)))
  })
}, { name: 'flagpost-rate-limit', dependencies: ['flagpost-services'] })
