import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { build, createFlag, READ_KEY, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { failing } from '../support/cases.js'
import { injectAny } from '../support/inject-stream.js'

// Roles (SPEC §10) over every operation of the served OpenAPI document: for each principal, a
// representative request of each operation is allowed (2xx), 401 or 403 as the rules say:
//   admin: everything; editor: writes of flags, customers, users and overrides in its environments, and
//   reads; viewer: reads in its environments; client: evaluation only, in its one environment (which the
//   unprefixed paths then address). Flag delete and rename need a key of every environment. Reads and
//   evaluations need no key unless AUTH_READS=true, but a presented key is always checked.

type Access = 'none' | 'read' | 'evaluate' | 'write' | 'admin'
type Role = 'admin' | 'editor' | 'viewer' | 'client'
type Outcome = 'allowed' | 401 | 403

/** What each operation needs, by operationId without the `InEnvironment` of its prefixed copy. */
const ACCESS: Record<string, Access> = {
  healthz: 'none',
  readyz: 'none',
  listFlags: 'read',
  getFlag: 'read',
  listOverrides: 'read',
  listFlagCustomers: 'read',
  listCustomerFlags: 'read',
  listEnvironments: 'read',
  getEnvironment: 'read',
  listCustomers: 'read',
  getCustomer: 'read',
  listUsers: 'read',
  getUser: 'read',
  evaluateFlag: 'evaluate',
  evaluateFlags: 'evaluate',
  ofrepEvaluateFlag: 'evaluate',
  ofrepEvaluateFlagsBulk: 'evaluate',
  createFlag: 'write',
  updateFlag: 'write',
  deleteFlag: 'write',
  renameFlag: 'write',
  setCustomerOverride: 'write',
  clearCustomerOverride: 'write',
  setUserOverride: 'write',
  clearUserOverride: 'write',
  createCustomer: 'write',
  deleteCustomer: 'write',
  createUser: 'write',
  deleteUser: 'write',
  createEnvironment: 'admin',
  updateEnvironment: 'admin',
  deleteEnvironment: 'admin',
  promoteEnvironment: 'admin',
  createApiKey: 'admin',
  listApiKeys: 'admin',
  getApiKey: 'admin',
  getCurrentApiKey: 'evaluate',
  revokeApiKey: 'admin',
  ofrepEventStream: 'evaluate',
  streamChanges: 'read',
  listChanges: 'read',
  getFlagHistory: 'read',
  revertFlag: 'write'
}
/** Any key may ask, but it takes a key: without one there is nothing to describe. */
const KEY_REQUIRED = new Set(['getCurrentApiKey'])
/** Change a flag in every environment: only keys of every environment. */
const EVERY_ENVIRONMENT = new Set(['deleteFlag', 'renameFlag'])
const ADMITS: Record<Exclude<Access, 'none'>, Role[]> = {
  read: ['admin', 'editor', 'viewer'], evaluate: ['admin', 'editor', 'viewer', 'client'], write: ['admin', 'editor'], admin: ['admin']
}
const DEFAULT_ENVIRONMENT = 'production'
const PREFIX = '/environments/{environment}'

interface Principal { label: string, role?: Role, environments?: string[], secret?: string }
/** Managed keys are created in setup; the operator keys are API_KEY and READ_API_KEY. */
const PRINCIPALS: Principal[] = [
  { label: 'no key' },
  { label: 'admin', role: 'admin', environments: [] },
  { label: 'operator admin (API_KEY)', role: 'admin', environments: [], secret: WRITE_KEY },
  { label: 'operator viewer (READ_API_KEY)', role: 'viewer', environments: [], secret: READ_KEY },
  { label: 'editor of every environment', role: 'editor', environments: [] },
  { label: 'editor of production', role: 'editor', environments: ['production'] },
  { label: 'editor of staging only', role: 'editor', environments: ['staging'] },
  { label: 'viewer of production', role: 'viewer', environments: ['production'] },
  { label: 'client of production', role: 'client', environments: ['production'] },
  { label: 'client of staging', role: 'client', environments: ['staging'] }
]

interface Operation { id: string, base: string, method: string, path: string, scoped: boolean }

/** One request of an operation: the URL with its parameters filled, a valid body, the environment it addresses. */
interface Request { op: Operation, url: string, payload?: Record<string, unknown>, environment: string | null }

/** The rule, from the SPEC: what `principal` gets for `req`. */
function expected (principal: Principal, req: Request, authReads: boolean): Outcome {
  const access = ACCESS[req.op.base]
  if (access === 'none') return 'allowed'
  if (principal.role === undefined) return (access === 'read' || access === 'evaluate') && !authReads && !KEY_REQUIRED.has(req.op.base) ? 'allowed' : 401
  if (!ADMITS[access].includes(principal.role)) return 403
  if (!req.op.scoped) return 'allowed'
  const environments = principal.environments ?? []
  if (EVERY_ENVIRONMENT.has(req.op.base) && environments.length > 0) return 403
  const addressed = req.environment ?? (principal.role === 'client' ? environments[0] : DEFAULT_ENVIRONMENT)
  return environments.length === 0 || environments.includes(addressed) ? 'allowed' : 403
}

const outcomeOf = (res: LightMyRequestResponse): Outcome | string => {
  if (res.statusCode === 401 || res.statusCode === 403) return res.statusCode
  return res.statusCode >= 200 && res.statusCode < 300 ? 'allowed' : `${res.statusCode} ${res.body.slice(0, 200)}`
}

const operationsOf = (doc: any): Operation[] => {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
      const op = item[method]
      if (op === undefined) continue
      const prefixed = path.startsWith(`${PREFIX}/`)
      const base = String(op.operationId).replace(/(InEnvironment)+$/, '')
      // An unprefixed operation addresses one environment when the document serves it under the prefix too.
      const scoped = prefixed || doc.paths[`${PREFIX}${path}`]?.[method] !== undefined
      ops.push({ id: op.operationId, base, method: method.toUpperCase(), path, scoped })
    }
  }
  return ops
}

interface World {
  ctx: TestApp
  doc: any
  ops: Operation[]
  principals: Principal[]
  /** Id of the key the revoke and get operations address (replaced after each revoke). */
  victim: { id: string }
  counter: { n: number }
  /** The latest revision after restore(): one `f` existed at, for revertFlag. */
  revision: number
}

async function must (res: Promise<LightMyRequestResponse>, what: string, ok: number[]): Promise<LightMyRequestResponse> {
  const r = await res
  if (!ok.includes(r.statusCode)) throw new Error(`setup ${what}: ${r.statusCode} ${r.body}`)
  return r
}

async function newVictim (ctx: TestApp, counter: { n: number }): Promise<string> {
  const res = await must(ctx.write({ method: 'POST', url: '/api-keys', payload: { name: `victim-${++counter.n}`, role: 'viewer' } }), 'victim key', [201])
  return res.json().id
}

/**
 * Put back what an allowed write may have changed: flag `f` (deleted or renamed), customer `c1`, user
 * `u1`, their overrides of `f` in both environments, the `scratch` environment, the victim key.
 */
async function restore (w: World): Promise<void> {
  const { ctx } = w
  if ((await ctx.write({ method: 'GET', url: '/flags/f' })).statusCode === 404) {
    if ((await ctx.write({ method: 'GET', url: '/flags/f_renamed' })).statusCode === 200) {
      await must(ctx.write({ method: 'POST', url: '/flags/f_renamed/rename', payload: { new_name: 'f' } }), 'rename back', [200])
    } else {
      await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
    }
  }
  await must(ctx.write({ method: 'POST', url: '/customers', payload: { id: 'c1' } }), 'c1', [201, 200, 409])
  await must(ctx.write({ method: 'POST', url: '/users', payload: { id: 'u1', customer_id: 'c1' } }), 'u1', [201, 200, 409])
  for (const prefix of ['', '/environments/staging']) {
    await must(ctx.write({ method: 'PUT', url: `${prefix}/flags/f/overrides/customers/c1`, payload: { enabled: true } }), 'override c1', [200, 201])
    await must(ctx.write({ method: 'PUT', url: `${prefix}/flags/f/overrides/users/u1`, payload: { enabled: true } }), 'override u1', [200, 201])
  }
  await must(ctx.write({ method: 'POST', url: '/environments', payload: { key: 'scratch' } }), 'scratch', [201, 409])
  if ((await ctx.write({ method: 'GET', url: `/api-keys/${w.victim.id}` })).statusCode === 404) w.victim.id = await newVictim(ctx, w.counter)
  w.revision = await revisionOf(ctx)
}

async function world (t: Parameters<typeof build>[0], env: Record<string, string>): Promise<World> {
  const ctx = await build(t, env)
  await must(ctx.write({ method: 'POST', url: '/environments', payload: { key: 'staging', name: 'Staging' } }), 'staging', [201])
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const counter = { n: 0 }
  const principals: Principal[] = []
  for (const p of PRINCIPALS) {
    if (p.role === undefined || p.secret !== undefined) { principals.push(p); continue }
    const res = await must(ctx.write({ method: 'POST', url: '/api-keys', payload: { name: p.label, role: p.role, environments: p.environments } }), p.label, [201])
    principals.push({ ...p, secret: res.json().secret })
  }
  const doc = (await ctx.app.inject({ url: '/openapi.json' })).json()
  const w: World = { ctx, doc, ops: operationsOf(doc), principals, victim: { id: await newVictim(ctx, counter) }, counter, revision: 0 }
  await restore(w)
  return w
}

/** The representative requests of an operation (prefixed ones once per environment). */
function requestsOf (w: World, op: Operation): Request[] {
  const envs = op.path.startsWith(`${PREFIX}/`) ? ['staging', 'production'] : op.path === PREFIX ? [op.method === 'DELETE' ? 'scratch' : 'staging'] : [null]
  return envs.map((environment) => {
    const n = ++w.counter.n
    const kind = op.path.includes('/customers') ? 'c1' : op.path.includes('/users') ? 'u1' : op.path.includes('/api-keys') ? w.victim.id : ''
    let url = op.path
      .replace('{environment}', environment ?? '')
      .replace('{name}', 'f').replace('{key}', 'f').replace('{target}', environment ?? '')
      .replace('{id}', encodeURIComponent(kind))
    const bodies: Record<string, Record<string, unknown>> = {
      createFlag: { name: `new_${n}` },
      updateFlag: { description: `edited ${n}` },
      renameFlag: { new_name: 'f_renamed' },
      evaluateFlags: { context: { user_id: 'u1' } },
      ofrepEvaluateFlag: { context: { targetingKey: 'u1' } },
      ofrepEvaluateFlagsBulk: { context: { targetingKey: 'u1' } },
      setCustomerOverride: { enabled: false },
      setUserOverride: { enabled: false },
      createCustomer: { id: `c_new_${n}` },
      createUser: { id: `u_new_${n}` },
      createEnvironment: { key: `env-${n}` },
      updateEnvironment: { name: `Renamed ${n}` },
      promoteEnvironment: { from: environment === 'production' ? 'staging' : 'production', dry_run: true },
      createApiKey: { name: `made-${n}`, role: 'viewer' },
      revertFlag: { revision: w.revision }
    }
    if (op.base === 'evaluateFlag') url += '?user_id=u1'
    if (op.base === 'deleteEnvironment') url += '?force=true'
    return { op, url, environment, ...(bodies[op.base] === undefined ? {} : { payload: bodies[op.base] }) }
  })
}

interface Result { principal: string, request: string, expected: Outcome, actual: Outcome | string, problem?: string }

/** Every request of every operation as every principal, in order; state restored after each allowed write. */
async function table (w: World, authReads: boolean, only: (op: Operation) => boolean = () => true): Promise<Result[]> {
  const results: Result[] = []
  for (const principal of w.principals) {
    for (const op of w.ops.filter(only)) {
      for (const req of requestsOf(w, op)) {
        // The victim key id is filled when the request is made: an earlier case may have revoked it.
        const url = op.path.includes('/api-keys/{id}') ? req.url.replace(/\/api-keys\/[^/?]+/, `/api-keys/${w.victim.id}`) : req.url
        const opts: InjectOptions = {
          method: op.method as InjectOptions['method'],
          url,
          headers: principal.secret === undefined ? {} : { 'x-api-key': principal.secret },
          ...(req.payload === undefined ? {} : { payload: req.payload })
        }
        const before = await revisionOf(w.ctx)
        const res = await injectAny(w.ctx.app, opts)
        const actual = outcomeOf(res)
        const result: Result = { principal: principal.label, request: `${op.method} ${url}`, expected: expected(principal, { ...req, url }, authReads), actual }
        if (actual === 401 || actual === 403) {
          const code = res.json().code
          const want = actual === 401 ? 'FLAGPOST_ERR_UNAUTHORIZED' : 'FLAGPOST_ERR_FORBIDDEN'
          if (code !== want) result.problem = `code ${String(code)}`
          if (await revisionOf(w.ctx) !== before) result.problem = 'a refused request wrote a revision'
        }
        results.push(result)
        if (actual === 'allowed' && op.method !== 'GET') await restore(w)
      }
    }
  }
  return results
}

const wrong = (r: Result): Result | undefined => r.actual === r.expected && r.problem === undefined ? undefined : r

t.test('AUTH_READS=true: every operation of the document, as every principal', async (t) => {
  const w = await world(t, { AUTH_READS: 'true' })
  t.same(w.ops.map((op) => op.base).filter((base) => ACCESS[base] === undefined), [], 'every operation of the document has a known access rule')
  const results = await table(w, true)
  const operations = new Set(results.map((r) => r.request.replace(/\?.*/, '')).map((r) => r.split(' ')[0]))
  t.ok(operations.size >= 4, 'GET, POST, PUT, DELETE… all exercised')
  t.same(new Set(w.ops.map((op) => op.id)).size, w.ops.length, 'the table covers each operation once')
  t.comment(`${results.length} requests over ${w.ops.length} operations and ${w.principals.length} principals`)
  for (const outcome of ['allowed', 401, 403] as const) t.ok(results.some((r) => r.expected === outcome), `some case expects ${outcome}`)
  t.same(failing(results, wrong, 10), [], `each of ${results.length} requests is allowed, 401 or 403 as the roles say`)
})

t.test('AUTH_READS unset: reads and evaluations are open without a key; a presented key is still checked', async (t) => {
  const w = await world(t, {})
  const revoked = await must(w.ctx.write({ method: 'POST', url: '/api-keys', payload: { name: 'revoked', role: 'admin' } }), 'revoked', [201])
  await must(w.ctx.write({ method: 'DELETE', url: `/api-keys/${String(revoked.json().id)}` }), 'revoke', [204])
  w.principals.push({ label: 'a revoked admin key', role: 'admin', secret: revoked.json().secret }, { label: 'a key never issued', role: 'admin', secret: 'fp_admin_' + 'x'.repeat(43) })
  const open = (op: Operation): boolean => ['none', 'read', 'evaluate'].includes(ACCESS[op.base]) || ['createFlag', 'createApiKey'].includes(op.base)
  const results = await table(w, false, open)
  // A bad key is 401 wherever a key is looked at: the rule above knows it only as an admin.
  for (const r of results) if (r.principal === 'a revoked admin key' || r.principal === 'a key never issued') r.expected = /^GET \/(healthz|readyz)$/.test(r.request) ? 'allowed' : 401
  t.ok(results.some((r) => r.principal === 'no key' && r.expected === 'allowed' && r.request.includes('/evaluate')), 'anonymous evaluations are in the table')
  t.same(failing(results, wrong, 10), [], `each of ${results.length} requests is allowed, 401 or 403 as the roles say`)
})

t.test('a client key of staging evaluates staging on the unprefixed paths and is refused elsewhere', async (t) => {
  const w = await world(t, { AUTH_READS: 'true' })
  const [client, prodClient] = ['client of staging', 'client of production'].map((label) => w.principals.find((p) => p.label === label)!.secret!)
  // f is on (true) in production, where it was created, and served off (false) in staging.
  const value = async (secret: string, url: string): Promise<unknown> => {
    const res = await w.ctx.app.inject({ method: 'GET', url, headers: { 'x-api-key': secret } })
    return res.statusCode === 200 ? res.json().value : res.statusCode
  }
  const ofrep = async (secret: string, url: string): Promise<unknown> => {
    const res = await w.ctx.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${secret}` }, payload: { context: { targetingKey: 'u9' } } })
    return res.statusCode === 200 ? res.json().flags?.find((f: { key: string }) => f.key === 'f')?.value : res.statusCode
  }
  t.same({
    evaluate: await value(client, '/evaluate/f?user_id=u9'),
    ofrep: await ofrep(client, '/ofrep/v1/evaluate/flags'),
    prefixedOwn: await value(client, '/environments/staging/evaluate/f?user_id=u9'),
    productionClient: await value(prodClient, '/evaluate/f?user_id=u9'),
    productionClientOfrep: await ofrep(prodClient, '/ofrep/v1/evaluate/flags')
  }, { evaluate: false, ofrep: false, prefixedOwn: false, productionClient: true, productionClientOfrep: true },
  'the unprefixed paths evaluate in the client key\'s environment')
  t.same({
    evaluate: await value(client, '/environments/production/evaluate/f?user_id=u9'),
    ofrep: await ofrep(client, '/environments/production/ofrep/v1/evaluate/flags'),
    single: (await w.ctx.app.inject({ method: 'POST', url: '/environments/production/ofrep/v1/evaluate/flags/f', headers: { 'x-api-key': client }, payload: { context: { targetingKey: 'u9' } } })).statusCode,
    bulk: (await w.ctx.app.inject({ method: 'POST', url: '/environments/production/evaluate', headers: { 'x-api-key': client }, payload: {} })).statusCode
  }, { evaluate: 403, ofrep: 403, single: 403, bulk: 403 }, 'and is refused under /environments/production/…')
})

t.test('each prefixed copy of an operation has one InEnvironment suffix and a unique operationId', async (t) => {
  const { ctx } = await world(t, {})
  const doc = (await ctx.app.inject({ url: '/openapi.json' })).json()
  const ids = operationsOf(doc).map((op) => op.id)
  t.same(ids.filter((id) => /InEnvironmentInEnvironment/.test(id)), [], 'no operationId carries the suffix twice')
  t.same(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'operationIds are unique')
})
