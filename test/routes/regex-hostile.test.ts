import t from 'tap'
import { build, createFlag, isProblem, revisionOf } from '../helper.js'

// Issue 11, defect class 1: one request must not stall the process through a `matches` clause.

const withPattern = (name: string, pattern: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'boolean',
  variants: { on: true, off: false },
  targeting_rules: { rules: [{ id: 're', clauses: [{ attribute: 'email', operator: 'matches', values: [pattern], ...extra }], serve: { variant: 'on' } }] }
})

t.test('the bypass from the issue is accepted and answered at once: ^(a|A)+$ case-insensitive, hostile email', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, withPattern('hostile', '^(a|A)+$', { case_insensitive: true }))
  await createFlag(ctx, withPattern('nested', '(a+)+$'))
  // The 29 characters took 8 s on RegExp; 1,000 (the schema allows 1,024) would never end.
  // That each request returns at all is the assertion: tap's timeout fails a hang.
  for (const email of ['a'.repeat(28) + '!', 'a'.repeat(1_000) + '!']) {
    const res = await ctx.app.inject({ url: `/evaluate/hostile?email=${email}` })
    t.match(res.json(), { value: false, reason: 'DEFAULT' }, `GET /evaluate/hostile with ${email.length} characters`)
  }
  t.match((await ctx.app.inject({ url: `/evaluate/hostile?email=${'aA'.repeat(500)}` })).json(), { value: true, reason: 'TARGETING_MATCH' })
  const bulk = await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: { email: 'a'.repeat(1_000) + '!' } } })
  t.match(bulk.json().results, { hostile: { value: false }, nested: { value: false } }, 'POST /evaluate over both')
})

t.test('lookaround and backreferences are a 400 naming the pattern and saying RE2 syntax is used; nothing is written', async (t) => {
  const ctx = await build(t)
  const base = await revisionOf(ctx)
  for (const pattern of ['^(?!admin)', '(?<=@)example\\.com', '^(a)\\1$']) {
    const res = await ctx.write({ method: 'POST', url: '/flags', payload: withPattern('bad', pattern, { case_insensitive: true }) })
    const body = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
    t.match(body.errors, [{ field: 'body.targeting_rules.rules.0.clauses.0.values.0', message: /RE2 syntax .*no lookahead, lookbehind or backreferences/ }], pattern)
  }
  t.equal(await revisionOf(ctx), base, 'no write happened')
})

t.test('a flag stored with a pattern RE2 cannot run still loads: that clause never holds, other flags are unaffected', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, withPattern('legacy', '^internal-'))
  await createFlag(ctx, withPattern('other', '@example\\.com$'))
  // As written before RE2: the RegExp-era check accepted lookahead. Straight into the store.
  const repo = ctx.container.repositories.flags
  const stored = (await repo.get(ctx.config.defaultEnvironment, 'legacy'))!
  const rules = [{ id: 're', clauses: [{ attribute: 'email', operator: 'matches' as const, values: ['^(?!admin)'] }], serve: { variant: 'on' } }]
  const revision = await repo.update({ ...stored, targetingRules: { ...stored.targetingRules, rules }, version: stored.version + 1 }, stored.version,
    { actor: 'test', action: 'flag.update', names: ['legacy'], before: null, after: null })
  t.ok(revision, 'stored')
  await ctx.container.snapshot.catchUp()
  await ctx.container.snapshot.load() // and a full load, as a restart does
  t.match((await ctx.app.inject({ url: '/evaluate/legacy?email=alice@example.com' })).json(), { value: false, reason: 'DEFAULT', version: stored.version + 1 },
    'the clause never holds')
  t.match((await ctx.app.inject({ url: '/evaluate/other?email=alice@example.com' })).json(), { value: true, reason: 'TARGETING_MATCH' })
})
