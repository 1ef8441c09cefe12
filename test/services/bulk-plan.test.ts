import fc from 'fast-check'
import t from 'tap'
import { compileFlag, evaluate, fixedResult, RULE_LIMITS } from '../../src/engine/index.js'
import type { EvaluationContext, FlagDefinition } from '../../src/engine/index.js'
import type { FlagOverrides, OverrideSpec } from '../../src/engine/types.js'
import { bulkPlanOf, choose, chooseOne, isUnservableAt, perPlan } from '../../src/services/bulk-plan.js'
import { flagDefinition, targeting } from '../support/flag-definition.js'

/**
 * Bulk evaluation says each flag's entry as an index into the plan's outcomes (`choose`): it must be
 * the very object `evaluate` returns for that flag, context and time, and the fixed entry for a flag
 * the context cannot change, whatever the flags' targeting, overrides and rules.
 */

const NOW = Date.parse('2026-12-05T10:00:00.000Z')
const VARIANTS = ['a', 'b', 'c']
const clauses = [
  { attribute: 'country', operator: 'in' as const, values: ['DE', 'FR'] },
  { attribute: 'country', operator: 'eq' as const, values: ['US'], negate: true },
  { attribute: 'user_id', operator: 'matches' as const, values: ['^a'] },
  { attribute: 'plan', operator: 'exists' as const, values: [] },
  { attribute: 'now', operator: 'after' as const, values: ['2026-12-05T00:00:00Z'] },
  // Clauses alike but for one field: bulk evaluation tests a clause shared by flags once, so these must stay apart.
  { attribute: 'country', operator: 'in' as const, values: ['DE', 'FR'], negate: true },
  { attribute: 'country', operator: 'in' as const, values: ['DE', 'FR'], case_insensitive: true },
  { attribute: 'country', operator: 'exists' as const, values: [] },
  { attribute: 'targetingKey', operator: 'matches' as const, values: ['^a'] },
  { attribute: 'seats', operator: 'gt' as const, values: [5] },
  { attribute: 'seats', operator: 'in' as const, values: ['5'] },
  // More values than bulk evaluation looks for among the other clauses: tested on its own.
  { attribute: 'plan', operator: 'in' as const, values: Array.from({ length: 70 }, (_, i) => i === 69 ? 'pro' : `plan-${i}`) }
]
const variant = fc.constantFrom(...VARIANTS)
const rollout = fc.tuple(fc.nat(3), fc.nat(3), fc.integer({ min: 1, max: 3 })).map(([a, b, c]) => ({ a, b, c }))
const serve = fc.oneof(variant.map((v) => ({ variant: v })), rollout.map((r) => ({ rollout: r })))
const overrides = (ids: string[]): fc.Arbitrary<Map<string, OverrideSpec>> =>
  fc.dictionary(fc.constantFrom(...ids), fc.record({ enabled: fc.boolean(), variant: fc.option(fc.constantFrom(...VARIANTS, 'gone'), { nil: null }) }))
    .map((d) => new Map(Object.entries(d)))
const flagArb = fc.record({
  enabled: fc.boolean(),
  defaultVariant: variant,
  offVariant: variant,
  userIds: fc.subarray(['alice', 'bob']),
  customerIds: fc.subarray(['acme', 'globex']),
  rules: fc.array(fc.record({ clauses: fc.subarray(clauses, { minLength: 1, maxLength: 2 }), serve }), { maxLength: 3 }),
  fallthrough: fc.oneof(fc.integer({ min: 0, max: 100 }).map((percentage) => ({ percentage, rollout: null })), rollout.map((r) => ({ percentage: null, rollout: r }))),
  bucketBy: fc.constantFrom('user_id', 'targetingKey', 'country', 'seats'),
  users: overrides(['alice', 'carol', 'dave']),
  customers: overrides(['acme', 'initech'])
})
type FlagArb = typeof flagArb extends fc.Arbitrary<infer A> ? A : never

function compiled (spec: FlagArb, i: number): ReturnType<typeof compileFlag> {
  const def: FlagDefinition = {
    name: `f${String(i).padStart(2, '0')}`,
    type: 'string',
    enabled: spec.enabled,
    variants: Object.fromEntries(VARIANTS.map((v) => [v, v])),
    default_variant: spec.defaultVariant,
    off_variant: spec.offVariant,
    targeting_rules: {
      user_ids: spec.userIds,
      customer_ids: spec.customerIds,
      rules: spec.rules.map((rule, r) => ({ id: `r${r}`, ...rule })),
      percentage: spec.fallthrough.percentage,
      rollout: spec.fallthrough.rollout,
      bucket_by: spec.bucketBy
    },
    metadata: {},
    version: 1
  }
  const subjects: FlagOverrides = { users: spec.users, customers: spec.customers }
  return compileFlag(def, subjects)
}

const user = fc.oneof(fc.constantFrom('alice', 'bob', 'carol', 'dave'), fc.string())
const context: fc.Arbitrary<EvaluationContext> = fc.record({
  user_id: user,
  // OpenFeature's name for the user, read where user_id is absent.
  targetingKey: user,
  customer_id: fc.constantFrom('acme', 'globex', 'initech', 'other'),
  country: fc.constantFrom('DE', 'FR', 'US', 'de', ''),
  plan: fc.constantFrom('pro', ''),
  seats: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom('5', true))
}, { requiredKeys: [] })

t.test('choose, and chooseOne for a single flag: each flag\'s outcome is the object evaluate returns, or the fixed entry where the context cannot change it', async (t) => {
  let evaluated = 0
  let inferredFor = 0
  fc.assert(fc.property(fc.array(flagArb, { minLength: 1, maxLength: 6 }), fc.array(context, { minLength: 1, maxLength: 5 }), fc.integer({ min: NOW - 2 * 86_400_000, max: NOW }), (specs, contexts, now) => {
    const flags = specs.map(compiled)
    const plan = bulkPlanOf(flags)
    for (const ctx of contexts) {
      const chosen = choose(plan, ctx, now)
      if (chosen.length !== flags.length) return false
      for (let i = 0; i < flags.length; i++) {
        const fixed = fixedResult(flags[i])
        if (fixed === null) evaluated++
        // Each flag's own outcomes only: an index into another flag's would serve the wrong flag.
        if (chosen[i] < plan.starts[i] || chosen[i] >= plan.starts[i + 1]) return false
        if (plan.outcomes[chosen[i]] !== (fixed ?? evaluate(flags[i], ctx, now))) return false
        // One flag by its place: the same entry, except that a flag reading customer_id is given the
        // inferred context (here one naming a customer the overrides and id lists know), and only it.
        const at = plan.found.get(flags[i].name)
        if (at === undefined || isUnservableAt(at) || (at >= 0) !== (fixed === null)) return false
        const inferred = { ...ctx, customer_id: 'acme' }
        let asked = false
        const one = chooseOne(plan, at, ctx, now, () => { asked = true; return inferred })
        if (asked !== (flags[i].readsCustomer && fixed === null)) return false
        if (asked) inferredFor++
        if (plan.outcomes[one] !== (fixed ?? evaluate(flags[i], asked ? inferred : ctx, now))) return false
        if (!asked && one !== chosen[i]) return false
      }
    }
    return true
  }), { numRuns: 400 })
  t.ok(evaluated > 1000, `evaluated flags were chosen for (${evaluated})`)
  t.ok(inferredFor > 100, `flags that read customer_id were given the inferred context (${inferredFor})`)
})

t.test('found: a flag that cannot be served is told from one that can, and its entry is its unservable one', async (t) => {
  const spec = { enabled: true, defaultVariant: 'a', offVariant: 'b', userIds: [], customerIds: [], rules: [], bucketBy: 'user_id' as const, users: new Map(), customers: new Map(), fallthrough: { percentage: 50, rollout: null } }
  const good = compiled(spec, 0)
  const bad = compileFlag({ ...good.definition, name: 'f01', metadata: { x: null } as never })
  t.equal(bad.servable, false)
  const plan = bulkPlanOf([good, bad])
  const [good0, bad1] = [plan.found.get('f00'), plan.found.get('f01')]
  t.ok(good0 !== undefined && good0 >= 0 && !isUnservableAt(good0), 'the split flag is evaluated from its record')
  t.ok(bad1 !== undefined && isUnservableAt(bad1), 'the flag stored in a form that cannot be served is told apart')
  t.equal(chooseOne(plan, bad1 as number, {}, NOW, (c) => c), plan.starts[1])
  t.match(plan.outcomes[plan.starts[1]], { name: 'f01', error_code: 'GENERAL' })
  t.equal(plan.found.get('f02'), undefined)
})

t.test('the plan lists each flag\'s outcomes in flag order: a fixed flag\'s one entry, an evaluated flag\'s every result', async (t) => {
  const spec = { enabled: true, defaultVariant: 'a', offVariant: 'b', userIds: [], customerIds: [], rules: [], bucketBy: 'user_id' as const, users: new Map(), customers: new Map() }
  const fixed = compiled({ ...spec, fallthrough: { percentage: 100, rollout: null } }, 0)
  const split = compiled({ ...spec, fallthrough: { percentage: null, rollout: { a: 1, b: 1, c: 1 } } }, 1)
  const plan = bulkPlanOf([fixed, split])
  t.strictSame(plan.starts, [0, 1, 1 + split.results.length])
  t.equal(plan.outcomes[0], fixedResult(fixed))
  t.not(fixedResult(fixed), null)
  t.strictSame(plan.outcomes.slice(1), split.results)
  const served = new Set(Array.from({ length: 300 }, (_, i) => choose(plan, { user_id: `user-${i}` }, NOW)[1]))
  t.equal(served.size, 3, 'three variants of the rollout, three outcomes')
})

t.test('choose finds a result among thousands (the rule limit, each rule a rollout over 40 variants) by its place, the object evaluate returns', async (t) => {
  const variants = Object.fromEntries(Array.from({ length: 40 }, (_, v) => [`v${v}`, `v${v}`]))
  const rollout = Object.fromEntries(Object.keys(variants).map((v) => [v, 1]))
  const rules = Array.from({ length: RULE_LIMITS.rules }, (_, r) => ({ id: `r${r}`, clauses: [{ attribute: 'plan', operator: 'eq' as const, values: [`p${r}`] }], serve: { rollout } }))
  const big = (name: string): ReturnType<typeof compileFlag> => compileFlag(flagDefinition(name, {
    type: 'string', variants, default_variant: 'v0', off_variant: 'v1', targeting_rules: targeting({ rules, rollout })
  }), { users: new Map(), customers: new Map() })
  // A small flag first, so the big ones' places are counted from their own start, not the plan's.
  const flags = [compiled({ enabled: true, defaultVariant: 'a', offVariant: 'b', userIds: [], customerIds: [], rules: [], fallthrough: { percentage: 50, rollout: null }, bucketBy: 'user_id', users: new Map(), customers: new Map() }, 0), big('big-1'), big('big-2')]
  t.ok(flags[1].results.length > 4000, `${flags[1].results.length} results`)
  const plan = bulkPlanOf(flags)
  const places = new Set<number>()
  for (let c = 0; c < 500; c++) {
    const ctx = { user_id: `user-${c}`, plan: `p${(c * 7) % (RULE_LIMITS.rules + 1)}` }
    const chosen = choose(plan, ctx, NOW)
    flags.forEach((flag, i) => {
      if (chosen[i] < plan.starts[i] || chosen[i] >= plan.starts[i + 1]) t.fail(`flag ${i}: an index outside its own outcomes`)
      if (plan.outcomes[chosen[i]] !== evaluate(flag, ctx, NOW)) t.fail(`flag ${i}, context ${c}: not the result evaluate returns`)
    })
    places.add(chosen[2] - plan.starts[2])
  }
  t.ok(places.size > 300, `the contexts reached ${places.size} of the big flag's results, rules and fallthrough`)
  // Another plan over the same flags (a new revision) finds them the same way.
  const again = bulkPlanOf([flags[2], flags[1]])
  t.equal(again.outcomes[choose(again, { user_id: 'user-1', plan: 'p3' }, NOW)[0]], evaluate(flags[2], { user_id: 'user-1', plan: 'p3' }, NOW))
})

t.test('the subjects table is made again only when the flags holding overrides or id lists change, and every plan answers as evaluate does', async (t) => {
  const base = { enabled: true, defaultVariant: 'a', offVariant: 'b', rules: [], fallthrough: { percentage: 50, rollout: null }, bucketBy: 'user_id' as const }
  const none = { userIds: [], customerIds: [], users: new Map(), customers: new Map() }
  const spec = (users: Array<[string, OverrideSpec]>, customers: Array<[string, OverrideSpec]>, userIds: string[], customerIds: string[]): FlagArb =>
    ({ ...base, userIds, customerIds, users: new Map(users), customers: new Map(customers) })
  const a = compiled(spec([['alice', { enabled: true, variant: 'c' }]], [['acme', { enabled: false, variant: null }]], ['bob'], []), 1)
  const b = compiled(spec([], [['acme', { enabled: true, variant: 'b' }]], ['alice'], ['globex', 'acme']), 2)
  const plain = compiled({ ...base, ...none }, 3)
  const contexts: EvaluationContext[] = ['alice', 'bob', 'carol'].flatMap((user) => ['acme', 'globex', 'initech', undefined].map((customer) => ({ user_id: user, customer_id: customer })))
  const answersAsEvaluate = (flags: ReturnType<typeof compileFlag>[]): boolean => {
    const plan = bulkPlanOf(flags)
    return contexts.every((ctx) => {
      const chosen = choose(plan, ctx, NOW)
      return flags.every((flag, i) => {
        const at = plan.found.get(flag.name) as number
        return plan.outcomes[chosen[i]] === evaluate(flag, ctx, NOW) && plan.outcomes[chooseOne(plan, at, ctx, NOW, (c) => c)] === evaluate(flag, ctx, NOW)
      })
    })
  }
  const first = bulkPlanOf([a, b])
  t.ok(answersAsEvaluate([a, b]))
  // A revision that adds a flag without subjects, even before them: the same table.
  t.equal(bulkPlanOf([plain, a, b]).program.subjects, first.program.subjects, 'reused when a flag without subjects is added')
  t.ok(answersAsEvaluate([plain, a, b]))
  // The holders changed (one gone, one compiled again, their order, one added): a table of their own.
  const a2 = compiled(spec([['alice', { enabled: false, variant: 'a' }]], [], [], ['acme']), 1)
  const c = compiled(spec([], [], ['carol'], []), 4)
  for (const flags of [[b], [a2, b], [b, a], [a, b, c]]) {
    t.not(bulkPlanOf(flags).program.subjects, first.program.subjects, flags.map((f) => f.name).join(', '))
    t.ok(answersAsEvaluate(flags), flags.map((f) => f.name).join(', '))
  }
  t.equal(bulkPlanOf([plain]).program.subjects.size, 0, 'no holders, an empty table')
})

t.test('perPlan: made once per plan, again for another plan', async (t) => {
  let made = 0
  const sizeOf = perPlan((plan) => { made++; return plan.outcomes.length })
  const flags = [compiled({ enabled: false, defaultVariant: 'a', offVariant: 'b', userIds: [], customerIds: [], rules: [], fallthrough: { percentage: 100, rollout: null }, bucketBy: 'user_id', users: new Map(), customers: new Map() }, 0)]
  const plan = bulkPlanOf(flags)
  t.equal(sizeOf(plan), 1)
  t.equal(sizeOf(plan), 1)
  t.equal(made, 1)
  t.equal(sizeOf(bulkPlanOf([...flags])), 1)
  t.equal(made, 2, 'a new revision\'s list is a new plan')
})
