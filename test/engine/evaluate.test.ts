import fc from 'fast-check'
import t from 'tap'
import { compileFlag, evaluate, fixedResult, FlagCompileError } from '../../src/engine/index.js'
import type { EvaluationContext, FlagDefinition, TargetingRules } from '../../src/engine/index.js'
import { differs, failing, range } from '../support/cases.js'

const NOW = Date.parse('2026-11-21T10:00:00.000Z')

function flag (overrides: Partial<Omit<FlagDefinition, 'targeting_rules'>> = {}, rules: Partial<TargetingRules> = {}): FlagDefinition {
  return {
    name: 'new_checkout_flow',
    type: 'boolean',
    enabled: true,
    variants: { on: true, off: false },
    default_variant: 'on',
    off_variant: 'off',
    metadata: {},
    version: 3,
    ...overrides,
    targeting_rules: {
      user_ids: [],
      customer_ids: [],
      rules: [],
      percentage: 100,
      rollout: null,
      bucket_by: 'user_id',
      ...rules
    }
  }
}

function run (def: FlagDefinition, context: EvaluationContext) {
  return evaluate(compileFlag(def), context, NOW)
}

t.test('result shape', async (t) => {
  t.same(run(flag(), { user_id: 'anyone' }), {
    name: 'new_checkout_flow',
    value: true,
    variant: 'on',
    reason: 'STATIC',
    type: 'boolean',
    version: 3,
    rule: 'fallthrough',
    metadata: {}
  })
})

t.test('every result carries the flag metadata, by reference', async (t) => {
  const metadata = { owner: 'checkout-team', ticket: 1234, experimental: true }
  const cases: [string, FlagDefinition, EvaluationContext][] = [
    ['disabled', flag({ metadata, enabled: false }), { user_id: 'x' }],
    ['user_ids', flag({ metadata }, { user_ids: ['alice'], percentage: 0 }), { user_id: 'alice' }],
    ['customer_ids', flag({ metadata }, { customer_ids: ['acme'], percentage: 0 }), { customer_id: 'acme' }],
    ['rule', flag({ metadata }, { rules: [{ id: 'r1', clauses: [], serve: { variant: 'on' } }] }), {}],
    ['static', flag({ metadata }), {}],
    ['split', flag({ metadata }, { percentage: 50 }), { user_id: 'bob' }],
    ['split, missing key', flag({ metadata }, { percentage: 50 }), {}]
  ]
  t.same(failing(cases, ([name, def, ctx]) => run(def, ctx).metadata === metadata ? undefined : { case: name, metadata: run(def, ctx).metadata }), [],
    'disabled, user_ids, customer_ids, rule, static, split and missing-key results all carry the definition\'s own metadata object')
  const bare = { ...flag() } as Partial<FlagDefinition>
  delete bare.metadata
  t.same(run(bare as FlagDefinition, {}).metadata, {}, 'a definition without metadata gets {}')
})

t.test('every step and reason', async (t) => {
  const targeted = { user_ids: ['alice', 'bob', '42'], customer_ids: ['acme', '7'], percentage: 0 }
  const cases: {
    name: string
    def: FlagDefinition
    ctx: EvaluationContext
    variant: string
    value: unknown
    reason: string
    rule: string
  }[] = [
    { name: 'disabled', def: flag({ enabled: false }), ctx: { user_id: 'x' }, variant: 'off', value: false, reason: 'DISABLED', rule: 'disabled' },
    { name: 'disabled beats user_ids', def: flag({ enabled: false }, targeted), ctx: { user_id: 'alice' }, variant: 'off', value: false, reason: 'DISABLED', rule: 'disabled' },
    { name: 'disabled beats customer_ids', def: flag({ enabled: false }, targeted), ctx: { customer_id: 'acme' }, variant: 'off', value: false, reason: 'DISABLED', rule: 'disabled' },
    { name: 'user_ids', def: flag({}, targeted), ctx: { user_id: 'alice' }, variant: 'on', value: true, reason: 'TARGETING_MATCH', rule: 'user_ids' },
    { name: 'user_ids via targetingKey', def: flag({}, targeted), ctx: { targetingKey: 'bob' }, variant: 'on', value: true, reason: 'TARGETING_MATCH', rule: 'user_ids' },
    { name: 'user_id preferred over targetingKey', def: flag({}, targeted), ctx: { user_id: 'mallory', targetingKey: 'bob' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'user_ids by String() of a number', def: flag({}, targeted), ctx: { user_id: 42 }, variant: 'on', value: true, reason: 'TARGETING_MATCH', rule: 'user_ids' },
    { name: 'user_ids beats customer_ids', def: flag({}, targeted), ctx: { user_id: 'alice', customer_id: 'acme' }, variant: 'on', value: true, reason: 'TARGETING_MATCH', rule: 'user_ids' },
    { name: 'customer_ids', def: flag({}, targeted), ctx: { user_id: 'mallory', customer_id: 'acme' }, variant: 'on', value: true, reason: 'TARGETING_MATCH', rule: 'customer_ids' },
    { name: 'customer_ids by String() of a number', def: flag({}, targeted), ctx: { customer_id: 7 }, variant: 'on', value: true, reason: 'TARGETING_MATCH', rule: 'customer_ids' },
    { name: 'user id is not a customer id', def: flag({}, targeted), ctx: { user_id: 'acme' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'targeted, unmatched, 0 %', def: flag({}, targeted), ctx: { user_id: 'mallory' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'targeted, unmatched, 100 %', def: flag({}, { ...targeted, percentage: 100 }), ctx: { user_id: 'mallory' }, variant: 'on', value: true, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'no targeting, 100 %', def: flag(), ctx: {}, variant: 'on', value: true, reason: 'STATIC', rule: 'fallthrough' },
    { name: 'no targeting, 0 %', def: flag({}, { percentage: 0 }), ctx: { user_id: 'alice' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'rules present, 100 % is DEFAULT', def: flag({}, { rules: [{ id: 'r1', clauses: [{ attribute: 'country', operator: 'eq', values: ['FR'] }], serve: { variant: 'off' } }] }), ctx: { user_id: 'x' }, variant: 'on', value: true, reason: 'DEFAULT', rule: 'fallthrough' },
    // Buckets below: floor(murmur3("new_checkout_flow" + id) * 10000 / 2^32) — bob 1554, alice 5974, 42 5029.
    { name: '50 % split, in', def: flag({}, { percentage: 50 }), ctx: { user_id: 'bob' }, variant: 'on', value: true, reason: 'SPLIT', rule: 'fallthrough' },
    { name: '50 % split, out', def: flag({}, { percentage: 50 }), ctx: { user_id: 'alice' }, variant: 'off', value: false, reason: 'SPLIT', rule: 'fallthrough' },
    { name: '50.3 % split, number id just in', def: flag({}, { percentage: 50.3 }), ctx: { user_id: 42 }, variant: 'on', value: true, reason: 'SPLIT', rule: 'fallthrough' },
    { name: '50.29 % split, number id just out', def: flag({}, { percentage: 50.29 }), ctx: { user_id: 42 }, variant: 'off', value: false, reason: 'SPLIT', rule: 'fallthrough' },
    { name: 'split on targetingKey', def: flag({}, { percentage: 50 }), ctx: { targetingKey: 'bob' }, variant: 'on', value: true, reason: 'SPLIT', rule: 'fallthrough' },
    { name: 'split, missing user_id', def: flag({}, { percentage: 50 }), ctx: { customer_id: 'acme' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'split, empty user_id', def: flag({}, { percentage: 50 }), ctx: { user_id: '' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'split, undefined user_id', def: flag({}, { percentage: 50 }), ctx: { user_id: undefined }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    // bucket_by customer_id: globex 828, initech 368 (in), acme 8739 (out).
    { name: 'bucket_by customer_id, in', def: flag({}, { percentage: 50, bucket_by: 'customer_id' }), ctx: { user_id: 'alice', customer_id: 'globex' }, variant: 'on', value: true, reason: 'SPLIT', rule: 'fallthrough' },
    { name: 'bucket_by customer_id, out', def: flag({}, { percentage: 50, bucket_by: 'customer_id' }), ctx: { user_id: 'bob', customer_id: 'acme' }, variant: 'off', value: false, reason: 'SPLIT', rule: 'fallthrough' },
    { name: 'bucket_by customer_id, missing', def: flag({}, { percentage: 50, bucket_by: 'customer_id' }), ctx: { user_id: 'bob' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' },
    { name: 'empty bucket_by means user_id', def: flag({}, { percentage: 50, bucket_by: '' }), ctx: { user_id: 'bob', customer_id: 'acme' }, variant: 'on', value: true, reason: 'SPLIT', rule: 'fallthrough' },
    { name: 'bucket_by inherited name is missing', def: flag({}, { percentage: 50, bucket_by: 'constructor' }), ctx: { user_id: 'bob' }, variant: 'off', value: false, reason: 'DEFAULT', rule: 'fallthrough' }
  ]
  t.same(failing(cases, (c) => {
    const r = run(c.def, c.ctx)
    return differs(c.name, { variant: r.variant, value: r.value, reason: r.reason, rule: r.rule }, { variant: c.variant, value: c.value, reason: c.reason, rule: c.rule })
  }), [], `all ${cases.length} cases: variant, value, reason and rule as listed`)
})

t.test('rollout over variant names', async (t) => {
  // theme 20/30/50: carol 725 → red, alice 2669 → blue, bob 7239 → green, 42 1743 → red.
  const def = flag(
    { name: 'theme', type: 'string', variants: { red: '#f00', blue: '#00f', green: '#0f0', none: '' }, default_variant: 'red', off_variant: 'none' },
    { rollout: { red: 20, blue: 30, green: 50 }, percentage: null }
  )
  const compiled = compileFlag(def)
  const expect: [EvaluationContext, string, string][] = [
    [{ user_id: 'carol' }, 'red', '#f00'],
    [{ user_id: 'alice' }, 'blue', '#00f'],
    [{ user_id: 'bob' }, 'green', '#0f0'],
    [{ user_id: 42 }, 'red', '#f00'],
    [{ targetingKey: 'bob' }, 'green', '#0f0']
  ]
  for (const [ctx, variant, value] of expect) {
    const r = evaluate(compiled, ctx, NOW)
    t.same([r.variant, r.value, r.reason, r.rule], [variant, value, 'SPLIT', 'fallthrough'], JSON.stringify(ctx))
  }
  const missing = evaluate(compiled, { country: 'DE' }, NOW)
  t.same([missing.variant, missing.value, missing.reason], ['none', '', 'DEFAULT'])
  t.equal(compiled.noTargeting, false, 'a rollout is targeting')
})

t.test('rollout reproduces flagd testkit flags end to end', async (t) => {
  // /work/shared/reference/flagd-testbed/evaluator/gherkin/fractional.feature (@fractional-v2):
  // "fractional-flag-shorthand" hashes flagKey + targetingKey, ["heads"] (weight 1) vs ["tails", 1].
  const shorthand = compileFlag(
    flag(
      { name: 'fractional-flag-shorthand', type: 'string', variants: { heads: 'heads', tails: 'tails', draw: 'draw' }, default_variant: 'draw', off_variant: 'draw' },
      { rollout: { heads: 50, tails: 50 }, percentage: null }
    )
  )
  t.equal(evaluate(shorthand, { targetingKey: 'jon@company.com' }, NOW).variant, 'heads')
  t.equal(evaluate(shorthand, { targetingKey: 'jane@company.com' }, NOW).variant, 'tails')

  // "fractional-flag" buckets on cat($flagd.flagKey, user.name); bucket_by a flat "name" attribute is the same input.
  const suits = compileFlag(
    flag(
      { name: 'fractional-flag', type: 'string', variants: { clubs: 'clubs', diamonds: 'diamonds', hearts: 'hearts', spades: 'spades', wild: 'wild' }, default_variant: 'wild', off_variant: 'wild' },
      { rollout: { clubs: 25, diamonds: 25, hearts: 25, spades: 25 }, percentage: null, bucket_by: 'name' }
    )
  )
  const v2: [string | number, string][] = [['jack', 'hearts'], ['queen', 'spades'], ['ten', 'clubs'], ['nine', 'diamonds'], ['3', 'clubs'], [3, 'clubs']]
  t.same(failing(v2, ([name, variant]) => differs(`fractional-flag ${name}`, evaluate(suits, { name }, NOW).variant, variant)), [], 'fractional-flag v2 vectors')
})

t.test('all-zero rollout serves the off variant, DEFAULT', async (t) => {
  const r = run(flag({}, { rollout: { on: 0, off: 0 }, percentage: null }), { user_id: 'bob' })
  t.same([r.variant, r.reason], ['off', 'DEFAULT'])
})

t.test('zero-weight rollout variant is never served', async (t) => {
  const f = compileFlag(flag({ variants: { on: true, off: false } }, { rollout: { off: 0, on: 100 }, percentage: null }))
  t.same(failing(range(2000), (i) => differs(`u${i}`, evaluate(f, { user_id: `u${i}` }, NOW).variant, 'on')), [], 'u0 … u1999 all get on')
})

function share (def: FlagDefinition, variant: string, n = 100_000): number {
  const f = compileFlag(def)
  let hits = 0
  for (let i = 0; i < n; i++) if (evaluate(f, { user_id: `user-${i}` }, NOW).variant === variant) hits++
  return (hits / n) * 100
}

t.test('distribution over 100k ids within ±1 point', async (t) => {
  for (const p of [25, 50, 90.5]) {
    const got = share(flag({}, { percentage: p }), 'on')
    t.ok(Math.abs(got - p) <= 1, `${p}% → ${got.toFixed(2)}%`)
  }
  const def = flag(
    { name: 'theme', type: 'string', variants: { red: 'r', blue: 'b', green: 'g', none: '' }, default_variant: 'red', off_variant: 'none' },
    { rollout: { red: 20, blue: 30, green: 50 }, percentage: null }
  )
  const f = compileFlag(def)
  const counts: Record<string, number> = { red: 0, blue: 0, green: 0, none: 0 }
  const n = 100_000
  for (let i = 0; i < n; i++) counts[evaluate(f, { user_id: `user-${i}` }, NOW).variant]++
  t.equal(counts.none, 0)
  for (const [variant, weight] of [['red', 20], ['blue', 30], ['green', 50]] as const) {
    const got = (counts[variant] / n) * 100
    t.ok(Math.abs(got - weight) <= 1, `${variant} ${weight}% → ${got.toFixed(2)}%`)
  }
})

t.test('raising the percentage never drops anyone who was in', async (t) => {
  const steps = [10, 20, 50, 100]
  const flags = steps.map((p) => compileFlag(flag({}, { percentage: p })))
  let previous: Set<string> | null = null
  for (let s = 0; s < steps.length; s++) {
    const inNow = new Set<string>()
    for (let i = 0; i < 20_000; i++) {
      const id = `user-${i}`
      if (evaluate(flags[s], { user_id: id }, NOW).variant === 'on') inNow.add(id)
    }
    if (previous !== null) {
      let dropped = 0
      for (const id of previous) if (!inNow.has(id)) dropped++
      t.equal(dropped, 0, `${steps[s - 1]}% → ${steps[s]}%`)
      t.ok(inNow.size > previous.size, `${steps[s]}% adds people`)
    }
    previous = inNow
  }
  t.equal(previous?.size, 20_000, '100% is everyone')
})

t.test('deterministic: same context, same variant, across compiles', async (t) => {
  const a = compileFlag(flag({}, { percentage: 37.5 }))
  const b = compileFlag(flag({}, { percentage: 37.5 }))
  t.same(failing(range(1000), (i) => {
    const ctx = { user_id: `user-${i}`, country: 'DE' }
    const first = evaluate(a, ctx, NOW)
    return differs(ctx.user_id, { again: evaluate(a, ctx, NOW), recompiled: evaluate(b, ctx, NOW) }, { again: first, recompiled: first })
  }), [], 'user-0 … user-999: the same result on a second call and from a second compile')
})

t.test('buckets depend on the flag name', async (t) => {
  const a = compileFlag(flag({ name: 'flag-a' }, { percentage: 50 }))
  const b = compileFlag(flag({ name: 'flag-b' }, { percentage: 50 }))
  let differ = 0
  for (let i = 0; i < 1000; i++) {
    const ctx = { user_id: `user-${i}` }
    if (evaluate(a, ctx, NOW).variant !== evaluate(b, ctx, NOW).variant) differ++
  }
  t.ok(differ > 400 && differ < 600, `independent flags disagree about half the time (${differ}/1000)`)
})

t.test('values are returned by reference, not cloned', async (t) => {
  const config = { theme: 'dark', limits: [1, 2, 3] }
  const def = flag({ type: 'json', variants: { on: config, off: null } })
  const r = run(def, { user_id: 'x' })
  t.equal(r.value, config)
  t.equal(compileFlag(def).definition, def)
})

t.test('compileFlag rejects what evaluation could not serve', async (t) => {
  const cases: [string, FlagDefinition, string][] = [
    ['unknown default variant', flag({ default_variant: 'nope' }), 'default_variant'],
    ['unknown off variant', flag({ off_variant: 'nope' }), 'off_variant'],
    ['inherited name is not a variant', flag({ default_variant: 'toString' }), 'default_variant'],
    ['unknown rollout variant', flag({}, { rollout: { on: 50, blue: 50 }, percentage: null }), 'targeting_rules.rollout.blue'],
    ['negative rollout weight', flag({}, { rollout: { on: -1, off: 101 }, percentage: null }), 'targeting_rules.rollout.on'],
    ['no percentage and no rollout', flag({}, { percentage: null }), 'targeting_rules.percentage'],
    ['percentage above 100', flag({}, { percentage: 100.5 }), 'targeting_rules.percentage'],
    ['negative percentage', flag({}, { percentage: -1 }), 'targeting_rules.percentage']
  ]
  t.same(failing(cases, ([name, def, field]) => {
    try {
      compileFlag(def)
    } catch (err) {
      return err instanceof FlagCompileError ? differs(name, err.field, field) : { case: name, thrown: String(err) }
    }
    return { case: name, thrown: 'nothing' }
  }), [], `each of ${cases.length} definitions throws FlagCompileError naming its field`)
})

t.test('evaluate never throws on odd contexts', async (t) => {
  const f = compileFlag(flag({}, { user_ids: ['a'], customer_ids: ['c'], percentage: 50 }))
  const odd = [{}, { user_id: true }, { user_id: Number.NaN }, { user_id: null }, { customer_id: { x: 1 } }, Object.create(null)]
  t.same(failing(odd, (ctx) => {
    try { evaluate(f, ctx as EvaluationContext, NOW) } catch (err) { return { case: JSON.stringify(ctx), thrown: String(err) } }
    return undefined
  }), [], 'booleans, NaN, null, objects and a prototype-less context never throw')
  t.same(evaluate(f, { user_id: null } as unknown as EvaluationContext, NOW).reason, 'DEFAULT')
})

t.test('results are made once per flag: the same frozen object for the same step and variant', async (t) => {
  const compiled = compileFlag(flag({}, { user_ids: ['alice'], percentage: 50, rules: [{ id: 'de', clauses: [{ attribute: 'country', operator: 'eq', values: ['DE'] }], serve: { variant: 'on' } }] }))
  for (const context of [{ user_id: 'alice' }, { user_id: 'bob', country: 'DE' }, { user_id: 'carol' }, {}]) {
    const first = evaluate(compiled, context, NOW)
    t.equal(evaluate(compiled, { ...context }, NOW + 1), first, `${JSON.stringify(context)}: the same object again`)
    t.ok(Object.isFrozen(first), 'frozen: a caller cannot change what the next one is served')
    t.throws(() => { (first as { value: unknown }).value = 'changed' }, TypeError)
  }
  const results = new Set(Array.from({ length: 200 }, (_, i) => evaluate(compiled, { user_id: `user-${i}` }, NOW)))
  t.equal(results.size, 2, 'two hundred users of a 50 % split: two result objects, in and out')
})

t.test('fixedResult: what every context gets whenever the context cannot change it, else null', async (t) => {
  const rule = { id: 'de', clauses: [{ attribute: 'country', operator: 'eq' as const, values: ['DE'] }], serve: { variant: 'on' } }
  const fixed: Array<[string, FlagDefinition, Record<string, { enabled: boolean, variant: string | null }>?]> = [
    ['no targeting, 100 %', flag()],
    ['no targeting, 0 %', flag({}, { percentage: 0 })],
    ['switched off, with every kind of targeting', flag({ enabled: false }, { user_ids: ['alice'], customer_ids: ['acme'], rules: [rule], percentage: 50 }), { bob: { enabled: true, variant: null } }],
    ['a json flag', flag({ type: 'json', variants: { on: { a: [1] }, off: null } })]
  ]
  const dynamic: Array<[string, FlagDefinition, Record<string, { enabled: boolean, variant: string | null }>?]> = [
    ['user_ids', flag({}, { user_ids: ['alice'] })],
    ['customer_ids', flag({}, { customer_ids: ['acme'], percentage: 0 })],
    ['a rule', flag({}, { rules: [rule] })],
    ['a split', flag({}, { percentage: 50 })],
    ['a rollout', flag({}, { percentage: null, rollout: { on: 1, off: 1 } })],
    ['a user override only', flag(), { alice: { enabled: false, variant: null } }]
  ]
  const compile = (def: FlagDefinition, users?: Record<string, { enabled: boolean, variant: string | null }>) =>
    compileFlag(def, users === undefined ? undefined : { users: new Map(Object.entries(users)), customers: new Map() })
  t.same(dynamic.filter(([, def, users]) => fixedResult(compile(def, users)) !== null).map(([name]) => name), [], 'null wherever the context can decide')
  const context = fc.dictionary(fc.constantFrom('user_id', 'customer_id', 'country', 'targetingKey', 'plan'), fc.oneof(fc.string(), fc.constantFrom('alice', 'bob', 'acme', 'DE'), fc.integer()))
  for (const [name, def, users] of fixed) {
    const compiled = compile(def, users)
    const result = fixedResult(compiled)
    t.not(result, null, `${name}: fixed`)
    fc.assert(fc.property(context, fc.integer({ min: 0, max: 4_102_444_800_000 }), (ctx, now) => evaluate(compiled, ctx, now) === result),
      { numRuns: 300 })
  }
})
