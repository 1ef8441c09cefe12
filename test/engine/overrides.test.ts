import t from 'tap'
import { compileFlag, evaluate } from '../../src/engine/index.js'
import type { FlagDefinition, OverrideSpec } from '../../src/engine/types.js'

const def = (over: Partial<FlagDefinition> = {}): FlagDefinition => ({
  name: 'f',
  type: 'string',
  enabled: true,
  variants: { on: 'new', off: 'old', beta: 'beta' },
  default_variant: 'on',
  off_variant: 'off',
  targeting_rules: { user_ids: ['listed'], customer_ids: ['acme'], rules: [], percentage: 0, rollout: null, bucket_by: 'user_id' },
  metadata: {},
  version: 1,
  ...over
})
const map = (entries: Record<string, OverrideSpec>): Map<string, OverrideSpec> => new Map(Object.entries(entries))

t.test('SPEC §2.4 steps 3 and 4: user override, then customer override, before every other targeting', async (t) => {
  const flag = compileFlag(def(), {
    users: map({ u_on: { enabled: true, variant: null }, u_off: { enabled: false, variant: null }, u_beta: { enabled: true, variant: 'beta' }, listed: { enabled: false, variant: null } }),
    customers: map({ c_on: { enabled: true, variant: null }, acme: { enabled: false, variant: null }, c_beta: { enabled: false, variant: 'beta' } })
  })
  const at = (ctx: Record<string, string>) => { const r = evaluate(flag, ctx, 0); return [r.value, r.reason, r.rule] }
  t.same(at({ user_id: 'u_on' }), ['new', 'TARGETING_MATCH', 'user_override'])
  t.same(at({ user_id: 'u_off' }), ['old', 'TARGETING_MATCH', 'user_override'])
  t.same(at({ user_id: 'u_beta' }), ['beta', 'TARGETING_MATCH', 'user_override'], 'its variant')
  t.same(at({ targetingKey: 'u_on' }), ['new', 'TARGETING_MATCH', 'user_override'], 'targetingKey is user_id')
  t.same(at({ user_id: 'listed' }), ['old', 'TARGETING_MATCH', 'user_override'], 'an override beats user_ids')
  t.same(at({ customer_id: 'c_on' }), ['new', 'TARGETING_MATCH', 'customer_override'])
  t.same(at({ customer_id: 'acme' }), ['old', 'TARGETING_MATCH', 'customer_override'], 'a customer override beats customer_ids')
  t.same(at({ customer_id: 'c_beta' }), ['beta', 'TARGETING_MATCH', 'customer_override'], 'variant wins over enabled=false')
  t.same(at({ user_id: 'u_off', customer_id: 'c_on' }), ['old', 'TARGETING_MATCH', 'user_override'], 'user beats customer')
  t.same(at({ user_id: 'nobody', customer_id: 'c_on' }), ['new', 'TARGETING_MATCH', 'customer_override'])
  t.same(at({ user_id: 'nobody' }), ['old', 'DEFAULT', 'fallthrough'])
})

t.test('the kill switch beats overrides', async (t) => {
  const flag = compileFlag(def({ enabled: false }), { users: map({ u: { enabled: true, variant: 'beta' } }), customers: new Map() })
  t.match(evaluate(flag, { user_id: 'u' }, 0), { value: 'old', reason: 'DISABLED', rule: 'disabled' })
})

t.test('an override naming a variant the flag no longer has falls back by enabled', async (t) => {
  const flag = compileFlag(def(), { users: map({ a: { enabled: true, variant: 'gone' }, b: { enabled: false, variant: 'gone' } }), customers: new Map() })
  t.match(evaluate(flag, { user_id: 'a' }, 0), { variant: 'on', rule: 'user_override' })
  t.match(evaluate(flag, { user_id: 'b' }, 0), { variant: 'off', rule: 'user_override' })
})

t.test('a flag with overrides is not STATIC at 100 %', async (t) => {
  const plain = def({ targeting_rules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' } })
  t.equal(evaluate(compileFlag(plain), { user_id: 'x' }, 0).reason, 'STATIC')
  t.equal(evaluate(compileFlag(plain, { users: map({ y: { enabled: false, variant: null } }), customers: new Map() }), { user_id: 'x' }, 0).reason, 'DEFAULT')
})

t.test('100,000 overrides: lookups stay exact', async (t) => {
  const users = new Map<string, OverrideSpec>()
  for (let i = 0; i < 100_000; i++) users.set(`user-${i}`, { enabled: i % 2 === 0, variant: null })
  const flag = compileFlag(def(), { users, customers: new Map() })
  t.equal(evaluate(flag, { user_id: 'user-99998' }, 0).value, 'new')
  t.equal(evaluate(flag, { user_id: 'user-99999' }, 0).value, 'old')
  t.equal(evaluate(flag, { user_id: 'user-100000' }, 0).rule, 'fallthrough')
})
