import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { differs, failing } from './support/cases.js'

const KEY_A = 'key-a-0123456789abcdef'
const KEY_B = 'key-b-0123456789abcdef'

/** The ConfigError loadConfig throws for `env`; anything else (or no error) fails the test. */
function configError (env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`)
}

/** The problem naming `variable` (e.g. "PORT must…" or "PORT: must…"). */
const problemFor = (err: ConfigError, variable: string): string[] =>
  err.problems.filter((p) => new RegExp(`^${variable}\\b(?!_)`).test(p))

t.test('defaults', async (t) => {
  t.strictSame(loadConfig({}), {
    port: 5000,
    host: '0.0.0.0',
    databaseUrl: 'file:./data/flagpost.db',
    apiKeys: [],
    readApiKeys: [],
    authReads: false,
    logLevel: 'info',
    logSlowMs: 1000,
    cacheRefreshMs: 1000,
    migrateOnStart: true,
    bodyLimit: 256 * 1024,
    rateLimitPerMinute: 0,
    trustProxy: false,
    corsOrigins: [],
    defaultEnvironment: 'production',
    changeRetentionDays: 0,
    streamHeartbeatMs: 15_000,
    streamBufferBytes: 256 * 1024,
    bulkCacheMb: 16
  })
  t.notOk('redisUrl' in loadConfig({}), 'no REDIS_URL: single-instance, in-process cache')
  // Empty values mean "unset", as a blank line in an .env file does.
  t.strictSame(loadConfig({ PORT: '', HOST: '', DATABASE_URL: '', REDIS_URL: '', API_KEY: '', AUTH_READS: '', LOG_LEVEL: '', LOG_SLOW_MS: '', CACHE_REFRESH_MS: '', MIGRATE_ON_START: '', TRUST_PROXY: '', CORS_ORIGINS: '', DEFAULT_ENVIRONMENT: '', CHANGE_RETENTION_DAYS: '', STREAM_HEARTBEAT_MS: '', STREAM_BUFFER_BYTES: '', BULK_CACHE_MB: '' }),
    loadConfig({}))
})

t.test('loadConfig reads only the env it is given', async (t) => {
  const saved = process.env.PORT
  process.env.PORT = '1234'
  t.teardown(() => { if (saved === undefined) delete process.env.PORT; else process.env.PORT = saved })
  t.equal(loadConfig({}).port, 5000)
})

t.test('parsing each variable', async (t) => {
  t.equal(loadConfig({ PORT: '8080' }).port, 8080)
  t.equal(loadConfig({ PORT: ' 8081 ' }).port, 8081)
  t.equal(loadConfig({ PORT: '0' }).port, 0)
  t.equal(loadConfig({ PORT: '65535' }).port, 65535)
  t.equal(loadConfig({ HOST: '127.0.0.1' }).host, '127.0.0.1')
  t.equal(loadConfig({ HOST: '::' }).host, '::')
  t.equal(loadConfig({ DATABASE_URL: 'file:/var/lib/flagpost/flags.db' }).databaseUrl, 'file:/var/lib/flagpost/flags.db')
  t.equal(loadConfig({ DATABASE_URL: ':memory:' }).databaseUrl, ':memory:')
  t.equal(loadConfig({ REDIS_URL: 'redis://cache:6379/0' }).redisUrl, 'redis://cache:6379/0')
  t.equal(loadConfig({ REDIS_URL: 'rediss://user:pw@cache:6380' }).redisUrl, 'rediss://user:pw@cache:6380')
  t.strictSame(loadConfig({ API_KEY: KEY_A }).apiKeys, [KEY_A])
  t.strictSame(loadConfig({ API_KEY: ` ${KEY_A} , ${KEY_B} ,` }).apiKeys, [KEY_A, KEY_B], 'comma-separated, trimmed, empty entries dropped')
  t.strictSame(loadConfig({ READ_API_KEY: `${KEY_B},${KEY_A}` }).readApiKeys, [KEY_B, KEY_A])
  const authReads: [string, boolean][] = [['true', true], ['TRUE', true], [' True ', true], ['1', true], ['yes', true], ['false', false], ['FALSE', false], ['0', false], ['no', false]]
  t.same(failing(authReads, ([value, want]) => differs(`AUTH_READS=${value}`, loadConfig({ AUTH_READS: value }).authReads, want)), [], 'AUTH_READS: true/1/yes and false/0/no, any case, trimmed')
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
  t.same(failing(levels, (level) => differs(level, loadConfig({ LOG_LEVEL: level }).logLevel, level)), [], 'every pino level')
  t.equal(loadConfig({ LOG_LEVEL: 'DEBUG' }).logLevel, 'debug')
  t.equal(loadConfig({ CACHE_REFRESH_MS: '250' }).cacheRefreshMs, 250)
  t.equal(loadConfig({ MIGRATE_ON_START: 'false' }).migrateOnStart, false)
  t.equal(loadConfig({ MIGRATE_ON_START: 'true' }).migrateOnStart, true)
})

t.test('every bad value is reported together in one ConfigError', async (t) => {
  const secret = 'abcde'
  const err = configError({
    PORT: 'abc',
    CACHE_REFRESH_MS: '-5',
    AUTH_READS: 'maybe',
    LOG_LEVEL: 'loud',
    API_KEY: secret,
    REDIS_URL: 'http://x'
  })
  t.type(err, ConfigError)
  t.equal(err.name, 'ConfigError')
  t.equal(err.problems.length, 6, err.problems.join('\n'))
  const expectations: Array<[string, RegExp]> = [
    ['PORT', /"abc"/],
    ['CACHE_REFRESH_MS', /"-5"/],
    ['AUTH_READS', /"maybe"/],
    ['LOG_LEVEL', /loud/],
    ['API_KEY', /at least 16 characters/],
    ['REDIS_URL', /http:\/\/x/]
  ]
  t.same(failing(expectations, ([variable, detail]) => {
    const problems = problemFor(err, variable)
    return differs(variable, { problems: problems.length, detail: detail.test(problems[0] ?? ''), inMessage: err.message.includes(problems[0] ?? '\0') }, { problems: 1, detail: true, inMessage: true })
  }), [], `exactly one problem names each variable, with the bad value or the rule, and the message lists it: ${err.problems.join(' | ')}`)
  t.match(err.message, /^Invalid configuration:/)
  t.notOk(err.message.includes(secret), 'a bad API key is not echoed')
})

t.test('an out-of-range PORT is reported with the others', async (t) => {
  const err = configError({ PORT: '70000', CACHE_REFRESH_MS: '-5', AUTH_READS: 'maybe', LOG_LEVEL: 'loud', API_KEY: 'abcde', REDIS_URL: 'http://x' })
  t.equal(err.problems.length, 6, err.problems.join('\n'))
  t.match(problemFor(err, 'PORT'), [/65535/])
  t.match(problemFor(err, 'PORT'), [/70000/])
})

t.test('more bad values, one at a time', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ PORT: '65536' }, 'PORT'],
    [{ CACHE_REFRESH_MS: 'soon' }, 'CACHE_REFRESH_MS'],
    [{ MIGRATE_ON_START: 'sometimes' }, 'MIGRATE_ON_START'],
    [{ API_KEY: `${KEY_A},short` }, 'API_KEY'],
    [{ READ_API_KEY: 'short' }, 'READ_API_KEY'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
    [{ DATABASE_URL: 'mysql://db/flags' }, 'DATABASE_URL']
  ]
  t.same(failing(cases, ([env, variable]) => {
    const err = configError(env)
    return differs(`${JSON.stringify(env)} → ${err.problems.join(' | ')}`, { problems: err.problems.length, naming: problemFor(err, variable).length }, { problems: 1, naming: 1 })
  }), [], 'each bad value alone is one problem, naming its variable')
})

t.test('problems never echo credentials, and name the allowed log levels', async (t) => {
  const err = configError({ DATABASE_URL: 'mysql://admin:s3cret-pw@db/flags', LOG_LEVEL: 'loud' })
  t.notMatch(err.message, /s3cret-pw/)
  t.match(problemFor(err, 'DATABASE_URL'), [/mysql:\/\/\*\*\*@db\/flags/])
  t.match(problemFor(err, 'LOG_LEVEL'), [/must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/])
})

t.test('a postgres:// or postgresql:// DATABASE_URL selects Postgres, kept as given', async (t) => {
  for (const url of ['postgres://flagpost:pw@db:5432/flagpost', 'postgresql://flagpost@db/flagpost', 'postgres://db/flagpost?schema=flags_v2&sslmode=require']) {
    t.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url)
  }
  t.equal(loadConfig({ DATABASE_URL: '  postgres://db/x  ' }).databaseUrl, 'postgres://db/x', 'trimmed')
})

t.test('a bad ?schema= is reported with the others, without the password', async (t) => {
  const err = configError({ DATABASE_URL: 'postgres://flagpost:s3cret-pw@db/flagpost?schema=Flags;drop', PORT: 'abc' })
  t.equal(err.problems.length, 2, err.problems.join(' | '))
  t.match(problemFor(err, 'DATABASE_URL'), [/schema must be a lower-case identifier.*"Flags;drop"/])
  t.equal(problemFor(err, 'PORT').length, 1)
  t.notMatch(err.message, /s3cret-pw/)
  t.match(problemFor(configError({ DATABASE_URL: 'postgres://db:port/x' }), 'DATABASE_URL'), [/is not a valid URL/])
})

t.test('TRUST_PROXY: true/false or the proxies\' addresses and CIDRs, as Fastify takes them', async (t) => {
  const trust = (value: string): unknown => loadConfig({ TRUST_PROXY: value }).trustProxy
  t.equal(trust('false'), false)
  t.equal(trust(' FALSE '), false)
  t.equal(trust('true'), true)
  t.equal(trust('True'), true)
  t.strictSame(trust('10.0.0.1'), ['10.0.0.1'], 'one address is a one-entry list')
  t.strictSame(trust(' 10.0.0.1 , 172.16.0.0/12,192.168.0.0/16 '), ['10.0.0.1', '172.16.0.0/12', '192.168.0.0/16'], 'trimmed')
  t.strictSame(trust('::1,fd00::/8,2001:db8::/128'), ['::1', 'fd00::/8', '2001:db8::/128'], 'IPv6 addresses and CIDRs')
  t.strictSame(trust('0.0.0.0/0'), ['0.0.0.0/0'])
  t.strictSame(trust('loopback,uniquelocal,linklocal'), ['loopback', 'uniquelocal', 'linklocal'], 'the range names Fastify knows')
})

t.test('a bad TRUST_PROXY is reported with the others, naming the bad entries', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['yes', /must be true, false or a comma-separated list.*got "yes"/],
    ['maybe', /got "maybe"/],
    ['-1', /got "-1"/],
    ['1.5', /"1\.5"/],
    ['10.0.0.1,proxy.internal', /not an address or CIDR: "proxy\.internal"/],
    ['10.0.0.0/33', /"10\.0\.0\.0\/33"/],
    ['::/129', /"::\/129"/],
    ['10.0.0.0/8/8', /"10\.0\.0\.0\/8\/8"/],
    ['10.0.0.0/', /"10\.0\.0\.0\/"/],
    ['256.1.1.1', /"256\.1\.1\.1"/],
    ['1,10.0.0.1', /not an address or CIDR: "1"/],
    [',', /got ","/],
    // Fastify 5 trusts no one for a number (it cannot check the peer): refused rather than silently ignored.
    ['1', /not a hop count.*got "1"/],
    ['0', /not a hop count/],
    ['99999999999999999999', /not a hop count/]
  ]
  t.same(failing(cases, ([value, detail]) => {
    const err = configError({ TRUST_PROXY: value, PORT: 'abc' })
    const problems = problemFor(err, 'TRUST_PROXY')
    const problem = problems[0] ?? ''
    const got = { problems: err.problems.length, trustProxy: problems.length, namesBadEntry: detail.test(problem), saysWhatIsAccepted: /addresses\/CIDRs/.test(problem) }
    return differs(`${value} → ${err.problems.join(' | ')}`, got, { problems: 2, trustProxy: 1, namesBadEntry: true, saysWhatIsAccepted: true })
  }), [], `each of ${cases.length} bad values: one TRUST_PROXY problem beside the PORT one, naming the bad entry and saying what is accepted`)
})

t.test('CORS_ORIGINS: origins as browsers send them, and *', async (t) => {
  const origins = (value: string): string[] => loadConfig({ CORS_ORIGINS: value }).corsOrigins
  t.strictSame(origins(''), [], 'unset: no CORS')
  t.strictSame(origins(' , '), [])
  t.strictSame(origins('https://app.example.com'), ['https://app.example.com'])
  t.strictSame(origins(' https://app.example.com , http://localhost:3000,* '), ['https://app.example.com', 'http://localhost:3000', '*'], 'trimmed')
  t.strictSame(origins('http://127.0.0.1:8080,http://[::1]:8080'), ['http://127.0.0.1:8080', 'http://[::1]:8080'], 'IP hosts')
  t.strictSame(origins('*'), ['*'])
})

t.test('a malformed CORS_ORIGINS entry is one problem line, naming each bad entry', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['app.example.com', /"app\.example\.com" \(not a URL\)/],
    ['https://app.example.com/', /"https:\/\/app\.example\.com\/" \(did you mean "https:\/\/app\.example\.com"\?\)/],
    ['https://app.example.com/ui', /did you mean "https:\/\/app\.example\.com"/],
    ['https://App.Example.com', /did you mean "https:\/\/app\.example\.com"/],
    ['https://app.example.com:443', /did you mean "https:\/\/app\.example\.com"/],
    ['https://app.example.com?x=1', /did you mean/],
    ['ftp://files.example.com', /"ftp:\/\/files\.example\.com" \(not http\(s\)\)/],
    ['null', /"null" \(not a URL\)/],
    ['https://*.example.com', /"https:\/\/\*\.example\.com" \(no patterns: list each origin, or \* alone\)/],
    ['**', /"\*\*" \(no patterns/],
    ['https://a.example.com,bad,http://x/y', /"bad" \(not a URL\), "http:\/\/x\/y" \(did you mean "http:\/\/x"\?\)$/]
  ]
  t.same(failing(cases, ([value, detail]) => {
    const err = configError({ CORS_ORIGINS: value, PORT: 'abc' })
    const problems = problemFor(err, 'CORS_ORIGINS')
    const problem = problems[0] ?? ''
    const got = {
      problems: err.problems.length,
      corsOrigins: problems.length,
      namesBadEntries: detail.test(problem),
      saysWhatIsAccepted: /origins \(http\(s\):\/\/host\[:port\], no path\) or \*/.test(problem),
      oneLine: !problem.includes('\n')
    }
    return differs(`${value} → ${err.problems.join(' | ')}`, got, { problems: 2, corsOrigins: 1, namesBadEntries: true, saysWhatIsAccepted: true, oneLine: true })
  }), [], `each of ${cases.length} bad values: one CORS_ORIGINS line beside the PORT problem, naming each bad entry and saying what is accepted`)
  t.notMatch(problemFor(configError({ CORS_ORIGINS: 'https://user:secret@app.example.com' }), 'CORS_ORIGINS')[0] ?? '', /secret/, 'no credentials echoed')
})

t.test('DEFAULT_ENVIRONMENT: an environment key, else one problem line saying what a key looks like', async (t) => {
  t.equal(loadConfig({ DEFAULT_ENVIRONMENT: 'staging' }).defaultEnvironment, 'staging')
  t.equal(loadConfig({ DEFAULT_ENVIRONMENT: ' dev-1 ' }).defaultEnvironment, 'dev-1')
  t.same(['Prod', 'a b', '-x', 'x'.repeat(33), 'prod/1'].flatMap((value) => {
    const problems = problemFor(configError({ DEFAULT_ENVIRONMENT: value }), 'DEFAULT_ENVIRONMENT')
    return problems.length === 1 && /lower-case letters/.test(problems[0]) ? [] : [{ value, problems }]
  }), [], 'each bad key is one DEFAULT_ENVIRONMENT problem naming the rule')
})

t.test('history retention and streams: read, bounded, each bad value one problem line', async (t) => {
  const config = loadConfig({ CHANGE_RETENTION_DAYS: '90', STREAM_HEARTBEAT_MS: '5000', STREAM_BUFFER_BYTES: '65536' })
  t.same([config.changeRetentionDays, config.streamHeartbeatMs, config.streamBufferBytes], [90, 5000, 65536])
  const err = configError({ CHANGE_RETENTION_DAYS: '-1', STREAM_HEARTBEAT_MS: '50', STREAM_BUFFER_BYTES: '1024' })
  for (const variable of ['CHANGE_RETENTION_DAYS', 'STREAM_HEARTBEAT_MS', 'STREAM_BUFFER_BYTES']) {
    t.equal(problemFor(err, variable).length, 1, `${variable}: ${problemFor(err, variable).join(' | ')}`)
  }
  t.match(problemFor(configError({ STREAM_HEARTBEAT_MS: '1000000' }), 'STREAM_HEARTBEAT_MS')[0], /300000/, 'the bound is named')
})

t.test('BULK_CACHE_MB: read, 0 turns the kept answers off, a bad value one problem line naming it', async (t) => {
  t.equal(loadConfig({ BULK_CACHE_MB: '64' }).bulkCacheMb, 64)
  t.equal(loadConfig({ BULK_CACHE_MB: '0' }).bulkCacheMb, 0)
  for (const value of ['-1', '1.5', 'lots', '4097']) {
    t.equal(problemFor(configError({ BULK_CACHE_MB: value }), 'BULK_CACHE_MB').length, 1, `BULK_CACHE_MB=${value}`)
  }
})

t.test('LOG_SLOW_MS: read, at least 1 ms, a bad value one problem line naming it', async (t) => {
  t.equal(loadConfig({ LOG_SLOW_MS: '250' }).logSlowMs, 250)
  for (const value of ['0', '-5', '1.5', 'fast', '3600001']) {
    t.equal(problemFor(configError({ LOG_SLOW_MS: value }), 'LOG_SLOW_MS').length, 1, `LOG_SLOW_MS=${value}`)
  }
})
