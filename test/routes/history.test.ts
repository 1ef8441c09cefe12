import t from 'tap'
import { build, createFlag, isProblem, READ_KEY, refused, revisionOf, wrote, type TestApp } from '../helper.js'

// History (SPEC §11): GET /changes with its filters and cursor paging, a flag's history, revert.

type Change = { revision: number, at: string, actor: string, action: string, environment: string | null, flag: string | null, before: any, after: any, changed: string[] }

const changes = async (ctx: TestApp, query = '', headers: Record<string, string> = {}): Promise<{ changes: Change[], next_cursor: string | null }> => {
  const res = await ctx.app.inject({ method: 'GET', url: `/changes${query}`, headers })
  if (res.statusCode !== 200) throw new Error(`GET /changes${query}: ${res.statusCode} ${res.body}`)
  return res.json()
}

async function createKey (ctx: TestApp, body: Record<string, unknown>): Promise<string> {
  const res = await ctx.write({ method: 'POST', url: '/api-keys', payload: body })
  if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`)
  return res.json().secret
}

/** A flag written a few ways in production and staging, an override, a customer and a key. */
async function withHistory (t: Parameters<typeof build>[0]): Promise<TestApp> {
  const ctx = await build(t)
  await wrote(t as any, ctx, { method: 'POST', url: '/environments', payload: { key: 'staging' } }, 201)
  await createFlag(ctx, { name: 'checkout', type: 'boolean', default_value: true })
  await wrote(t as any, ctx, { method: 'PUT', url: '/flags/checkout', payload: { targeting_rules: { percentage: 25 } } }, 200)
  await wrote(t as any, ctx, { method: 'PUT', url: '/environments/staging/flags/checkout', payload: { enabled: true } }, 200)
  await wrote(t as any, ctx, { method: 'PUT', url: '/flags/checkout/overrides/users/u1', payload: { enabled: false } }, 200)
  await wrote(t as any, ctx, { method: 'POST', url: '/customers', payload: { id: 'acme' } }, 201)
  await createKey(ctx, { name: 'ops', role: 'viewer' })
  return ctx
}

t.test('entries say who changed what, when, before and after, newest first', async (t) => {
  const ctx = await withHistory(t)
  const { changes: all, next_cursor: cursor } = await changes(ctx)
  t.equal(cursor, null)
  t.same(all.map((c) => c.revision), [...all.map((c) => c.revision)].sort((a, b) => b - a), 'newest first')
  t.equal(all[0].action, 'customer.add', 'the latest entry this reader may see (the key creation after it is for admins)')
  const patch = all.find((c) => c.action === 'flag.update' && c.environment === 'production')!
  t.match(patch, { actor: /^env-key:/, flag: 'checkout', changed: ['targeting_rules.percentage'] })
  t.equal(patch.before.targeting_rules.percentage, 100)
  t.equal(patch.after.targeting_rules.percentage, 25)
  t.ok(Number.isFinite(Date.parse(patch.at)))
  const staging = all.find((c) => c.environment === 'staging' && c.action === 'flag.update')!
  t.same(staging.changed, ['enabled'])
  const override = all.find((c) => c.action === 'override.set')!
  t.match(override, { environment: 'production', flag: 'checkout', before: null, after: { flag: 'checkout', subject: 'user', id: 'u1', enabled: false } })
  const created = all.find((c) => c.action === 'flag.create')!
  t.ok(created.changed.includes('enabled') && created.changed.includes('variants') && !created.changed.includes('version'), 'a creation lists every field but bookkeeping')
  t.match(all.find((c) => c.action === 'customer.add'), { environment: null, flag: null })
})

t.test('cursor paging visits every entry once, while the log grows at its head', async (t) => {
  const ctx = await withHistory(t)
  const admin = await createKey(ctx, { name: 'boss', role: 'admin' })
  const latest = await revisionOf(ctx)
  const seen: number[] = []
  let cursor: string | null = null
  do {
    const page: { changes: Change[], next_cursor: string | null } = await changes(ctx, `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, { 'x-api-key': admin })
    t.ok(page.changes.length <= 2)
    seen.push(...page.changes.map((c) => c.revision))
    cursor = page.next_cursor
    // A write between pages: it is newer than the cursor, so it does not shift the pages.
    await wrote(t, ctx, { method: 'POST', url: '/customers', payload: { id: `c${seen.length}` } }, 201)
  } while (cursor !== null)
  t.same(seen, Array.from({ length: latest }, (_, i) => latest - i), 'every revision once, newest first')
})

t.test('filters: flag, environment, actor, action (one or a group), revision and time ranges', async (t) => {
  const ctx = await withHistory(t)
  const all = (await changes(ctx)).changes
  const only = async (query: string): Promise<number[]> => (await changes(ctx, query)).changes.map((c) => c.revision)
  const where = (pick: (c: Change) => boolean): number[] => all.filter(pick).map((c) => c.revision)
  t.same(await only('?flag=checkout'), where((c) => c.flag === 'checkout'))
  t.same(await only('?environment=staging'), where((c) => c.environment === 'staging'))
  t.same(await only('?action=flag'), where((c) => c.action.startsWith('flag.')))
  t.same(await only('?action=flag.update'), where((c) => c.action === 'flag.update'))
  t.same(await only('?action=override.set&environment=production'), where((c) => c.action === 'override.set'))
  t.same(await only('?actor=system'), where((c) => c.actor === 'system'))
  const [lo, hi] = [all.at(-2)!.revision, all[1].revision]
  t.same(await only(`?from_revision=${lo}&to_revision=${hi}`), where((c) => c.revision >= lo && c.revision <= hi))
  t.same(await only(`?until=${encodeURIComponent('2000-01-01T00:00:00Z')}`), [])
  t.same(await only(`?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`), where(() => true))
  t.same(await only('?flag=nothing-here'), [])
})

t.test('bad filters are 400 and name the field', async (t) => {
  const ctx = await withHistory(t)
  for (const query of ['?action=FLAG', '?action=flag.%25', '?from_revision=0', '?to_revision=-1', '?since=yesterday', '?until=2026-13-45', `?since=${encodeURIComponent('2026-13-45T00:00:00Z')}`,
    '?limit=0', '?limit=1001', '?cursor=nope', '?flag=bad%20name', '?environment=Bad', '?extra=1', `?cursor=${Buffer.from('0').toString('base64url')}`]) {
    const res = await ctx.app.inject({ method: 'GET', url: `/changes${query}` })
    isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/changes')
  }
})

t.test('a reader sees the environments its key covers; key changes only with an admin key', async (t) => {
  const ctx = await withHistory(t)
  const admin = await createKey(ctx, { name: 'boss', role: 'admin' })
  const stagingViewer = await createKey(ctx, { name: 'stage-eyes', role: 'viewer', environments: ['staging'] })
  const client = await createKey(ctx, { name: 'app', role: 'client', environments: ['production'] })
  const asAdmin = (await changes(ctx, '', { 'x-api-key': admin })).changes
  t.ok(asAdmin.some((c) => c.action === 'api_key.create'), 'an admin sees key changes')
  const anonymous = (await changes(ctx)).changes
  t.notOk(anonymous.some((c) => c.action.startsWith('api_key.')), 'open reads show no key changes')
  t.equal(anonymous.length, asAdmin.filter((c) => !c.action.startsWith('api_key.')).length)
  const scoped = (await changes(ctx, '', { 'x-api-key': stagingViewer })).changes
  t.ok(scoped.length > 0)
  t.ok(scoped.every((c) => c.environment === null || c.environment === 'staging'), 'only staging and global entries')
  t.notOk(scoped.some((c) => c.action.startsWith('api_key.')))
  t.same((await changes(ctx, '?environment=production', { 'x-api-key': stagingViewer })).changes, [], 'asking for another environment shows nothing')
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/changes', headers: { 'x-api-key': client } }), 403, 'FLAGPOST_ERR_FORBIDDEN', '/changes')
  t.ok((await changes(ctx, '', { 'x-api-key': READ_KEY })).changes.length > 0, 'the operator read key reads')
})

t.test('a flag\'s history follows renames, not a deleted namesake, in its environment', async (t) => {
  const ctx = await withHistory(t)
  await wrote(t, ctx, { method: 'POST', url: '/flags/checkout/rename', payload: { new_name: 'checkout-v2' } }, 200)
  await createFlag(ctx, { name: 'checkout', type: 'string', variants: { a: 'a', b: 'b' }, default_variant: 'a' })
  const history = await ctx.app.inject({ method: 'GET', url: '/flags/checkout-v2/history' })
  t.equal(history.statusCode, 200)
  const actions = history.json().changes.map((c: Change) => c.action)
  t.same(actions, ['flag.rename', 'override.set', 'flag.update', 'flag.create'], 'production only, newest first, across the rename')
  const staging = (await ctx.app.inject({ method: 'GET', url: '/environments/staging/flags/checkout-v2/history' })).json()
  t.same(staging.changes.map((c: Change) => c.action), ['flag.update'])
  const namesake = (await ctx.app.inject({ method: 'GET', url: '/flags/checkout/history' })).json()
  t.same(namesake.changes.map((c: Change) => c.action), ['flag.create'], 'the new flag of the old name has its own history')
  const paged = (await ctx.app.inject({ method: 'GET', url: '/flags/checkout-v2/history?limit=3' })).json()
  t.equal(paged.changes.length, 3)
  const rest = (await ctx.app.inject({ method: 'GET', url: `/flags/checkout-v2/history?limit=3&cursor=${paged.next_cursor}` })).json()
  t.same(rest.changes.map((c: Change) => c.action), ['flag.create'])
  t.equal(rest.next_cursor, null)
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/flags/nope/history' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/nope/history')
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/environments/nope/flags/checkout/history' }), 404, 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', '/environments/nope/flags/checkout/history')
})

t.test('revert serves the configuration of a revision again, as a new recorded change', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'banner', type: 'string', variants: { red: 'R', blue: 'B', green: 'G' }, default_variant: 'red', off_variant: 'blue' })
  const good = await revisionOf(ctx)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/banner', payload: { default_variant: 'green', targeting_rules: { user_ids: ['vip'], percentage: 10 } } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/banner', payload: { enabled: false } }, 200)
  const reverted = await wrote(t, ctx, { method: 'POST', url: '/flags/banner/revert', payload: { revision: good } }, 200)
  t.match(reverted.json(), { enabled: true, default_variant: 'red', off_variant: 'blue', targeting_rules: { user_ids: [], percentage: 100 }, version: 4 })
  t.equal(reverted.headers.etag, '"4"')
  const evaluated = await ctx.app.inject({ method: 'GET', url: '/evaluate/banner?user_id=vip' })
  t.equal(evaluated.json().value, 'R', 'served at once')
  const [entry] = (await changes(ctx, '?limit=1')).changes
  t.match(entry, { action: 'flag.revert', flag: 'banner', after: { reverted_to: good, default_variant: 'red' }, before: { enabled: false } })
  t.same(entry.changed, ['enabled', 'default_value', 'default_variant', 'targeting_rules.user_ids', 'targeting_rules.percentage'])
  // Reverting to the state it is in writes nothing.
  const rev = await revisionOf(ctx)
  const again = await ctx.write({ method: 'POST', url: '/flags/banner/revert', payload: { revision: good } })
  t.equal(again.statusCode, 200)
  t.equal(await revisionOf(ctx), rev, 'no new revision')
})

t.test('revert is refused with 409 when the flag\'s type or variants no longer allow it, and changes nothing', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'plan', type: 'string', variants: { basic: 'b', pro: 'p', plus: '+' }, default_variant: 'pro', off_variant: 'basic' })
  const proDefault = await revisionOf(ctx)
  // Variants are shared by every environment: development stops serving `pro` too before it goes.
  await wrote(t, ctx, { method: 'PUT', url: '/flags/plan', payload: { default_variant: 'plus' } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: '/environments/development/flags/plan', payload: { default_variant: 'plus' } }, 200)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/plan', payload: { variants: { pro: null } } }, 200)
  const body = await refused(t, ctx, { method: 'POST', url: '/flags/plan/revert', payload: { revision: proDefault } }, 409, 'FLAGPOST_ERR_REVERT_CONFLICT')
  t.match(body.detail, /variants it has now \(basic, plus\)/)
  const stringRevision = await revisionOf(ctx)
  await wrote(t, ctx, { method: 'PUT', url: '/flags/plan', payload: { type: 'number', variants: { basic: 1, plus: 2 } } }, 200)
  const typed = await refused(t, ctx, { method: 'POST', url: '/flags/plan/revert', payload: { revision: stringRevision } }, 409, 'FLAGPOST_ERR_REVERT_CONFLICT')
  t.match(typed.detail, /was a string flag .* is a number flag now/)
  // A flag deleted and recreated under the name: the revision belongs to the old one.
  await wrote(t, ctx, { method: 'DELETE', url: '/flags/plan' }, 204)
  await createFlag(ctx, { name: 'plan', type: 'boolean', default_value: true })
  const recreated = await refused(t, ctx, { method: 'POST', url: '/flags/plan/revert', payload: { revision: proDefault } }, 409, 'FLAGPOST_ERR_REVERT_CONFLICT')
  t.match(recreated.detail, /created at revision/)
})

t.test('bad reverts are 4xx and change nothing', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const latest = await revisionOf(ctx)
  await refused(t, ctx, { method: 'POST', url: '/flags/f/revert', payload: { revision: latest + 5 } }, 400, 'FLAGPOST_ERR_VALIDATION')
  for (const payload of [{}, { revision: 0 }, { revision: -1 }, { revision: 1.5 }, { revision: '1' }, { revision: 1, extra: true }, { revision: 2 ** 60 }]) {
    await refused(t, ctx, { method: 'POST', url: '/flags/f/revert', payload }, 400, 'FLAGPOST_ERR_VALIDATION', JSON.stringify(payload))
  }
  await refused(t, ctx, { method: 'POST', url: '/flags/nope/revert', payload: { revision: 1 } }, 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND')
  await refused(t, ctx, { method: 'POST', url: '/flags/f/revert', payload: { revision: latest }, headers: { 'if-match': '"7"' } }, 412, 'FLAGPOST_ERR_VERSION_MISMATCH')
  const viewer = await ctx.app.inject({ method: 'POST', url: '/flags/f/revert', payload: { revision: latest }, headers: { 'x-api-key': READ_KEY } })
  isProblem(t, viewer, 403, 'FLAGPOST_ERR_FORBIDDEN', '/flags/f/revert')
  isProblem(t, await ctx.app.inject({ method: 'POST', url: '/flags/f/revert', payload: { revision: latest } }), 401, 'FLAGPOST_ERR_UNAUTHORIZED', '/flags/f/revert')
})

t.test('revert in an environment the flag was never written in restores how it was served there: off', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const created = await revisionOf(ctx)
  await wrote(t, ctx, { method: 'PUT', url: '/environments/development/flags/f', payload: { enabled: true, targeting_rules: { percentage: 50 } } }, 200)
  const reverted = await wrote(t, ctx, { method: 'POST', url: '/environments/development/flags/f/revert', payload: { revision: created } }, 200)
  t.match(reverted.json(), { enabled: false, targeting_rules: { percentage: 100 } })
  t.match((await ctx.app.inject({ method: 'GET', url: '/flags/f' })).json(), { enabled: true }, 'production untouched')
})

t.test('retention prunes old entries and keeps the latest (the revision)', async (t) => {
  const ctx = await withHistory(t)
  const latest = await revisionOf(ctx)
  const history = ctx.container.services.history
  t.equal(await history.prune(1), 0, 'nothing is a day old')
  const pruned = await history.prune(0, new Date(Date.now() + 60_000))
  t.equal(pruned, latest - 1, 'everything but the latest entry')
  t.equal(await revisionOf(ctx), latest, 'the revision stays')
  t.same((await changes(ctx, '', { 'x-api-key': await createKey(ctx, { name: 'root2', role: 'admin' }) })).changes.map((c) => c.revision), [latest + 1, latest])
})

t.test('revision bounds past any id the log can hold (up to 2^53 - 1) answer as bounds, never a 500 (Postgres integer ids)', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const all = (await changes(ctx)).changes.length
  t.ok(all > 0)
  const huge = Number.MAX_SAFE_INTEGER
  t.same((await changes(ctx, `?from_revision=${huge}`)).changes, [], 'nothing from there on')
  t.equal((await changes(ctx, `?to_revision=${huge}`)).changes.length, all, 'everything up to there')
  t.same((await changes(ctx, `?from_revision=2147483648&to_revision=${huge}`)).changes, [])
  t.equal((await changes(ctx, '?to_revision=2147483647')).changes.length, all, 'the largest id itself')
})
