/**
 * For scripts/test.sh (`npm test`): use the local Postgres and Redis when DATABASE_URL / REDIS_URL are
 * unset and they answer. Each unset one is tried once at its default address, both at the same time,
 * each given at most a second to connect and answer (Postgres `select 1`, Redis PING). Prints to stdout
 * the `export` lines for the shell to eval (only for services that answered), and to stderr one line
 * naming the suites that will be skipped and how to run them. A URL that is set is left alone, reachable
 * or not (the suites report it), and so is everything under CI=true: there a missing service fails the
 * suites that need it, as before.
 */
import { Redis } from 'ioredis'
import pg from 'pg'

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
const TIMEOUT_MS = 1000

/** Does a Postgres server answer `select 1` at `url` within the timeout? */
async function postgresAnswers (url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    client.end().catch(() => {})
  }
}

/** Does a Redis server answer PING at `url` within the timeout? */
async function redisAnswers (url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: TIMEOUT_MS, commandTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

const unset = (name: string): boolean => (process.env[name] ?? '') === ''

if (process.env.CI !== 'true') {
  const [postgres, redis] = await Promise.all([
    unset('DATABASE_URL') ? postgresAnswers(DEFAULT_DATABASE_URL) : null,
    unset('REDIS_URL') ? redisAnswers(DEFAULT_REDIS_URL) : null
  ])
  const skipped: string[] = []
  if (postgres === true) process.stdout.write(`export DATABASE_URL='${DEFAULT_DATABASE_URL}'\n`)
  if (postgres === false) skipped.push(`the Postgres pass and suites (nothing answers at ${DEFAULT_DATABASE_URL}; start one there or set DATABASE_URL=postgres://…)`)
  if (redis === true) process.stdout.write(`export REDIS_URL='${DEFAULT_REDIS_URL}'\n`)
  if (redis === false) skipped.push(`the Redis suites (nothing answers at ${DEFAULT_REDIS_URL}; start one there or set REDIS_URL=redis://…)`)
  if (skipped.length > 0) process.stderr.write(`# npm test skips ${skipped.join(', and ')}\n`)
}
// The probes' sockets may take a moment to close; nothing else is left to do.
process.exit(0)
