import t from 'tap'
import { compileFlag, evaluate, memoized, resultMemo, type EvaluationResult, type FlagDefinition } from '../../src/engine/index.js'

const def: FlagDefinition = {
  name: 'memo',
  type: 'string',
  enabled: true,
  version: 3,
  metadata: {},
  variants: { red: 'R', blue: 'B' },
  default_variant: 'red',
  off_variant: 'blue',
  targeting_rules: { user_ids: ['alice'], customer_ids: [], rules: [], percentage: 50, rollout: null, bucket_by: 'user_id' }
}

t.test('a result carries its memo where nothing that reads or copies it sees it', async (t) => {
  const result = evaluate(compileFlag(def), { user_id: 'alice' }, 0)
  const plain = { name: 'memo', value: 'R', variant: 'red', reason: 'TARGETING_MATCH', type: 'string', version: 3, rule: 'user_ids', metadata: {} }
  t.strictSame(result, plain, 'deep equality sees the result alone')
  t.equal(JSON.stringify(result), JSON.stringify(plain), 'JSON too')
  t.strictSame(Object.keys(result), Object.keys(plain))
  t.strictSame(Object.getOwnPropertySymbols({ ...result }), [], 'a copy does not carry it')
  t.ok(Object.isFrozen(result), 'and the result stays frozen')
})

t.test('memoized makes a value once per result, each kind its own, and keeps values of objects made elsewhere too', async (t) => {
  const flag = compileFlag(def)
  let made = 0
  const upper = memoized((r: EvaluationResult) => { made++; return r.variant.toUpperCase() })
  const length = memoized((r: EvaluationResult) => r.variant.length)
  const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']
  const results = users.map((user) => evaluate(flag, { user_id: user }, 0))
  const distinct = new Set(results).size
  t.ok(distinct >= 2 && distinct < users.length, 'some users share a result object')
  t.strictSame(results.map(upper), results.map((r) => r.variant.toUpperCase()))
  t.strictSame(results.map(length), results.map((r) => r.variant.length), 'another kind of value does not see the first')
  t.equal(made, distinct, 'made once per result object')
  results.forEach(upper)
  t.equal(made, distinct, 'and never again')

  const elsewhere = { ...results[0] }
  t.equal(upper(elsewhere), results[0].variant.toUpperCase())
  t.equal(upper(elsewhere), results[0].variant.toUpperCase())
  t.equal(made, distinct + 1, 'an object without a memo keeps its value too')

  const memo = resultMemo<EvaluationResult, number>()
  t.equal(memo.get(results[0]), undefined)
  memo.set(results[0], 7)
  t.equal(memo.get(results[0]), 7)
  t.equal(memo.get(compileFlag(def).outcomes.disabled), undefined, 'a recompiled flag starts afresh')
})
