import { Redis } from 'ioredis'

import type { Test } from 'tap'

/** Mark the test skipped with a reason that shows in the output. */
const skip = (t: Test, reason: string): void => { t.test(reason, { skip: reason }, async () => {}) }

/**
 * The Redis URL for tests that need a real server, or null after marking the test skipped. Under
 * CI=true Redis is required: missing or unreachable is a failure, never a quiet skip.
 */
export async function redisUrlOrSkip (t: Test): Promise<string | null> {
  const url = process.env.REDIS_URL
  const ci = process.env.CI === 'true'
  if (url === undefined || url === '') {
    if (ci) t.fail('REDIS_URL is not set, and CI=true requires the Redis suites to run')
    else skip(t, 'REDIS_URL not set: Redis suite skipped (set REDIS_URL=redis://127.0.0.1:6379 to run it)')
    return null
  }
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await probe.connect()
    await probe.ping()
    return url
  } catch (err) {
    const message = `Redis at ${url} is unreachable (${(err as Error).message})`
    if (ci) t.fail(message)
    else skip(t, `${message}: Redis suite skipped`)
    return null
  } finally {
    probe.disconnect()
  }
}
