import t, { type Test } from 'tap'
import { build, createFlag, isProblem, revisionOf, type TestApp } from '../helper.js'

type Json = Record<string, any>

const getFlag = async (ctx: TestApp, name: string): Promise<Json> => {
  const res = await ctx.app.inject({ url: `/flags/${name}` })
  if (res.statusCode !== 200) throw new Error(`GET /flags/${name}: ${res.statusCode} ${res.body}`)
  return res.json()
}
const put = (ctx: TestApp, name: string, payload: unknown, headers: Record<string, string> = {}): ReturnType<TestApp['write']> =>
  ctx.write({ method: 'PUT', url: `/flags/${name}`, payload: payload as Json, headers })
const fields = (body: Json): string[] => body.errors.map((e: Json) => e.field)

/** A failed write leaves the flag and the revision exactly as they were. */
async function unchanged (t: Test, ctx: TestApp, name: string, before: Json, rev: number): Promise<void> {
  t.equal(await revisionOf(ctx), rev, 'revision did not move')
  t.same(await getFlag(ctx, name), before, `${name} unchanged`)
}

t.test('PUT merges targeting_rules: a new percentage keeps user_ids; arrays replace', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', targeting_rules: { user_ids: ['alice', 'bob'], customer_ids: ['acme'] } })
  let res = await put(ctx, 'f', { targeting_rules: { percentage: 25 } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers.etag, '"2"')
  t.same(res.json().targeting_rules, { user_ids: ['alice', 'bob'], customer_ids: ['acme'], rules: [], percentage: 25, rollout: null, bucket_by: 'user_id' })
  res = await put(ctx, 'f', { targeting_rules: { user_ids: ['carol'] } })
  t.same(res.json().targeting_rules.user_ids, ['carol'], 'array replaced, not merged')
  t.equal(res.json().targeting_rules.percentage, 25)
  t.same(res.json().targeting_rules.customer_ids, ['acme'])
  t.same((await getFlag(ctx, 'f')).targeting_rules, res.json().targeting_rules)
  const carol = await ctx.app.inject({ url: '/evaluate/f?user_id=carol' })
  t.match(carol.json(), { value: true, reason: 'TARGETING_MATCH', version: 3 })
})

t.test('PUT null clears description, tags, metadata back to defaults; metadata merges', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', description: 'about f', tags: ['a', 'b'], metadata: { owner: 'team', ticket: 'T-1' } })
  let res = await put(ctx, 'f', { tags: ['c'], metadata: { ticket: 'T-2', priority: 3 } })
  t.same(res.json().tags, ['c'])
  t.same(res.json().metadata, { owner: 'team', ticket: 'T-2', priority: 3 }, 'objects merge')
  // RFC 7396: a null member of a nested object removes that key
  res = await put(ctx, 'f', { metadata: { owner: null } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().metadata, { ticket: 'T-2', priority: 3 }, 'null removes one key')
  const version = (await getFlag(ctx, 'f')).version
  res = await put(ctx, 'f', { description: null, tags: null, metadata: null })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { description: '', tags: [], metadata: {}, version: version + 1 })
  const stored = await getFlag(ctx, 'f')
  t.equal(stored.description, '')
  t.same(stored.tags, [])
  t.same(stored.metadata, {})
})

t.test('PUT variants merge; null removes a variant; removing the default variant is 400', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, {
    name: 'c', type: 'string', variants: { blue: '#00f', green: '#0f0', red: '#f00' }, default_variant: 'blue', off_variant: 'green'
  })
  const res = await put(ctx, 'c', { variants: { red: null, yellow: '#ff0', blue: '#00e' } })
  t.equal(res.statusCode, 200)
  t.same(res.json().variants, { blue: '#00e', green: '#0f0', yellow: '#ff0' })
  t.equal(res.json().default_value, '#00e')
  t.same((await getFlag(ctx, 'c')).variants, { blue: '#00e', green: '#0f0', yellow: '#ff0' })

  const before = await getFlag(ctx, 'c')
  const rev = await revisionOf(ctx)
  const bad = await put(ctx, 'c', { variants: { blue: null } })
  const body = isProblem(t, bad, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/c')
  t.ok(fields(body).includes('body.default_variant'), 'names default_variant')
  await unchanged(t, ctx, 'c', before, rev)

  const moved = await put(ctx, 'c', { default_variant: 'yellow', off_value: '#000' })
  t.match(moved.json(), { default_variant: 'yellow', default_value: '#ff0', off_variant: 'green', off_value: '#000' })
})

t.test('PUT accepts application/merge-patch+json and coerces values', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'n', type: 'number', default_value: 1 })
  const res = await ctx.write({
    method: 'PUT',
    url: '/flags/n',
    headers: { 'content-type': 'application/merge-patch+json' },
    payload: JSON.stringify({ default_value: '7.25', description: 'patched' })
  })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { default_value: 7.25, off_value: 0, description: 'patched', version: 2 })
  const ev = await ctx.app.inject({ url: '/evaluate/n' })
  t.match(ev.json(), { value: 7.25, version: 2 })
})

t.test('versions: +1 per change, a no-op patch does not bump; one revision per write', async (t) => {
  const ctx = await build(t)
  const created = await createFlag(ctx, { name: 'v', description: 'same', tags: ['x'] })
  let rev = await revisionOf(ctx)
  for (const [i, patch] of [{ enabled: false }, { description: 'changed' }, { targeting_rules: { percentage: 10 } }].entries()) {
    const res = await put(ctx, 'v', patch)
    t.equal(res.json().version, i + 2)
    t.equal(res.headers.etag, `"${i + 2}"`)
    t.equal(await revisionOf(ctx), ++rev, 'one change-log row')
  }
  const current = await getFlag(ctx, 'v')
  t.equal(current.created_at, created.created_at)
  t.ok(Date.parse(current.updated_at) >= Date.parse(String(created.created_at)))
  for (const noop of [{}, { description: 'changed' }, { name: 'v' }, { tags: ['x'] }, { enabled: false }, { targeting_rules: { percentage: 10 } }, { metadata: {} }]) {
    const res = await put(ctx, 'v', noop)
    t.equal(res.statusCode, 200)
    t.equal(res.json().version, 4, `no-op ${JSON.stringify(noop)}`)
    t.equal(res.headers.etag, '"4"')
  }
  t.equal(await revisionOf(ctx), rev, 'no-ops write nothing')
  t.same(await getFlag(ctx, 'v'), current)
  const ev = await ctx.app.inject({ url: '/evaluate/v' })
  t.match(ev.json(), { value: false, reason: 'DISABLED', version: 4 })
})

t.test('If-Match: current, stale, *, weak and garbage', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'm' })
  let res = await put(ctx, 'm', { description: 'one' }, { 'if-match': '"1"' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers.etag, '"2"')

  const before = await getFlag(ctx, 'm')
  const rev = await revisionOf(ctx)
  res = await put(ctx, 'm', { description: 'stale' }, { 'if-match': '"1"' })
  const body = isProblem(t, res, 412, 'FLAGPOST_ERR_VERSION_MISMATCH', '/flags/m')
  t.match(body.detail, /version is 2/)
  await unchanged(t, ctx, 'm', before, rev)
  for (const garbage of ['banana', '"two"', 'W/"x"', '"-2"']) {
    res = await put(ctx, 'm', { description: 'garbage' }, { 'if-match': garbage })
    isProblem(t, res, 412, 'FLAGPOST_ERR_VERSION_MISMATCH', '/flags/m')
  }
  res = await put(ctx, 'm', {}, { 'if-match': '"1"' })
  isProblem(t, res, 412, 'FLAGPOST_ERR_VERSION_MISMATCH', '/flags/m')
  await unchanged(t, ctx, 'm', before, rev)

  res = await put(ctx, 'm', { description: 'star' }, { 'if-match': '*' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().version, 3)
  res = await put(ctx, 'm', { description: 'weak' }, { 'if-match': 'W/"3"' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().version, 4)
  t.equal((await getFlag(ctx, 'm')).description, 'weak')
})

t.test('PUT: name in body differs from path → 400; unknown flag → 404', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'a' })
  await createFlag(ctx, { name: 'b' })
  const before = await getFlag(ctx, 'a')
  const rev = await revisionOf(ctx)
  const res = await put(ctx, 'a', { name: 'b', description: 'x' })
  const body = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/a')
  t.same(fields(body), ['body.name'])
  await unchanged(t, ctx, 'a', before, rev)
  isProblem(t, await put(ctx, 'nope', { description: 'x' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/nope')
  t.equal(await revisionOf(ctx), rev)
})

t.test('PUT: rollout replaces a stored percentage and vice versa', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'r', targeting_rules: { percentage: 40, user_ids: ['alice'] } })
  let res = await put(ctx, 'r', { targeting_rules: { rollout: { on: 30, off: 70 } } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().targeting_rules, { user_ids: ['alice'], customer_ids: [], rules: [], percentage: null, rollout: { on: 30, off: 70 }, bucket_by: 'user_id' })
  res = await put(ctx, 'r', { targeting_rules: { percentage: 55.5 } })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json().targeting_rules, { percentage: 55.5, rollout: null, user_ids: ['alice'] })
  t.match((await getFlag(ctx, 'r')).targeting_rules, { percentage: 55.5, rollout: null })

  const before = await getFlag(ctx, 'r')
  const rev = await revisionOf(ctx)
  res = await put(ctx, 'r', { targeting_rules: { percentage: 10, rollout: { on: 1 } } })
  t.ok(fields(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/r')).includes('body.targeting_rules'))
  res = await put(ctx, 'r', { targeting_rules: { rollout: { on: 50, nope: 50 } } })
  t.same(fields(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/r')), ['body.targeting_rules.rollout.nope'])
  await unchanged(t, ctx, 'r', before, rev)

  res = await put(ctx, 'r', { targeting_rules: null })
  t.same(res.json().targeting_rules, { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' })
})

t.test('PUT: null removes a member at every depth (RFC 7396); the merged flag is validated whole', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, {
    name: 'colors',
    type: 'string',
    variants: { blue: 'b', green: 'g', red: 'r' },
    default_variant: 'blue',
    off_variant: 'green',
    targeting_rules: { rollout: { blue: 50, green: 25, red: 25 } },
    metadata: { owner: 'web', ticket: 7 }
  })
  // One write takes red out of the rollout: no second write, no moment in which everyone gets one value.
  let res = await put(ctx, 'colors', { targeting_rules: { rollout: { red: null } } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().targeting_rules.rollout, { blue: 50, green: 25 })
  t.equal(res.json().version, 2)
  // …then the variant itself, and a metadata key, in one patch.
  res = await put(ctx, 'colors', { variants: { red: null }, metadata: { ticket: null } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().variants, { blue: 'b', green: 'g' })
  t.same(res.json().metadata, { owner: 'web' })

  const before = await getFlag(ctx, 'colors')
  const rev = await revisionOf(ctx)
  // The default variant (also in the rollout) cannot go, and a rollout cannot lose every member.
  res = await put(ctx, 'colors', { variants: { blue: null } })
  t.ok(fields(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/colors')).length > 0)
  res = await put(ctx, 'colors', { targeting_rules: { rollout: { blue: null, green: null } } })
  t.same(fields(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/colors')), ['body.targeting_rules.rollout'])
  res = await put(ctx, 'colors', { targeting_rules: { rollout: { blue: 'x' } } })
  t.same(fields(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/colors')), ['body.targeting_rules.rollout.blue'])
  await unchanged(t, ctx, 'colors', before, rev)

  // Inside a json flag's value, too: objects merge and null removes.
  await createFlag(ctx, { name: 'layout', type: 'json', default_value: { columns: 3, sidebar: { width: 200, dark: true } } })
  res = await put(ctx, 'layout', { variants: { on: { sidebar: { dark: null }, columns: 4 } } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().default_value, { columns: 4, sidebar: { width: 200 } })
})

t.test('PUT: changing type with incompatible values is 400 naming the field', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'b' })
  const before = await getFlag(ctx, 'b')
  const rev = await revisionOf(ctx)
  let res = await put(ctx, 'b', { type: 'number' })
  let body = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/b')
  t.ok(fields(body).includes('body.variants.on'), 'names variants.on')
  t.ok(fields(body).includes('body.variants.off'), 'names variants.off')
  res = await put(ctx, 'b', { type: 'string', default_value: 'yes' })
  body = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/b')
  t.same(fields(body), ['body.variants.off'])
  res = await put(ctx, 'b', { type: 'number', default_value: 'x1' })
  body = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/b')
  t.ok(fields(body).includes('body.default_value'), 'names default_value')
  res = await put(ctx, 'b', { default_value: 'maybe' })
  body = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags/b')
  t.same(fields(body), ['body.default_value'])
  await unchanged(t, ctx, 'b', before, rev)

  // default_value / off_value set the values of the default / off variants, so both together convert the flag
  res = await put(ctx, 'b', { type: 'string', default_value: 'yes', off_value: 'no' })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().variants, { on: 'yes', off: 'no' })
  res = await put(ctx, 'b', { type: 'number', variants: { on: '5', off: 0 } })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { type: 'number', default_value: 5, off_value: 0 })
  t.same(res.json().variants, { on: 5, off: 0 })
  res = await put(ctx, 'b', { type: 'json', default_value: '{"k":[1]}' })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().variants, { on: { k: [1] }, off: 0 })
})

t.test('POST /flags/{name}/rename', async (t) => {
  t.test('200 with the new Location; old name gone; evaluation follows; change log lists both names', async (t) => {
    const ctx = await build(t)
    const original = await createFlag(ctx, { name: 'old', type: 'string', default_value: 'v', targeting_rules: { user_ids: ['u1'] } })
    const rev = await revisionOf(ctx)
    const res = await ctx.write({ method: 'POST', url: '/flags/old/rename', payload: { new_name: 'brand.new' } })
    t.equal(res.statusCode, 200)
    t.equal(res.headers.location, '/flags/brand.new')
    t.equal(res.headers.etag, '"2"')
    const body = res.json()
    t.match(body, { name: 'brand.new', type: 'string', default_value: 'v', version: 2, created_at: original.created_at })
    t.same(body.targeting_rules, original.targeting_rules)
    t.equal(await revisionOf(ctx), rev + 1)
    const change = await ctx.container.repositories.flags.changesSince(rev, 10)
    t.equal(change.revision, rev + 1)
    t.same([...change.names].sort(), ['brand.new', 'old'])

    isProblem(t, await ctx.app.inject({ url: '/flags/old' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/old')
    isProblem(t, await ctx.app.inject({ url: '/evaluate/old' }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/evaluate/old')
    t.same(await getFlag(ctx, 'brand.new'), body)
    const ev = await ctx.app.inject({ url: '/evaluate/brand.new?user_id=u1' })
    t.match(ev.json(), { name: 'brand.new', value: 'v', reason: 'TARGETING_MATCH', version: 2 })
    isProblem(t, await ctx.write({ method: 'POST', url: '/flags/old/rename', payload: { new_name: 'x' } }), 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND', '/flags/old/rename')
  })

  t.test('onto an existing name → 409, both unchanged; bad new_name → 400; stale If-Match → 412', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'one', description: '1' })
    await createFlag(ctx, { name: 'two', description: '2', type: 'number', default_value: 2 })
    const one = await getFlag(ctx, 'one')
    const two = await getFlag(ctx, 'two')
    const rev = await revisionOf(ctx)
    const rename = (payload: Json, headers: Record<string, string> = {}): ReturnType<TestApp['write']> =>
      ctx.write({ method: 'POST', url: '/flags/one/rename', payload, headers })

    isProblem(t, await rename({ new_name: 'two' }), 409, 'FLAGPOST_ERR_FLAG_EXISTS', '/flags/one/rename')
    for (const bad of ['has space', '../x', 'x'.repeat(129), 'flägg', '', '-lead']) {
      const body = isProblem(t, await rename({ new_name: bad }), 400, 'FLAGPOST_ERR_VALIDATION', '/flags/one/rename')
      t.same(fields(body), ['body.new_name'], JSON.stringify(bad))
    }
    t.same(fields(isProblem(t, await rename({}), 400, 'FLAGPOST_ERR_VALIDATION', '/flags/one/rename')), ['body.new_name'])
    t.same(fields(isProblem(t, await rename({ new_name: 'ok', extra: 1 }), 400, 'FLAGPOST_ERR_VALIDATION', '/flags/one/rename')), ['body.extra'])
    isProblem(t, await rename({ new_name: 'three' }, { 'if-match': '"7"' }), 412, 'FLAGPOST_ERR_VERSION_MISMATCH', '/flags/one/rename')
    await unchanged(t, ctx, 'one', one, rev)
    t.same(await getFlag(ctx, 'two'), two)
    t.equal((await ctx.app.inject({ url: '/flags/three' })).statusCode, 404)

    const ok = await rename({ new_name: 'three' }, { 'if-match': '"1"' })
    t.equal(ok.statusCode, 200)
    t.equal(ok.headers.location, '/flags/three')
  })
})
