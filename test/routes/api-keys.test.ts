import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { SECRET_PATTERN } from '../../src/services/api-key-service.js'
import { build, createFlag, isProblem, READ_KEY, refused, testDatabase, WRITE_KEY, wrote, type TestApp } from '../helper.js'
import { queryRows } from '../support/test-database.js'

// Managed API keys (SPEC §10) through the HTTP API: created by admins only, the secret shown once and
// stored only as SHA-256, validated before anything is written, usable at once for what the role
// allows, revocable, expiring, last use recorded coarsely, and the key's name as the change-log actor.

const sha256hex = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex')
const as = (secret: string): { 'x-api-key': string } => ({ 'x-api-key': secret })

interface Shared { ctx: TestApp, url: string }

/** An app on a database the test can read from outside (queryRows), with a boolean flag `f`. */
async function shared (t: Parameters<typeof build>[0]): Promise<Shared> {
  const db = await testDatabase(t, { shared: true })
  const ctx = await build(t, { DATABASE_URL: db.url })
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  return { ctx, url: db.url }
}

async function createKey (ctx: TestApp, body: Record<string, unknown>): Promise<{ id: string, secret: string, body: Record<string, any> }> {
  const res = await ctx.write({ method: 'POST', url: '/api-keys', payload: body })
  if (res.statusCode !== 201) throw new Error(`create key ${JSON.stringify(body)}: ${res.statusCode} ${res.body}`)
  const json = res.json()
  return { id: json.id, secret: json.secret, body: json }
}

const keyCount = async (url: string): Promise<number> =>
  Number((await queryRows<{ n: number | string }>(url, 'select count(*) as n from api_keys'))[0].n)

t.test('POST /api-keys: 201 with the secret once; listings never show it; only its SHA-256 is stored', async (t) => {
  const { ctx, url } = await shared(t)
  const res = await wrote(t, ctx, { method: 'POST', url: '/api-keys', payload: { name: 'ci-editor', role: 'editor', environments: ['production'] } }, 201)
  const created = res.json()
  t.match(created.secret, SECRET_PATTERN, 'the secret has the documented format')
  t.ok(created.secret.startsWith('fp_editor_'), 'with the role marker')
  t.type(created.prefix, 'string')
  t.ok(created.prefix.length > 'fp_editor_'.length && created.secret.startsWith(created.prefix) && created.prefix.length < created.secret.length,
    `prefix ${String(created.prefix)} is a proper prefix of the secret`)
  t.equal(res.headers['cache-control'], 'no-store', 'the answer holding the secret is not cached')
  t.equal(res.headers.location, `/api-keys/${String(created.id)}`)
  t.match(created, { name: 'ci-editor', role: 'editor', environments: ['production'], expires_at: null, last_used_at: null })
  t.ok(!Number.isNaN(Date.parse(created.created_at)), 'created_at is a time')

  const secret: string = created.secret
  const hash = sha256hex(secret)
  const random = secret.slice('fp_editor_'.length)
  const leaks = (text: string): boolean => text.includes(random) || text.includes(hash) || /key_?hash/i.test(text)
  const list = await ctx.write({ method: 'GET', url: '/api-keys' })
  t.equal(list.statusCode, 200)
  t.same(list.json().api_keys.map((k: { name: string }) => k.name), ['ci-editor'])
  t.notOk('secret' in list.json().api_keys[0], 'no secret field in the listing')
  t.notOk(leaks(list.body), 'the listing holds neither the secret nor its hash')
  const one = await ctx.write({ method: 'GET', url: `/api-keys/${String(created.id)}` })
  t.equal(one.statusCode, 200)
  const { secret: _secret, ...withoutSecret } = created
  t.same(one.json(), withoutSecret, 'GET /api-keys/{id} is the created key without its secret')
  t.notOk(leaks(one.body), 'nor does one key')

  const rows = await queryRows<Record<string, unknown>>(url, 'select * from api_keys')
  t.equal(rows.length, 1)
  t.equal(rows[0].key_hash, hash, 'the stored digest is the SHA-256 of the secret')
  t.equal(rows[0].prefix, created.prefix)
  const stored = JSON.stringify(rows)
  t.notOk(stored.includes(random), 'no column holds the secret (nor its random part)')
  const log = JSON.stringify(await queryRows(url, 'select * from change_log'))
  t.notOk(log.includes(random) || log.includes(hash), 'the change log holds neither the secret nor its hash')
})

t.test('only admin keys manage keys', async (t) => {
  const { ctx, url } = await shared(t)
  const editor = await createKey(ctx, { name: 'ed', role: 'editor' })
  const admin = await createKey(ctx, { name: 'root', role: 'admin' })
  const body = { name: 'x', role: 'viewer' }
  for (const [label, headers, status] of [
    ['no key', {}, 401], ['the read key', as(READ_KEY), 403], ['an editor key of every environment', as(editor.secret), 403]
  ] as const) {
    for (const req of [{ method: 'POST', url: '/api-keys', payload: body }, { method: 'GET', url: '/api-keys' },
      { method: 'GET', url: `/api-keys/${admin.id}` }, { method: 'DELETE', url: `/api-keys/${admin.id}` }] as const) {
      const res = await ctx.app.inject({ ...req, headers })
      t.equal(res.statusCode, status, `${label}: ${req.method} ${req.url}`)
    }
  }
  t.equal(await keyCount(url), 2, 'nothing written')
  const made = await ctx.app.inject({ method: 'POST', url: '/api-keys', headers: { authorization: `Bearer ${admin.secret}` }, payload: body })
  t.equal(made.statusCode, 201, 'a managed admin key creates keys')
})

t.test('invalid requests are 4xx and write nothing', async (t) => {
  const { ctx, url } = await shared(t)
  await createKey(ctx, { name: 'taken', role: 'viewer' })
  const past = new Date(Date.now() - 60_000).toISOString()
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['unknown role', { name: 'a', role: 'owner' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['no role', { name: 'a' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['no name', { role: 'viewer' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['bad name', { name: '-starts-with-a-dash/', role: 'viewer' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['client without an environment', { name: 'a', role: 'client', environments: [] }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['client, environments omitted', { name: 'a', role: 'client' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['client of two environments', { name: 'a', role: 'client', environments: ['production', 'development'] }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['admin with environments', { name: 'a', role: 'admin', environments: ['production'] }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['malformed environment key', { name: 'a', role: 'viewer', environments: ['Prod!'] }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['unknown environment', { name: 'a', role: 'editor', environments: ['nowhere'] }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND'],
    ['unknown environment of a client', { name: 'a', role: 'client', environments: ['nowhere'] }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND'],
    ['duplicate name', { name: 'taken', role: 'editor' }, 409, 'FLAGPOST_ERR_API_KEY_EXISTS'],
    ['expiry in the past', { name: 'a', role: 'viewer', expires_at: past }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['expiry not a time', { name: 'a', role: 'viewer', expires_at: 'tomorrow' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['extra field', { name: 'a', role: 'viewer', secret: 'fp_viewer_mine' }, 400, 'FLAGPOST_ERR_VALIDATION'],
    ['extra field key_hash', { name: 'a', role: 'viewer', key_hash: sha256hex('x') }, 400, 'FLAGPOST_ERR_VALIDATION']
  ]
  for (const [label, payload, status, code] of cases) {
    t.test(label, async (t) => {
      const body = await refused(t, ctx, { method: 'POST', url: '/api-keys', payload }, status, code, label)
      t.notOk('secret' in body, 'no secret in a refusal')
      t.equal(await keyCount(url), 1, 'no key stored')
    })
  }
  t.test('the expiry refusal names the field as sent', async (t) => {
    const body = await refused(t, ctx, { method: 'POST', url: '/api-keys', payload: { name: 'a', role: 'viewer', expires_at: past } }, 400, 'FLAGPOST_ERR_VALIDATION')
    t.same(body.errors?.map((e: { field: string }) => e.field), ['body.expires_at'])
  })
})

t.test('a created key works at once for what its role allows, and nothing more', async (t) => {
  const { ctx } = await shared(t)
  await ctx.write({ method: 'POST', url: '/environments', payload: { key: 'staging' } })
  const editor = await createKey(ctx, { name: 'ed-prod', role: 'editor', environments: ['production'] })
  const viewer = await createKey(ctx, { name: 'view-prod', role: 'viewer', environments: ['production'] })
  const client = await createKey(ctx, { name: 'app-staging', role: 'client', environments: ['staging'] })
  const status = async (secret: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<number> =>
    (await ctx.app.inject({ method, url, headers: as(secret), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) })).statusCode
  t.same({
    create: await status(editor.secret, 'POST', '/flags', { name: 'by_editor' }),
    update: await status(editor.secret, 'PUT', '/flags/f', { description: 'edited' }),
    override: await status(editor.secret, 'PUT', '/flags/f/overrides/users/u1', { enabled: false }),
    customer: await status(editor.secret, 'POST', '/customers', { id: 'c9' }),
    otherEnvironment: await status(editor.secret, 'PUT', '/environments/staging/flags/f', { description: 'x' }),
    deleteEverywhere: await status(editor.secret, 'DELETE', '/flags/f'),
    keys: await status(editor.secret, 'GET', '/api-keys'),
    environments: await status(editor.secret, 'POST', '/environments', { key: 'qa' })
  }, { create: 201, update: 200, override: 200, customer: 201, otherEnvironment: 403, deleteEverywhere: 403, keys: 403, environments: 403 }, 'editor of production')
  t.same({
    read: await status(viewer.secret, 'GET', '/flags/f'),
    evaluate: await status(viewer.secret, 'GET', '/evaluate/f?user_id=u2'),
    write: await status(viewer.secret, 'PUT', '/flags/f', { description: 'x' }),
    otherEnvironment: await status(viewer.secret, 'GET', '/environments/staging/flags/f')
  }, { read: 200, evaluate: 200, write: 403, otherEnvironment: 403 }, 'viewer of production')
  t.same({
    evaluate: await status(client.secret, 'GET', '/evaluate/f?user_id=u2'),
    ofrep: await status(client.secret, 'POST', '/ofrep/v1/evaluate/flags/f', { context: { targetingKey: 'u2' } }),
    read: await status(client.secret, 'GET', '/environments/staging/flags/f'),
    otherEnvironment: await status(client.secret, 'GET', '/environments/production/evaluate/f'),
    write: await status(client.secret, 'POST', '/flags', { name: 'by_client' })
  }, { evaluate: 200, ofrep: 200, read: 403, otherEnvironment: 403, write: 403 }, 'client of staging')
})

t.test('DELETE revokes: 401 afterwards, even on open routes; a second DELETE is 404', async (t) => {
  const { ctx } = await shared(t)
  const key = await createKey(ctx, { name: 'short-lived', role: 'editor' })
  t.equal((await ctx.app.inject({ method: 'GET', url: '/flags/f', headers: as(key.secret) })).statusCode, 200, 'works before')
  await wrote(t, ctx, { method: 'DELETE', url: `/api-keys/${key.id}` }, 204)
  for (const req of [{ method: 'GET', url: '/flags/f' }, { method: 'GET', url: '/evaluate/f' }, { method: 'PUT', url: '/flags/f', payload: { description: 'x' } }] as const) {
    isProblem(t, await ctx.app.inject({ ...req, headers: as(key.secret) }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', req.url)
    isProblem(t, await ctx.app.inject({ ...req, headers: { authorization: `Bearer ${key.secret}` } }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', req.url)
  }
  await refused(t, ctx, { method: 'DELETE', url: `/api-keys/${key.id}` }, 404, 'FLAGPOST_ERR_API_KEY_NOT_FOUND')
  isProblem(t, await ctx.write({ method: 'GET', url: `/api-keys/${key.id}` }), 404, 'FLAGPOST_ERR_API_KEY_NOT_FOUND', `/api-keys/${key.id}`)
  t.same((await ctx.write({ method: 'GET', url: '/api-keys' })).json().api_keys, [], 'no longer listed')
  await refused(t, ctx, { method: 'DELETE', url: '/api-keys/never-existed' }, 404, 'FLAGPOST_ERR_API_KEY_NOT_FOUND')
})

t.test('an expired key is 401', async (t) => {
  const { ctx } = await shared(t)
  const expiresAt = new Date(Date.now() + 1500)
  const key = await createKey(ctx, { name: 'brief', role: 'viewer', expires_at: expiresAt.toISOString() })
  t.equal(key.body.expires_at, expiresAt.toISOString())
  t.equal((await ctx.app.inject({ method: 'GET', url: '/flags/f', headers: as(key.secret) })).statusCode, 200, 'works before its expiry')
  await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 100)
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/flags/f', headers: as(key.secret) }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/flags/f')
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/evaluate/f', headers: as(key.secret) }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/evaluate/f')
})

t.test('last_used_at: null before use, set after, written at most once a minute', async (t) => {
  const { ctx, url } = await shared(t)
  const key = await createKey(ctx, { name: 'reader', role: 'viewer' })
  const lastUsed = async (): Promise<unknown> => (await ctx.write({ method: 'GET', url: `/api-keys/${key.id}` })).json().last_used_at
  const storedLastUsed = async (): Promise<unknown> =>
    (await queryRows<{ last_used_at: unknown }>(url, 'select last_used_at from api_keys where id = ?', [key.id]))[0].last_used_at
  t.equal(await lastUsed(), null, 'null before any use')

  const before = Date.now()
  t.equal((await ctx.app.inject({ method: 'GET', url: '/flags/f', headers: as(key.secret) })).statusCode, 200)
  const first = await lastUsed()
  t.type(first, 'string', 'set after a use')
  t.ok(Date.parse(String(first)) >= before - 1000 && Date.parse(String(first)) <= Date.now(), `${String(first)} is the time of the use`)
  t.same((await ctx.write({ method: 'GET', url: '/api-keys' })).json().api_keys[0].last_used_at, first, 'the listing agrees')
  t.equal(await storedLastUsed(), null, 'not written by the request itself')

  await ctx.container.services.apiKeys.flushUsage()
  const written = await storedLastUsed()
  t.not(written, null, 'the batch writes it')
  t.equal(new Date(written instanceof Date ? written : Number(written)).toISOString(), first, 'as reported')

  for (let i = 0; i < 5; i++) await ctx.app.inject({ method: 'GET', url: '/evaluate/f', headers: as(key.secret) })
  await ctx.container.services.apiKeys.flushUsage()
  t.same(await storedLastUsed(), written, 'five more uses within the minute rewrite nothing')
  t.equal(await lastUsed(), first, 'and report the same coarse time')
})

t.test('the change-log actor of a managed key\'s write is the key\'s name', async (t) => {
  const { ctx, url } = await shared(t)
  const editor = await createKey(ctx, { name: 'deploy-bot', role: 'editor' })
  const admin = await createKey(ctx, { name: 'ops-admin', role: 'admin' })
  t.equal((await ctx.app.inject({ method: 'PUT', url: '/flags/f', headers: as(editor.secret), payload: { description: 'by bot' } })).statusCode, 200)
  t.equal((await ctx.app.inject({ method: 'POST', url: '/customers', headers: { authorization: `Bearer ${editor.secret}` }, payload: { id: 'c7' } })).statusCode, 201)
  const made = await ctx.app.inject({ method: 'POST', url: '/api-keys', headers: as(admin.secret), payload: { name: 'made-by-admin', role: 'viewer' } })
  t.equal(made.statusCode, 201)
  t.equal((await ctx.app.inject({ method: 'DELETE', url: `/api-keys/${String(made.json().id)}`, headers: as(admin.secret) })).statusCode, 204)
  const rows = await queryRows<{ actor: string, action: string }>(url, 'select actor, action from change_log order by id')
  t.same(rows.slice(-4).map((r) => r.actor), ['deploy-bot', 'deploy-bot', 'ops-admin', 'ops-admin'], JSON.stringify(rows.slice(-4)))
  t.same(rows.slice(-2).map((r) => r.action), ['api_key.create', 'api_key.revoke'])
  const operator = rows.find((r) => r.action === 'api_key.create')
  t.match(operator?.actor, /^env-key:[0-9a-f]{8}$/, 'a key made with the operator key is logged under its hash prefix')
  t.notOk(JSON.stringify(rows).includes(WRITE_KEY))
})

t.test('GET /api-keys/current: any key reads its own name, role and environments (never a secret); no key or a revoked one is 401', async (t) => {
  const { ctx } = await shared(t)
  const viewer = await createKey(ctx, { name: 'support-desk', role: 'viewer', environments: ['production'] })
  const client = await createKey(ctx, { name: 'web-app', role: 'client', environments: ['development'] })
  const current = async (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/api-keys/current', headers })
  t.same((await current(as(viewer.secret))).json(), { name: 'support-desk', role: 'viewer', environments: ['production'] })
  t.same((await current({ authorization: `Bearer ${client.secret}` })).json(), { name: 'web-app', role: 'client', environments: ['development'] })
  const operator = await current(as(READ_KEY))
  t.equal(operator.json().role, 'viewer', 'READ_API_KEY is a viewer of every environment')
  t.same(operator.json().environments, [])
  t.notMatch(operator.body, READ_KEY, 'the operator key is not echoed')
  t.equal((await current(as(WRITE_KEY))).json().role, 'admin')
  isProblem(t, await current({}), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/api-keys/current')
  await wrote(t, ctx, { method: 'DELETE', url: `/api-keys/${viewer.id}` }, 204)
  isProblem(t, await current(as(viewer.secret)), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/api-keys/current')
  t.equal((await ctx.write({ method: 'GET', url: `/api-keys/${client.id}` })).json().name, 'web-app', 'a key whose id is not "current" is still found by id')
})
