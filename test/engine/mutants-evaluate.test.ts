/**
 * Behaviour of compileFlag and evaluate (src/engine/evaluate.ts) pinned by mutation testing
 * (`npx stryker run --mutate src/engine/evaluate.ts`): every test kills mutants the rest of the
 * engine suite let through.
 */
import t from 'tap'
import { compileFlag, evaluate, FlagCompileError } from '../../src/engine/index.js'
import type { EvaluationContext, FlagDefinition, FlagOverrides, OverrideSpec, TargetingRules } from '../../src/engine/index.js'

const NOW = Date.parse('2026-11-21T10:00:00.000Z')

function flag (over: Partial<Omit<FlagDefinition, 'targeting_rules'>> = {}, tr: Partial<TargetingRules> = {}): FlagDefinition {
  return {
    name: 'checkout',
    type: 'string',
    enabled: true,
    variants: { on: 'on', off: 'off', blue: 'blue' },
    default_variant: 'on',
    off_variant: 'off',
    metadata: {},
    version: 1,
    ...over,
    targeting_rules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id', ...tr }
  }
}

/** `[field, message]` of the refusal, or 'compiles'. */
function refusal (def: FlagDefinition): [string, string] | 'compiles' | 'other error' {
  try {
    compileFlag(def)
    return 'compiles'
  } catch (err) {
    return err instanceof FlagCompileError ? [err.field, err.message] : 'other error'
  }
}

const users = Array.from({ length: 40 }, (_, i) => `user-${i}`)

t.test('unknown variants, unusable rollout weights and percentages are refused with field and message', async (t) => {
  const rollout = (weights: Record<string, unknown>) => flag({}, { rollout: weights as Record<string, number>, percentage: null })
  const percentage = (p: unknown) => flag({}, { percentage: p as number })
  const cases: [string, FlagDefinition][] = [
    ['unknown default variant', flag({ default_variant: 'nope' })],
    ['unknown off variant', flag({ off_variant: 'nope' })],
    ['rollout over an unknown variant', rollout({ on: 1, nope: 1 })],
    ['an infinite weight', rollout({ on: Infinity, off: 1 })],
    ['a NaN weight', rollout({ on: Number.NaN, off: 1 })],
    ['a string weight', rollout({ on: '5', off: 1 })],
    ['a negative weight', rollout({ on: -0.01, off: 1 })],
    ['a string percentage', percentage('50')],
    ['a NaN percentage', percentage(Number.NaN)],
    ['an infinite percentage', percentage(Infinity)],
    ['a negative percentage', percentage(-0.01)],
    ['a percentage above 100', percentage(100.01)]
  ]
  const pct = ['targeting_rules.percentage', 'flag checkout: percentage must be a number from 0 to 100 when there is no rollout']
  const weight = ['targeting_rules.rollout.on', 'flag checkout: rollout weight of "on" must be a number >= 0']
  t.same(cases.map(([label, def]) => [label, refusal(def)]), [
    ['unknown default variant', ['default_variant', 'flag checkout: default_variant "nope" is not one of its variants']],
    ['unknown off variant', ['off_variant', 'flag checkout: off_variant "nope" is not one of its variants']],
    ['rollout over an unknown variant', ['targeting_rules.rollout.nope', 'flag checkout: targeting_rules.rollout.nope "nope" is not one of its variants']],
    ['an infinite weight', weight],
    ['a NaN weight', weight],
    ['a string weight', weight],
    ['a negative weight', weight],
    ['a string percentage', pct],
    ['a NaN percentage', pct],
    ['an infinite percentage', pct],
    ['a negative percentage', pct],
    ['a percentage above 100', pct]
  ])
})

t.test('percentages 0 and 100 and zero rollout weights compile', async (t) => {
  const cases: [string, FlagDefinition][] = [
    ['0 %', flag({}, { percentage: 0 })],
    ['100 %', flag({}, { percentage: 100 })],
    ['a zero weight beside a positive one', flag({}, { rollout: { on: 0, off: 1 }, percentage: null })]
  ]
  t.same(cases.map(([label, def]) => [label, refusal(def)]), cases.map(([label]) => [label, 'compiles']))
})

t.test('percentages are compared at two decimals: below 0.005 serves no one, from 99.995 everyone', async (t) => {
  const served = (p: number) => {
    const f = compileFlag(flag({}, { percentage: p }))
    return [...new Set(users.map((u) => { const r = evaluate(f, { user_id: u }, NOW); return `${r.variant} ${r.reason}` }))]
  }
  t.same([served(0.004), served(99.996)], [['off DEFAULT'], ['on STATIC']])
})

t.test('a flag with a rollout, or with overrides of either kind, is targeted; empty override maps are not', async (t) => {
  const none = new Map<string, OverrideSpec>()
  const one = new Map<string, OverrideSpec>([['someone', { enabled: true, variant: null }]])
  const cases: [string, FlagDefinition, FlagOverrides | undefined][] = [
    ['rollout', flag({}, { rollout: { on: 1 }, percentage: null }), undefined],
    ['user overrides only', flag(), { users: one, customers: none }],
    ['customer overrides only', flag(), { users: none, customers: one }],
    ['empty override maps', flag(), { users: none, customers: none }],
    ['no overrides', flag(), undefined]
  ]
  t.same(cases.map(([label, def, overrides]) => {
    const f = compileFlag(def, overrides)
    return [label, f.noTargeting, evaluate(f, { user_id: 'x', customer_id: 'y' }, NOW).reason]
  }), [
    ['rollout', false, 'SPLIT'],
    ['user overrides only', false, 'DEFAULT'],
    ['customer overrides only', false, 'DEFAULT'],
    ['empty override maps', true, 'STATIC'],
    ['no overrides', true, 'STATIC']
  ])
})

t.test('bucket_by targetingKey buckets user_id first, like bucket_by user_id', async (t) => {
  const split = (bucketBy: string, ctx: (u: string) => EvaluationContext) => {
    const f = compileFlag(flag({}, { percentage: 50, bucket_by: bucketBy }))
    return users.map((u) => { const r = evaluate(f, ctx(u), NOW); return `${r.variant} ${r.reason}` })
  }
  const byUser = split('user_id', (u) => ({ user_id: u }))
  t.same(split('targetingKey', (u) => ({ user_id: u, targetingKey: 'someone-else' })), byUser)
  t.same(split('targetingKey', (u) => ({ targetingKey: u })), byUser)
  t.same(new Set(byUser), new Set(['on SPLIT', 'off SPLIT']), 'both sides of the split are exercised')
})

t.test('an override without a variant serves by enabled even when a variant is named "null"', async (t) => {
  const def = flag({ variants: { on: 'on', off: 'off', null: 'the null variant' } })
  const f = compileFlag(def, {
    users: new Map([['ann', { enabled: true, variant: null }], ['bob', { enabled: false, variant: null }]]),
    customers: new Map([['acme', { enabled: true, variant: 'null' }]])
  })
  const at = (ctx: EvaluationContext) => { const r = evaluate(f, ctx, NOW); return [r.variant, r.value, r.rule] }
  t.same([at({ user_id: 'ann' }), at({ user_id: 'bob' }), at({ customer_id: 'acme' })], [
    ['on', 'on', 'user_override'],
    ['off', 'off', 'user_override'],
    ['null', 'the null variant', 'customer_override']
  ])
})

t.test('a rule rollout serves its first variant to the low buckets and the off variant when the key is missing', async (t) => {
  const f = compileFlag(flag({}, {
    percentage: 0,
    rules: [{ id: 'split', clauses: [], serve: { rollout: { blue: 50, on: 50 } } }]
  }))
  const served = new Set(users.map((u) => { const r = evaluate(f, { user_id: u }, NOW); return `${r.variant} ${r.value} ${r.reason} ${r.rule}` }))
  const missing = evaluate(f, {}, NOW)
  t.same([[...served].sort(), [missing.variant, missing.value, missing.reason, missing.rule]], [
    ['blue blue SPLIT rule:split', 'on on SPLIT rule:split'],
    ['off', 'off', 'DEFAULT', 'rule:split']
  ])
})

t.test('ids, bucket keys and rules read booleans and numbers by String(), and a present unlisted customer is not listed', async (t) => {
  const f = compileFlag(flag({}, {
    user_ids: ['true', '7'],
    customer_ids: ['false'],
    rules: [{ id: 'beta', clauses: [{ attribute: 'beta', operator: 'eq', values: [true] }], serve: { variant: 'blue' } }],
    percentage: 0
  }))
  const at = (ctx: EvaluationContext) => { const r = evaluate(f, ctx, NOW); return [r.variant, r.value, r.reason, r.rule] }
  t.same([
    at({ user_id: true }),
    at({ user_id: 7 }),
    at({ customer_id: false }),
    at({ user_id: 'someone', customer_id: 'unlisted' }),
    at({ user_id: 'someone', beta: true })
  ], [
    ['on', 'on', 'TARGETING_MATCH', 'user_ids'],
    ['on', 'on', 'TARGETING_MATCH', 'user_ids'],
    ['on', 'on', 'TARGETING_MATCH', 'customer_ids'],
    ['off', 'off', 'DEFAULT', 'fallthrough'],
    ['blue', 'blue', 'TARGETING_MATCH', 'rule:beta']
  ])
})
