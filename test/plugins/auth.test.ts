import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Database from 'better-sqlite3'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { createMemoryApiKeyRepository } from '../../src/repositories/memory/flag-repository.js'
import { createMemoryRepositories } from '../../src/repositories/memory/index.js'
import { createApiKeyService, SECRET_PATTERN } from '../../src/services/api-key-service.js'
import { build, createFlag, READ_KEY, WRITE_KEY } from '../helper.js'

const sha256hex = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex')
/** The actor the change log must record for an environment key: a hash prefix, never the key. */
const actorFor = (key: string): string => `env-key:${sha256hex(key).slice(0, 8)}`

const UNAUTHORIZED = {
  type: 'urn:flagpost:problem:unauthorized',
  title: 'Unauthorized',
  status: 401,
  detail: 'A valid API key is required (X-API-Key or Authorization: Bearer)',
  code: 'FLAGPOST_ERR_UNAUTHORIZED'
}
const FORBIDDEN = {
  type: 'urn:flagpost:problem:forbidden',
  title: 'Forbidden',
  status: 403,
  detail: 'This API key may not perform writes',
  code: 'FLAGPOST_ERR_FORBIDDEN'
}

t.test('writes need a write key', async (t) => {
  const ctx = await build(t)
  const create = (headers: Record<string, string>, name: string) =>
    ctx.app.inject({ method: 'POST', url: '/flags', headers, payload: { name } })

  t.test('no key: 401 problem+json', async (t) => {
    const res = await create({}, 'f1')
    t.equal(res.statusCode, 401)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="flagpost"', 'RFC 9110: a 401 names its scheme')
    t.strictSame(res.json(), { ...UNAUTHORIZED, instance: '/flags' })
  })

  t.test('a wrong key, an empty key or another scheme: 401', async (t) => {
    const attempts: Array<Record<string, string>> = [
      { 'x-api-key': 'not-the-key-0123456789' },
      { 'x-api-key': `${WRITE_KEY}x` },
      { 'x-api-key': WRITE_KEY.slice(0, -1) },
      { authorization: 'Bearer not-the-key-0123456789' },
      { authorization: `Basic ${Buffer.from(`user:${WRITE_KEY}`).toString('base64')}` },
      { authorization: WRITE_KEY },
      { authorization: 'Bearer ' },
      { 'x-api-key': '' }
    ]
    for (const headers of attempts) {
      const res = await create(headers, 'f2')
      t.equal(res.statusCode, 401, JSON.stringify(headers))
      t.equal(res.json().code, 'FLAGPOST_ERR_UNAUTHORIZED', JSON.stringify(headers))
    }
  })

  t.test('the read key: 403', async (t) => {
    const readKeyHeaders: Array<Record<string, string>> = [{ 'x-api-key': READ_KEY }, { authorization: `Bearer ${READ_KEY}` }]
    for (const headers of readKeyHeaders) {
      const res = await create(headers, 'f3')
      t.equal(res.statusCode, 403)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.strictSame(res.json(), { ...FORBIDDEN, instance: '/flags' })
    }
    t.equal((await ctx.app.inject({ url: '/flags/f3' })).statusCode, 404, 'nothing was written')
  })

  t.test('X-API-Key and Authorization: Bearer (any case) both work', async (t) => {
    t.equal((await create({ 'x-api-key': WRITE_KEY }, 'via_header')).statusCode, 201)
    t.equal((await create({ authorization: `Bearer ${WRITE_KEY}` }, 'via_bearer')).statusCode, 201)
    t.equal((await create({ authorization: `bearer ${WRITE_KEY}` }, 'via_lower')).statusCode, 201)
    t.equal((await create({ authorization: `BEARER ${WRITE_KEY}` }, 'via_upper')).statusCode, 201)
    const put = await ctx.app.inject({ method: 'PUT', url: '/flags/via_bearer', headers: { authorization: `Bearer ${WRITE_KEY}` }, payload: { enabled: false } })
    t.equal(put.statusCode, 200)
    t.equal(put.json().enabled, false)
  })

  t.test('every write route checks the key before the body', async (t) => {
    const writes = [
      { method: 'POST', url: '/flags', payload: { name: 'has space', bogus: 1 } },
      { method: 'PUT', url: '/flags/via_header', payload: { enabled: 'nope' } },
      { method: 'DELETE', url: '/flags/via_header' },
      { method: 'POST', url: '/flags/via_header/rename', payload: { new_name: 'renamed' } }
    ] as const
    for (const req of writes) {
      const missing = await ctx.app.inject(req)
      t.equal(missing.statusCode, 401, `${req.method} ${req.url} without a key`)
      t.equal(missing.json().code, 'FLAGPOST_ERR_UNAUTHORIZED')
      const read = await ctx.app.inject({ ...req, headers: { 'x-api-key': READ_KEY } })
      t.equal(read.statusCode, 403, `${req.method} ${req.url} with the read key`)
      t.equal(read.json().code, 'FLAGPOST_ERR_FORBIDDEN')
    }
    t.equal((await ctx.app.inject({ url: '/flags/via_header' })).statusCode, 200, 'the flag is untouched')
  })
})

t.test('reads and evaluation are open by default', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'open' })
  t.equal((await ctx.app.inject({ url: '/flags' })).statusCode, 200)
  t.equal((await ctx.app.inject({ url: '/flags/open' })).statusCode, 200)
  const evaluation = await ctx.app.inject({ url: '/evaluate/open?user_id=alice' })
  t.equal(evaluation.statusCode, 200)
  t.equal(evaluation.json().value, true)
  t.equal((await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: {} } })).statusCode, 200)
})

t.test('AUTH_READS=true: reads and evaluation need a key; health and docs stay open', async (t) => {
  const ctx = await build(t, { AUTH_READS: 'true' })
  await createFlag(ctx, { name: 'guarded' })
  const reads = [
    { method: 'GET', url: '/flags' },
    { method: 'GET', url: '/flags/guarded' },
    { method: 'GET', url: '/evaluate/guarded?user_id=alice' },
    { method: 'POST', url: '/evaluate', payload: { context: { user_id: 'alice' } } }
  ] as const
  for (const req of reads) {
    const name = `${req.method} ${req.url}`
    const anonymous = await ctx.app.inject(req)
    t.equal(anonymous.statusCode, 401, `${name} without a key`)
    t.equal(anonymous.json().code, 'FLAGPOST_ERR_UNAUTHORIZED')
    t.equal((await ctx.app.inject({ ...req, headers: { 'x-api-key': 'wrong-key-0123456789' } })).statusCode, 401, `${name} wrong key`)
    t.equal((await ctx.app.inject({ ...req, headers: { 'x-api-key': READ_KEY } })).statusCode, 200, `${name} read key`)
    t.equal((await ctx.app.inject({ ...req, headers: { authorization: `Bearer ${READ_KEY}` } })).statusCode, 200, `${name} read key as bearer`)
    t.equal((await ctx.app.inject({ ...req, headers: { 'x-api-key': WRITE_KEY } })).statusCode, 200, `${name} write key`)
  }
  t.equal((await ctx.app.inject({ url: '/evaluate/missing' })).statusCode, 401, 'auth comes before the 404')
  for (const url of ['/healthz', '/readyz', '/openapi.json']) {
    t.equal((await ctx.app.inject({ url })).statusCode, 200, `${url} is open`)
  }
  const docs = await ctx.app.inject({ url: '/docs' })
  t.ok(docs.statusCode === 200 || (docs.statusCode >= 300 && docs.statusCode < 400), `/docs is open (${docs.statusCode})`)
  // Writes still need the write scope.
  t.equal((await ctx.app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': READ_KEY }, payload: { name: 'x' } })).statusCode, 403)
})

t.test('API_KEY with two comma-separated keys: both work (rotation)', async (t) => {
  const oldKey = 'rotating-old-key-0123456789'
  const newKey = 'rotating-new-key-9876543210'
  const ctx = await build(t, { API_KEY: ` ${oldKey} , ${newKey} ` })
  t.equal((await ctx.app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': oldKey }, payload: { name: 'by_old' } })).statusCode, 201)
  t.equal((await ctx.app.inject({ method: 'POST', url: '/flags', headers: { authorization: `Bearer ${newKey}` }, payload: { name: 'by_new' } })).statusCode, 201)
  t.equal((await ctx.app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY }, payload: { name: 'by_gone' } })).statusCode, 401,
    'a key that is no longer configured is refused')
  t.equal((await ctx.app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': `${oldKey},${newKey}` }, payload: { name: 'by_both' } })).statusCode, 401,
    'the raw comma-separated value is not itself a key')
})

t.test('the change log records env-key:<8 hex> as actor, never the key (memory repository through HTTP)', async (t) => {
  const config = loadConfig({ DATABASE_URL: ':memory:', API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY, LOG_LEVEL: 'silent' })
  const repositories = createMemoryRepositories()
  const flagRepo = repositories
  const container = await createContainer(config, { repositories, poll: false })
  const app = await buildApp(container, { logger: { level: 'silent' } })
  t.teardown(async () => { await app.close(); await container.close() })

  t.equal((await app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY }, payload: { name: 'audited' } })).statusCode, 201)
  t.equal((await app.inject({ method: 'PUT', url: '/flags/audited', headers: { authorization: `Bearer ${WRITE_KEY}` }, payload: { enabled: false } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/flags/audited/rename', headers: { 'x-api-key': WRITE_KEY }, payload: { new_name: 'audited2' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: '/flags/audited2', headers: { 'x-api-key': WRITE_KEY } })).statusCode, 204)

  const expected = actorFor(WRITE_KEY)
  t.match(expected, /^env-key:[0-9a-f]{8}$/)
  t.strictSame(flagRepo.log.map((row) => [row.actor, row.action, row.names]), [
    [expected, 'flag.create', ['audited']],
    [expected, 'flag.update', ['audited']],
    [expected, 'flag.rename', ['audited', 'audited2']],
    [expected, 'flag.delete', ['audited2']]
  ])
  const text = JSON.stringify(flagRepo.log)
  t.notOk(text.includes(WRITE_KEY), 'the key is nowhere in the change log')
  t.notOk(text.includes(sha256hex(WRITE_KEY)), 'nor its full hash')
})

t.test('the change log in SQLite records the actor, never the key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-auth-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'flagpost.db')
  const otherKey = 'second-write-key-0123456789'
  const ctx = await build(t, { DATABASE_URL: `file:${file}`, API_KEY: `${WRITE_KEY},${otherKey}` })
  await createFlag(ctx, { name: 'logged' })
  t.equal((await ctx.app.inject({ method: 'PUT', url: '/flags/logged', headers: { authorization: `Bearer ${otherKey}` }, payload: { description: 'x' } })).statusCode, 200)

  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  const rows = db.prepare('select actor, action, names, before, after from change_log order by id').all() as
    Array<{ actor: string, action: string, names: string, before: string | null, after: string | null }>
  t.strictSame(rows.map((r) => [r.actor, r.action, JSON.parse(r.names)]), [
    [actorFor(WRITE_KEY), 'flag.create', ['logged']],
    [actorFor(otherKey), 'flag.update', ['logged']]
  ])
  t.not(actorFor(WRITE_KEY), actorFor(otherKey), 'each key has its own actor')
  const text = JSON.stringify(rows)
  t.notOk(text.includes(WRITE_KEY) || text.includes(otherKey), 'no key in any change-log column')
})

t.test('API keys never appear in the logs', async (t) => {
  const chunks: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { chunks.push(String(chunk)); done() } })
  const container = await createContainer(loadConfig({ DATABASE_URL: ':memory:', API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY }), { poll: false })
  const app = await buildApp(container, { logger: { level: 'trace', stream } })
  t.teardown(async () => { await app.close(); await container.close() })
  const wrongKey = 'wrong-but-secret-key-0123456789'

  const requests = [
    { method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY, authorization: `Bearer ${WRITE_KEY}` }, payload: { name: 'logged_flag' } },
    { method: 'PUT', url: '/flags/logged_flag', headers: { authorization: `Bearer ${WRITE_KEY}` }, payload: { enabled: 'not-a-boolean' } },
    { method: 'POST', url: '/flags', headers: { 'x-api-key': READ_KEY }, payload: { name: 'refused' } },
    { method: 'POST', url: '/flags', headers: { 'x-api-key': wrongKey, authorization: `Bearer ${wrongKey}` }, payload: { name: 'refused' } },
    { method: 'GET', url: '/evaluate/logged_flag?user_id=alice', headers: { 'x-api-key': READ_KEY, authorization: `Bearer ${READ_KEY}` } },
    { method: 'GET', url: '/flags/missing', headers: { 'x-api-key': WRITE_KEY } }
  ] as const
  const statuses: number[] = []
  for (const req of requests) statuses.push((await app.inject(req)).statusCode)
  t.strictSame(statuses, [201, 400, 403, 401, 200, 404])

  const log = chunks.join('')
  t.match(log, /request completed/, 'the capture really holds request logs')
  t.match(log, /\/flags\/logged_flag/)
  t.match(log, /FLAGPOST_ERR_UNAUTHORIZED/)
  for (const key of [WRITE_KEY, READ_KEY, wrongKey]) {
    t.notOk(log.includes(key), `log does not contain ${key.slice(0, 4)}…`)
  }
})

t.test('bootstrap key: generated once, only its SHA-256 is stored', async (t) => {
  const repo = createMemoryApiKeyRepository()
  const service = createApiKeyService({ repo, writeKeys: [], readKeys: [] })
  await service.load()
  const key = await service.ensureBootstrapKey()
  if (key === null) throw new Error('expected a bootstrap key')
  t.match(key, SECRET_PATTERN)

  const stored = await repo.all()
  t.equal(stored.length, 1)
  t.match(stored[0].keyHash, /^[0-9a-f]{64}$/)
  t.equal(stored[0].keyHash, sha256hex(key))
  t.equal(stored[0].role, 'admin')
  t.notOk(JSON.stringify(stored).includes(key), 'the key itself is not stored')
  t.notOk(JSON.stringify(stored).includes(key.slice(3)), 'not even without its prefix')

  const principal = service.authenticate(key)
  t.equal(principal?.role, 'admin')
  t.notOk(principal?.actor.includes(key.slice(3)), 'the actor does not carry the key')
  t.equal(service.authenticate(`${key}x`), null)
  t.equal(service.authenticate(sha256hex(key)), null, 'the stored hash is not itself a key')

  t.equal(await service.ensureBootstrapKey(), null, 'a second call generates nothing')
  t.equal((await repo.all()).length, 1)

  // After a restart the stored hash still authenticates, and no new key is generated.
  const restarted = createApiKeyService({ repo, writeKeys: [], readKeys: [] })
  await restarted.load()
  t.equal(restarted.authenticate(key)?.role, 'admin')
  t.equal(await restarted.ensureBootstrapKey(), null)

  t.test('two services generate different keys', async (t) => {
    const other = createApiKeyService({ repo: createMemoryApiKeyRepository(), writeKeys: [], readKeys: [] })
    await other.load()
    const otherKey = await other.ensureBootstrapKey()
    t.type(otherKey, 'string')
    t.not(otherKey, key)
  })

  t.test('no bootstrap key when keys are configured', async (t) => {
    const configuredRepo = createMemoryApiKeyRepository()
    const configured = createApiKeyService({ repo: configuredRepo, writeKeys: [WRITE_KEY], readKeys: [] })
    await configured.load()
    t.equal(await configured.ensureBootstrapKey(), null)
    t.equal((await configuredRepo.all()).length, 0)
  })

  t.test('through the SQLite container and HTTP', async (t) => {
    const container = await createContainer(loadConfig({ DATABASE_URL: ':memory:', LOG_LEVEL: 'silent' }), { poll: false })
    const app = await buildApp(container)
    t.teardown(async () => { await app.close(); await container.close() })
    t.equal((await app.inject({ method: 'POST', url: '/flags', payload: { name: 'x' } })).statusCode, 401, 'there is no built-in default key')
    const bootstrap = await container.services.apiKeys.ensureBootstrapKey()
    if (bootstrap === null) throw new Error('expected a bootstrap key')
    const rows = await container.repositories.apiKeys.all()
    t.equal(rows.length, 1)
    t.equal(rows[0].keyHash, sha256hex(bootstrap))
    t.equal((await app.inject({ method: 'POST', url: '/flags', headers: { authorization: `Bearer ${bootstrap}` }, payload: { name: 'x' } })).statusCode, 201)
    t.equal(await container.services.apiKeys.ensureBootstrapKey(), null)
  })
})
