import t from 'tap'
import { build, createFlag, isProblem, revisionOf } from '../helper.js'
import { failingInOrder } from '../support/cases.js'
import { bodyOf, problemDiff } from '../support/refusals.js'

const euBeta = {
  name: 'eu_beta',
  type: 'string',
  variants: { on: 'beta', off: 'stable', blue: 'blue', green: 'green' },
  metadata: { owner: 'checkout-team', ticket: 42, critical: false },
  targeting_rules: {
    user_ids: ['vip'],
    rules: [
      {
        id: 'eu',
        description: 'EU on a recent app',
        clauses: [
          { attribute: 'country', operator: 'in', values: ['DE', 'FR'] },
          { attribute: 'app_version', operator: 'semver_gte', values: ['2.3.0'] }
        ],
        serve: { variant: 'on' }
      },
      { clauses: [{ attribute: 'email', operator: 'ends_with', values: ['@example.com'], case_insensitive: true }], serve: { rollout: { blue: 50, green: 50 } } }
    ]
  }
}

t.test('rules through the API: stored with ids, evaluated in order, metadata returned', async (t) => {
  const ctx = await build(t)
  const created = await createFlag(ctx, euBeta)
  t.same(created.targeting_rules, {
    ...euBeta.targeting_rules,
    customer_ids: [],
    rules: [
      { ...euBeta.targeting_rules.rules[0], clauses: euBeta.targeting_rules.rules[0].clauses },
      { ...euBeta.targeting_rules.rules[1], id: 'rule-2', clauses: [{ ...euBeta.targeting_rules.rules[1].clauses[0] }] }
    ],
    percentage: 0,
    rollout: null,
    bucket_by: 'user_id'
  }, 'percentage 0 because rules are given; the second rule got id rule-2')

  const evaluate = async (query: string) => (await ctx.app.inject({ url: `/evaluate/eu_beta?${query}` })).json()
  t.match(await evaluate('user_id=u1&country=DE&app_version=2.4.1'), { value: 'beta', variant: 'on', reason: 'TARGETING_MATCH', rule: 'rule:eu' })
  t.match(await evaluate('user_id=u1&country=DE&app_version=2.2.9'), { value: 'stable', reason: 'DEFAULT', rule: 'fallthrough' }, 'one clause fails: no match')
  t.match(await evaluate('user_id=u1&country=US&app_version=3.0.0'), { reason: 'DEFAULT' })
  t.match(await evaluate('user_id=vip&country=US'), { value: 'beta', rule: 'user_ids' }, 'user_ids come before rules')
  const split = await evaluate('user_id=u1&email=Someone@EXAMPLE.com')
  t.match(split, { reason: 'SPLIT', rule: 'rule:rule-2' })
  t.ok(['blue', 'green'].includes(split.variant))
  t.same(split.metadata, { owner: 'checkout-team', ticket: 42, critical: false })

  const bulk = (await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: { user_id: 'u1', country: 'FR', app_version: '2.3.0' } } })).json()
  t.match(bulk.results.eu_beta, { variant: 'on', rule: 'rule:eu' })
})

t.test('a rule that cannot be compiled is a 400 naming the clause, and nothing is written', async (t) => {
  const ctx = await build(t)
  const base = await revisionOf(ctx)
  const cases: Array<[unknown, string]> = [
    [{ clauses: [{ attribute: 'v', operator: 'semver_gte', values: ['not-a-version'] }], serve: { variant: 'on' } }, 'body.targeting_rules.rules.0.clauses.0.values.0'],
    [{ clauses: [{ attribute: 'name', operator: 'matches', values: ['(?=a)b'] }], serve: { variant: 'on' } }, 'body.targeting_rules.rules.0.clauses.0.values.0'],
    [{ clauses: [{ attribute: 'age', operator: 'gt', values: ['old'] }], serve: { variant: 'on' } }, 'body.targeting_rules.rules.0.clauses.0.values.0'],
    [{ clauses: [], serve: { variant: 'purple' } }, 'body.targeting_rules.rules.0.serve.variant'],
    [{ clauses: [{ attribute: 'x', operator: 'like', values: ['a'] }], serve: { variant: 'on' } }, 'body.targeting_rules.rules.0.clauses.0.operator'],
    [{ clauses: [{ attribute: 'x', operator: 'in', values: [{ nested: true }] }], serve: { variant: 'on' } }, 'body.targeting_rules.rules.0.clauses.0.values.0'],
    [{ clauses: [], serve: { variant: 'on' }, extra: 1 }, 'body.targeting_rules.rules.0.extra']
  ]
  t.same(await failingInOrder(cases, async ([rule, field]) => {
    const res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'bad', targeting_rules: { rules: [rule] } } })
    const wrong = problemDiff(res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
    if (!((bodyOf(res).errors ?? []) as Array<{ field: string }>).some((e) => e.field === field)) wrong.push(`does not name ${field}: ${res.body}`)
    return wrong.length === 0 ? undefined : { case: JSON.stringify(rule), wrong }
  }), [], `each of ${cases.length} bad rules: a 400 problem naming the field`)
  const dup = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'bad', targeting_rules: { rules: [{ id: 'a', clauses: [], serve: { variant: 'on' } }, { id: 'a', clauses: [], serve: { variant: 'off' } }] } } })
  t.match(isProblem(t, dup, 400, 'FLAGPOST_ERR_VALIDATION', '/flags').errors, [{ field: 'body.targeting_rules.rules.1.id' }])
  t.equal(await revisionOf(ctx), base, 'no write happened')
  t.equal((await ctx.app.inject({ url: '/flags/bad' })).statusCode, 404)
})

t.test('hostile rules: a 10,000-value in list works; 101 rules are refused', async (t) => {
  const ctx = await build(t)
  const values = Array.from({ length: 10_000 }, (_, i) => `user-${i}`)
  await createFlag(ctx, { name: 'big_in', targeting_rules: { rules: [{ clauses: [{ attribute: 'user_id', operator: 'in', values }], serve: { variant: 'on' } }] } })
  t.match((await ctx.app.inject({ url: '/evaluate/big_in?user_id=user-9999' })).json(), { value: true, reason: 'TARGETING_MATCH' })
  t.match((await ctx.app.inject({ url: '/evaluate/big_in?user_id=user-10000' })).json(), { value: false, reason: 'DEFAULT' })
  const many = Array.from({ length: 101 }, () => ({ clauses: [], serve: { variant: 'on' } }))
  const res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'too_many', targeting_rules: { rules: many } } })
  isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
})

t.test('schedules: before/after compare with the evaluation time through the attribute now', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'launch', targeting_rules: { rules: [{ clauses: [{ attribute: 'now', operator: 'after', values: ['2000-01-01T00:00:00Z'] }], serve: { variant: 'on' } }] } })
  await createFlag(ctx, { name: 'future', targeting_rules: { rules: [{ clauses: [{ attribute: 'now', operator: 'after', values: ['2999-01-01T00:00:00Z'] }], serve: { variant: 'on' } }] } })
  t.match((await ctx.app.inject({ url: '/evaluate/launch' })).json(), { value: true, reason: 'TARGETING_MATCH' })
  t.match((await ctx.app.inject({ url: '/evaluate/future?now=3000-01-01T00:00:00Z' })).json(), { value: false }, 'a client cannot move the clock')
})
