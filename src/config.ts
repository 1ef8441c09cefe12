import { isIP } from 'node:net'
import Type, { type Static } from 'typebox'
import Value from 'typebox/value'
import { isPostgresUrl, parsePostgresUrl } from './db/pg-url.js'
import { ENVIRONMENT_KEY_RULE } from './schemas/names.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
/** proxy-addr's (Fastify's) names for address ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal']

/** One TRUST_PROXY list entry: an IPv4/IPv6 address, a CIDR of one, or a proxy-addr range name. */
function isProxyAddress (entry: string): boolean {
  if (PROXY_RANGES.includes(entry)) return true
  const [address, prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)
}

/**
 * One CORS_ORIGINS entry: `*`, or an origin exactly as a browser sends it in `Origin` (http or https,
 * lower-case host, optional non-default port, no path, not even `/`), else the form it should take.
 */
function corsOriginProblem (entry: string): string | undefined {
  if (entry === '*') return undefined
  if (entry.includes('*')) return 'no patterns: list each origin, or * alone'
  let url: URL
  try { url = new URL(entry) } catch { return 'not a URL' }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'not http(s)'
  return url.origin === entry ? undefined : `did you mean "${url.origin}"?`
}

/** `scheme://user:secret@host` → `scheme://***@host`: configuration errors must not print secrets. */
export const withoutCredentials = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@')

/** The service configuration, read once from the environment (the only reader of process.env). */
export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  databaseUrl: Type.String({ minLength: 1 }),
  redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  apiKeys: Type.Array(Type.String({ minLength: 16 })),
  readApiKeys: Type.Array(Type.String({ minLength: 16 })),
  authReads: Type.Boolean(),
  logLevel: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
  /** A request that takes at least this long (ms) is logged at info whatever it is (request-log.ts). */
  logSlowMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
  cacheRefreshMs: Type.Integer({ minimum: 50, maximum: 3_600_000 }),
  migrateOnStart: Type.Boolean(),
  bodyLimit: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024 }),
  /** Evaluation requests per minute per client IP; 0 turns rate limiting off. */
  rateLimitPerMinute: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
  /**
   * Fastify's `trustProxy`: whose X-Forwarded-For to believe for `request.ip` (rate limiting, logs):
   * false (nobody), true (every peer: only when nothing but the proxy can reach the service), or the
   * proxies' addresses / CIDRs. No hop count: Fastify 5 ignores one, as it cannot tell who the peer is.
   */
  trustProxy: Type.Union([Type.Boolean(), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
  /**
   * How long (ms) a client may take to send a whole request, headers and body; a slower one gets 408 and
   * is disconnected. Unset: DEFAULT_REQUEST_TIMEOUT_MS.
   */
  requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
  /**
   * Browser origins allowed to call the API (plugins/cors.ts): a listed origin on every route, `*` any
   * origin on the evaluation routes only. Empty: no CORS headers at all.
   */
  corsOrigins: Type.Array(Type.String({ minLength: 1 })),
  /** The environment the original paths, CLI commands and library calls address (SPEC §9). */
  defaultEnvironment: Type.String({ pattern: ENVIRONMENT_KEY_RULE.pattern, maxLength: ENVIRONMENT_KEY_RULE.maxLength }),
  /** Days of change history kept (SPEC §11); 0 keeps everything. It is also how far back streams can replay. */
  changeRetentionDays: Type.Integer({ minimum: 0, maximum: 36_500 }),
  /** A comment line on every stream this often (ms), so that proxies keep idle streams open (SPEC §12). */
  streamHeartbeatMs: Type.Integer({ minimum: 100, maximum: 300_000 }),
  /** Bytes a stream may have unsent before it is dropped as a slow consumer. */
  streamBufferBytes: Type.Integer({ minimum: 4096, maximum: 64 * 1024 * 1024 }),
  /** Megabytes of bulk answers kept for contexts that ask again (services/bulk-answers.ts); 0 keeps none. */
  bulkCacheMb: Type.Integer({ minimum: 0, maximum: 4096 }),
  /** The built admin UI served at /ui (SPEC §13). Unset: dist/ui, where `npm run build` puts it. */
  uiDir: Type.Optional(Type.String({ minLength: 1 }))
})
export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

const DEFAULT_DATABASE_URL = 'file:./data/flagpost.db'
/** REQUEST_TIMEOUT_MS when unset: a slow-body client holds a connection for at most this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/**
 * Validate the environment and return a typed config. Every problem is collected so that a
 * bad deployment learns everything wrong with it at once, not one variable per restart.
 */
export function loadConfig (env: Env = process.env): Config {
  const problems: string[] = []
  const int = (name: string, fallback: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    if (!/^\d+$/.test(raw.trim())) { problems.push(`${name} must be a non-negative integer, got "${raw}"`); return fallback }
    return Number(raw)
  }
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase()
    if (raw === undefined || raw === '') return fallback
    if (['true', '1', 'yes'].includes(raw)) return true
    if (['false', '0', 'no'].includes(raw)) return false
    problems.push(`${name} must be true or false, got "${env[name]}"`)
    return fallback
  }
  const list = (name: string): string[] => (env[name] ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '')
  const trustProxy = (): Config['trustProxy'] => {
    const raw = env.TRUST_PROXY?.trim() ?? ''
    if (raw === '' || raw.toLowerCase() === 'false') return false
    if (raw.toLowerCase() === 'true') return true
    if (/^\d+$/.test(raw)) {
      problems.push(`TRUST_PROXY must list the proxies' addresses/CIDRs, not a hop count (Fastify trusts no one for a hop count: it cannot check the peer), got "${raw}"`)
      return false
    }
    const entries = list('TRUST_PROXY')
    const bad = entries.filter((e) => !isProxyAddress(e))
    if (bad.length === 0 && entries.length > 0) return entries
    problems.push('TRUST_PROXY must be true, false or a comma-separated list of proxy addresses/CIDRs' +
      ` (${PROXY_RANGES.join(', ')} allowed), got "${raw}"${bad.length > 0 ? ` (not an address or CIDR: ${bad.map((b) => JSON.stringify(b)).join(', ')})` : ''}`)
    return false
  }
  const corsOrigins = (): string[] => {
    const entries = list('CORS_ORIGINS')
    const bad = entries.flatMap((e) => {
      const problem = corsOriginProblem(e)
      return problem === undefined ? [] : [`${JSON.stringify(withoutCredentials(e))} (${problem})`]
    })
    if (bad.length === 0) return entries
    problems.push(`CORS_ORIGINS must be a comma-separated list of origins (http(s)://host[:port], no path) or *, got ${bad.join(', ')}`)
    return []
  }

  const databaseUrl = env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL
  if (isPostgresUrl(databaseUrl)) {
    try { parsePostgresUrl(databaseUrl) } catch (err) {
      problems.push(`DATABASE_URL ${(err as Error).message}: "${withoutCredentials(databaseUrl)}"`)
    }
  } else if (!databaseUrl.startsWith('file:') && databaseUrl !== ':memory:') {
    problems.push(`DATABASE_URL must be postgres://… (Postgres), file:<path> (SQLite) or :memory:, got "${withoutCredentials(databaseUrl)}"`)
  }

  const candidate = {
    port: int('PORT', 5000),
    host: env.HOST?.trim() || '0.0.0.0',
    databaseUrl,
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL.trim() } : {}),
    apiKeys: list('API_KEY'),
    readApiKeys: list('READ_API_KEY'),
    authReads: bool('AUTH_READS', false),
    logLevel: (env.LOG_LEVEL?.trim() || 'info').toLowerCase(),
    logSlowMs: int('LOG_SLOW_MS', 1000),
    cacheRefreshMs: int('CACHE_REFRESH_MS', 1000),
    migrateOnStart: bool('MIGRATE_ON_START', true),
    bodyLimit: int('BODY_LIMIT', 256 * 1024),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 0),
    trustProxy: trustProxy(),
    corsOrigins: corsOrigins(),
    defaultEnvironment: env.DEFAULT_ENVIRONMENT?.trim() || 'production',
    changeRetentionDays: int('CHANGE_RETENTION_DAYS', 0),
    streamHeartbeatMs: int('STREAM_HEARTBEAT_MS', 15_000),
    streamBufferBytes: int('STREAM_BUFFER_BYTES', 256 * 1024),
    bulkCacheMb: int('BULK_CACHE_MB', 16),
    ...(env.UI_DIR?.trim() ? { uiDir: env.UI_DIR.trim() } : {}),
    ...(env.REQUEST_TIMEOUT_MS?.trim() ? { requestTimeoutMs: int('REQUEST_TIMEOUT_MS', DEFAULT_REQUEST_TIMEOUT_MS) } : {})
  }
  const names: Record<string, string> = {
    port: 'PORT',
    host: 'HOST',
    databaseUrl: 'DATABASE_URL',
    redisUrl: 'REDIS_URL',
    apiKeys: 'API_KEY',
    readApiKeys: 'READ_API_KEY',
    authReads: 'AUTH_READS',
    logLevel: 'LOG_LEVEL',
    logSlowMs: 'LOG_SLOW_MS',
    cacheRefreshMs: 'CACHE_REFRESH_MS',
    migrateOnStart: 'MIGRATE_ON_START',
    bodyLimit: 'BODY_LIMIT',
    rateLimitPerMinute: 'RATE_LIMIT_PER_MINUTE',
    trustProxy: 'TRUST_PROXY',
    requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
    corsOrigins: 'CORS_ORIGINS',
    defaultEnvironment: 'DEFAULT_ENVIRONMENT',
    changeRetentionDays: 'CHANGE_RETENTION_DAYS',
    streamHeartbeatMs: 'STREAM_HEARTBEAT_MS',
    streamBufferBytes: 'STREAM_BUFFER_BYTES',
    bulkCacheMb: 'BULK_CACHE_MB',
    uiDir: 'UI_DIR'
  }
  const seen = new Set<string>()
  for (const error of Value.Errors(ConfigSchema, candidate)) {
    const key = error.instancePath.split('/')[1] ?? ''
    if (seen.has(key)) continue
    seen.add(key)
    const got = candidate[key as keyof typeof candidate]
    const detail = key === 'apiKeys' || key === 'readApiKeys'
      ? 'each key must be at least 16 characters'
      : key === 'defaultEnvironment'
        ? `${ENVIRONMENT_KEY_RULE.message}, got ${JSON.stringify(got)}`
        : key === 'logLevel'
          ? `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(got)}`
          : `${error.message}, got ${JSON.stringify(typeof got === 'string' ? withoutCredentials(got) : got)}`
    problems.push(`${names[key] ?? key}: ${detail}`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return candidate as Config
}
