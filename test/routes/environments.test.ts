import t from 'tap'
import { build, createFlag, isProblem, refused, revisionOf, wrote, type TestApp } from '../helper.js'

// Environments (SPEC §9): CRUD, every environment-scoped route under /environments/{env}, the unprefixed
// paths on the default environment, a new flag served off elsewhere, and promote.

const env = (name: string, path: string): string => `/environments/${name}${path}`

async function withStaging (t: Parameters<typeof build>[0]): Promise<TestApp> {
  const ctx = await build(t)
  const res = await ctx.write({ method: 'POST', url: '/environments', payload: { key: 'staging', name: 'Staging' } })
  if (res.statusCode !== 201) throw new Error(`create staging: ${res.statusCode} ${res.body}`)
  return ctx
}

t.test('a fresh database has development and production; production is the default', async (t) => {
  const ctx = await build(t)
  const res = await ctx.app.inject({ method: 'GET', url: '/environments' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.same({ keys: body.environments.map((e: { key: string }) => e.key), default: body.default_environment, cursor: body.next_cursor },
    { keys: ['development', 'production'], default: 'production', cursor: null })
})

t.test('create, get, rename and delete an environment; each write is one revision', async (t) => {
  const ctx = await build(t)
  const created = await wrote(t, ctx, { method: 'POST', url: '/environments', payload: { key: 'qa-1', name: 'QA one' } }, 201)
  t.match(created.json(), { key: 'qa-1', name: 'QA one', position: 2 })
  t.equal(created.headers.location, '/environments/qa-1')
  t.match((await ctx.app.inject({ method: 'GET', url: '/environments/qa-1' })).json(), { key: 'qa-1', name: 'QA one' })
  const renamed = await wrote(t, ctx, { method: 'PATCH', url: '/environments/qa-1', payload: { name: 'QA', position: 0 } }, 200)
  t.match(renamed.json(), { key: 'qa-1', name: 'QA', position: 0 })
  const list = (await ctx.app.inject({ method: 'GET', url: '/environments' })).json()
  t.same(list.environments.map((e: { key: string }) => e.key), ['development', 'qa-1', 'production'], 'listed by position, then key')
  await wrote(t, ctx, { method: 'DELETE', url: '/environments/qa-1' }, 204)
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/environments/qa-1' }), 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', '/environments/qa-1')
})

t.test('bad environment writes are 4xx and change nothing', async (t) => {
  const ctx = await build(t)
  await refused(t, ctx, { method: 'POST', url: '/environments', payload: { key: 'Bad Key' } }, 400, 'FLAGPOST_ERR_VALIDATION')
  await refused(t, ctx, { method: 'POST', url: '/environments', payload: { key: 'x'.repeat(33) } }, 400, 'FLAGPOST_ERR_VALIDATION')
  await refused(t, ctx, { method: 'POST', url: '/environments', payload: { key: 'production' } }, 409, 'FLAGPOST_ERR_ENVIRONMENT_EXISTS')
  await refused(t, ctx, { method: 'PATCH', url: '/environments/nope', payload: { name: 'x' } }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
  await refused(t, ctx, { method: 'DELETE', url: '/environments/production' }, 409, 'FLAGPOST_ERR_ENVIRONMENT_IN_USE', 'the default environment')
  await refused(t, ctx, { method: 'DELETE', url: '/environments/nope' }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
  await refused(t, ctx, { method: 'POST', url: '/environments', payload: { key: 'ok', extra: 1 } }, 400, 'FLAGPOST_ERR_VALIDATION')
})

t.test('an environment that configures flags is deleted only with force, its overrides with it', async (t) => {
  const ctx = await withStaging(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  await wrote(t, ctx, { method: 'PUT', url: env('staging', '/flags/f/overrides/users/u1'), payload: { enabled: true } }, 200)
  const body = await refused(t, ctx, { method: 'DELETE', url: '/environments/staging' }, 409, 'FLAGPOST_ERR_ENVIRONMENT_IN_USE')
  t.match(body.detail, /1 flag.*force=true/)
  await wrote(t, ctx, { method: 'DELETE', url: '/environments/staging?force=true' }, 204)
  isProblem(t, await ctx.app.inject({ method: 'GET', url: env('staging', '/flags/f') }), 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', '/environments/staging/flags/f')
  const again = await wrote(t, ctx, { method: 'POST', url: '/environments', payload: { key: 'staging' } }, 201)
  t.equal(again.statusCode, 201)
  const overrides = (await ctx.app.inject({ method: 'GET', url: env('staging', '/flags/f/overrides') })).json()
  t.same(overrides.overrides, [], 'the old overrides went with the deleted environment')
})

t.test('a flag is defined once and configured per environment: created as given in one, served off in the others', async (t) => {
  const ctx = await withStaging(t)
  const created = await wrote(t, ctx, {
    method: 'POST',
    url: env('staging', '/flags'),
    payload: { name: 'checkout', type: 'string', variants: { a: 'A', b: 'B' }, default_variant: 'b', off_variant: 'a', targeting_rules: { user_ids: ['alice'] } }
  }, 201)
  t.equal(created.headers.location, '/environments/staging/flags/checkout')
  const staging = (await ctx.app.inject({ method: 'GET', url: env('staging', '/flags/checkout') })).json()
  const production = (await ctx.app.inject({ method: 'GET', url: '/flags/checkout' })).json()
  t.match(staging, { enabled: true, default_variant: 'b', targeting_rules: { user_ids: ['alice'], percentage: 0 } })
  t.match(production, { enabled: false, default_variant: 'b', off_variant: 'a', variants: { a: 'A', b: 'B' }, targeting_rules: { user_ids: [], percentage: 100 } })
  const evaluate = async (prefix: string): Promise<unknown> => (await ctx.app.inject({ method: 'GET', url: `${prefix}/evaluate/checkout?user_id=alice` })).json().value
  t.same({ staging: await evaluate('/environments/staging'), production: await evaluate(''), development: await evaluate('/environments/development') },
    { staging: 'B', production: 'A', development: 'A' })

  // A change in one environment's configuration leaves the others; a change of the definition reaches them all.
  await wrote(t, ctx, { method: 'PUT', url: '/flags/checkout', payload: { enabled: true } }, 200)
  t.equal(await evaluate(''), 'B', 'production on now: 100 % default variant')
  t.equal(await evaluate('/environments/development'), 'A', 'development still off')
  await wrote(t, ctx, { method: 'PUT', url: env('development', '/flags/checkout'), payload: { variants: { b: 'Bee' } } }, 200)
  t.equal(await evaluate('/environments/staging'), 'Bee', 'variants are the flag\'s, in every environment')
})

t.test('every environment-scoped route answers per environment; an unknown environment is a 404 naming it', async (t) => {
  const ctx = await withStaging(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  await wrote(t, ctx, { method: 'PUT', url: env('staging', '/flags/f'), payload: { enabled: true } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: env('staging', '/flags/f/overrides/customers/acme'), payload: { enabled: false } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/f/overrides/users/bob', payload: { enabled: false } }, 200)
  const get = async (url: string, method: 'GET' | 'POST' = 'GET', payload?: object): Promise<unknown> => {
    const res = await ctx.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) })
    return { status: res.statusCode, body: res.json() }
  }
  const answers = async (prefix: string): Promise<unknown> => ({
    evaluate: ((await get(`${prefix}/evaluate/f?customer_id=acme`)) as any).body.value,
    bulk: ((await get(`${prefix}/evaluate`, 'POST', { context: { user_id: 'bob' } })) as any).body.results.f.value,
    ofrep: ((await get(`${prefix}/ofrep/v1/evaluate/flags/f`, 'POST', { context: { targetingKey: 'bob' } })) as any).body.value,
    ofrepBulk: ((await get(`${prefix}/ofrep/v1/evaluate/flags`, 'POST', { context: { customer_id: 'acme' } })) as any).body.flags[0].value,
    overrides: ((await get(`${prefix}/flags/f/overrides`)) as any).body.overrides.map((o: { id: string }) => o.id),
    customers: ((await get(`${prefix}/flags/f/customers?state=explicitly_disabled`)) as any).body.customers.map((c: { id: string }) => c.id),
    customerFlags: ((await get(`${prefix}/customers/acme/flags`)) as any).body.flags.map((f: { name: string }) => f.name),
    list: ((await get(`${prefix}/flags`)) as any).body.flags.map((f: { enabled: boolean }) => f.enabled)
  })
  t.same({ production: await answers(''), staging: await answers('/environments/staging'), explicit: await answers('/environments/production') }, {
    production: { evaluate: true, bulk: false, ofrep: false, ofrepBulk: true, overrides: ['bob'], customers: [], customerFlags: ['f'], list: [true] },
    staging: { evaluate: false, bulk: true, ofrep: true, ofrepBulk: false, overrides: ['acme'], customers: ['acme'], customerFlags: [], list: [true] },
    explicit: { evaluate: true, bulk: false, ofrep: false, ofrepBulk: true, overrides: ['bob'], customers: [], customerFlags: ['f'], list: [true] }
  })
  isProblem(t, await ctx.app.inject({ method: 'GET', url: env('nope', '/evaluate/f') }), 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', '/environments/nope/evaluate/f')
  isProblem(t, await ctx.app.inject({ method: 'POST', url: env('nope', '/evaluate'), payload: { context: {} } }), 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', '/environments/nope/evaluate')
  await refused(t, ctx, { method: 'POST', url: env('nope', '/flags'), payload: { name: 'g', type: 'boolean' } }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
  await refused(t, ctx, { method: 'PUT', url: env('nope', '/flags/f/overrides/users/x'), payload: { enabled: true } }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
})

t.test('rename and delete act in every environment', async (t) => {
  const ctx = await withStaging(t)
  await createFlag(ctx, { name: 'old', type: 'boolean', default_value: true })
  await wrote(t, ctx, { method: 'PUT', url: env('staging', '/flags/old/overrides/users/u'), payload: { enabled: true } }, 200)
  await wrote(t, ctx, { method: 'POST', url: env('staging', '/flags/old/rename'), payload: { new_name: 'new' } }, 200)
  t.equal((await ctx.app.inject({ method: 'GET', url: '/flags/new' })).statusCode, 200)
  t.same((await ctx.app.inject({ method: 'GET', url: env('staging', '/flags/new/overrides') })).json().overrides.map((o: { id: string }) => o.id), ['u'])
  await wrote(t, ctx, { method: 'DELETE', url: '/flags/new' }, 204)
  t.equal((await ctx.app.inject({ method: 'GET', url: env('staging', '/flags/new') })).statusCode, 404)
})

t.test('promote: a dry run answers the diff and writes nothing; the promotion writes one revision per flag changed', async (t) => {
  const ctx = await withStaging(t)
  await createFlag(ctx, { name: 'a', type: 'boolean', default_value: true, targeting_rules: { percentage: 25 } })
  await createFlag(ctx, { name: 'b', type: 'boolean', default_value: true })
  await createFlag(ctx, { name: 'same', type: 'boolean', default_value: true })
  await wrote(t, ctx, { method: 'PUT', url: env('staging', '/flags/a'), payload: { enabled: true, targeting_rules: { percentage: 50 } } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: env('staging', '/flags/b/overrides/users/u1'), payload: { enabled: true } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/same', payload: { enabled: false } }, 200)

  const rev = await revisionOf(ctx)
  const dry = await ctx.write({ method: 'POST', url: '/environments/production/promote', payload: { from: 'staging', dry_run: true, include_overrides: true } })
  t.equal(dry.statusCode, 200, dry.body)
  t.same(dry.json(), {
    dry_run: true,
    flags: [
      { flag: 'a', changes: { targeting_rules: { from: { user_ids: [], customer_ids: [], rules: [], percentage: 25, rollout: null, bucket_by: 'user_id' }, to: { user_ids: [], customer_ids: [], rules: [], percentage: 50, rollout: null, bucket_by: 'user_id' } } }, overrides: { added: 0, removed: 0, changed: 0 } },
      // b's targeting is the same in both (100 %): only the kill switch differs, and the override is new.
      { flag: 'b', changes: { enabled: { from: true, to: false } }, overrides: { added: 1, removed: 0, changed: 0 } }
    ]
  })
  t.equal(await revisionOf(ctx), rev, 'the dry run wrote nothing')

  const done = await ctx.write({ method: 'POST', url: '/environments/production/promote', payload: { from: 'staging', flags: ['a', 'b'], include_overrides: true } })
  t.equal(done.statusCode, 200, done.body)
  t.same(done.json().flags.map((f: { flag: string }) => f.flag), ['a', 'b'])
  t.equal(await revisionOf(ctx), rev + 2, 'one revision per flag changed')
  t.match((await ctx.app.inject({ method: 'GET', url: '/flags/a' })).json(), { enabled: true, targeting_rules: { percentage: 50 } })
  t.same((await ctx.app.inject({ method: 'GET', url: '/flags/b/overrides' })).json().overrides.map((o: { id: string }) => o.id), ['u1'])
  t.equal((await ctx.app.inject({ method: 'GET', url: '/evaluate/b?user_id=u1' })).json().value, false, 'b is off in staging, so promoted off')

  await refused(t, ctx, { method: 'POST', url: '/environments/production/promote', payload: { from: 'production' } }, 400, 'FLAGPOST_ERR_VALIDATION', 'promote onto itself')
  await refused(t, ctx, { method: 'POST', url: '/environments/production/promote', payload: { from: 'nope' } }, 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND')
  await refused(t, ctx, { method: 'POST', url: '/environments/production/promote', payload: { from: 'staging', flags: ['missing'] } }, 400, 'FLAGPOST_ERR_VALIDATION')
  const again = await ctx.write({ method: 'POST', url: '/environments/production/promote', payload: { from: 'staging', flags: ['a'] } })
  t.same({ status: again.statusCode, flags: again.json().flags, revision: await revisionOf(ctx) }, { status: 200, flags: [], revision: rev + 2 }, 'promoting what is already there writes nothing')
})
