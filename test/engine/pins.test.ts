/**
 * Behaviour pinned by mutation testing (`npm run mutate`): each test here kills a mutant that
 * the rest of the engine suite let through.
 */
import t from 'tap'
import fc from 'fast-check'
import murmurhash from 'murmurhash'
import { compileFlag, evaluate, FlagCompileError } from '../../src/engine/index.js'
import type { Clause, EvaluationContext, FlagDefinition, Rule, TargetingRules } from '../../src/engine/index.js'

const NOW = Date.parse('2026-11-21T10:00:00.000Z')

function flag (rules: Rule[], tr: Partial<TargetingRules> = {}): FlagDefinition {
  return {
    name: 'checkout',
    type: 'string',
    enabled: true,
    variants: { on: 'on', off: 'off', blue: 'blue' },
    default_variant: 'on',
    off_variant: 'off',
    metadata: {},
    version: 1,
    targeting_rules: { user_ids: [], customer_ids: [], rules, percentage: 0, rollout: null, bucket_by: 'user_id', ...tr }
  }
}

function holds (clause: Clause, ctx: EvaluationContext): boolean {
  return evaluate(compileFlag(flag([{ id: 'r', clauses: [clause], serve: { variant: 'blue' } }])), ctx, NOW).variant === 'blue'
}

/** Runs `property` and makes one assertion: no counterexample, else the first one found. */
function holdsForAll<T> (t: { equal: (found: unknown, wanted: unknown, message: string) => unknown }, name: string, arb: fc.Arbitrary<T>, property: (x: T) => boolean): void {
  const out = fc.check(fc.property(arb, property), { numRuns: 200, seed: 13 })
  t.equal(out.failed ? JSON.stringify(out.counterexample) : null, null, name)
}

t.test('case-insensitive eq matches only its value, whatever the case', async (t) => {
  const word = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '')
  holdsForAll(t, 'eq/ci holds on the lowercased and uppercased value, not on a different one',
    fc.tuple(word, word),
    ([a, b]) => {
      const clause: Clause = { attribute: 'plan', operator: 'eq', values: [a], case_insensitive: true }
      if (!holds(clause, { plan: a.toLowerCase() }) || !holds(clause, { plan: a })) return false
      return a.toLowerCase() === b.toLowerCase() || !holds(clause, { plan: b })
    })
  t.notOk(holds({ attribute: 'plan', operator: 'eq', values: ['Pro'], case_insensitive: true }, { plan: 'free' }), 'Pro ≠ free')
  t.notOk(holds({ attribute: 'plan', operator: 'eq', values: ['Pro'], case_insensitive: true }, {}), 'absent attribute')
})

t.test('targeting by customer_ids or user_ids alone falls through with DEFAULT, not STATIC', async (t) => {
  const cases: [string, Partial<TargetingRules>][] = [
    ['customer_ids only', { customer_ids: ['acme'], percentage: 100 }],
    ['user_ids only', { user_ids: ['alice'], percentage: 100 }]
  ]
  const found = cases.map(([label, tr]) => [label, evaluate(compileFlag(flag([], tr)), { user_id: 'bob', customer_id: 'other' }, NOW).reason])
  t.same(found, cases.map(([label]) => [label, 'DEFAULT']))
  t.equal(evaluate(compileFlag(flag([], { percentage: 100 })), { user_id: 'bob' }, NOW).reason, 'STATIC', 'no targeting at all: STATIC')
})

t.test('an empty matches pattern is refused at compile time', async (t) => {
  const accepted = [[''], ['^a', '']].filter((values) => {
    try {
      compileFlag(flag([{ id: 'r', clauses: [{ attribute: 'user', operator: 'matches', values }], serve: { variant: 'blue' } }]))
      return true
    } catch (err) {
      return !(err instanceof FlagCompileError)
    }
  })
  t.same(accepted, [], 'every list with an empty pattern throws FlagCompileError')
})

t.test('bucket keys of any length hash like murmurhash.v3 of the UTF-8 bytes of seed + key', async (t) => {
  // A fresh module instance: its encoding buffer starts at 512 bytes.
  const b = await import(`../../src/engine/bucketing.js?fresh=${Date.now()}`) as typeof import('../../src/engine/bucketing.js')
  const ref = (seed: string, key: string): number => murmurhash.v3(Buffer.from(seed + key, 'utf8'), 0)
  const failures: string[] = []
  const check = (seed: string, key: string): void => {
    if (b.hashBucketKey(seed, key) !== ref(seed, key)) failures.push(`hashBucketKey(${seed.length}, ${key.length})`)
    const split = b.compileSplit(seed, [['a', 50], ['b', 50]])
    const want = (BigInt(ref(seed, key)) * 2n) >> 32n
    if (b.bucketIndex(split, key) !== Number(want)) failures.push(`bucketIndex(${seed.length}, ${key.length})`)
  }
  // Short keys first, across the 512 bytes boundary, then well past it (the buffer grows), then short
  // keys again (encoded into the new buffer).
  const lengths = [0, 1, 2, 3, 4, 5, 100, 250, 251, 252, 253, 254, 255, 256, 257, 258, 300, 505, 506, 507, 508, 509, 510, 511, 512, 513, 514, 600, 1023, 1024, 1025, 2000, 5000]
  for (const seed of ['', 'flag-', 'fläg']) {
    for (const n of [...lengths, ...lengths.reverse()]) {
      check(seed, 'k'.repeat(n))
      check(seed, 'x'.repeat(Math.max(0, n - 2)) + 'é')
      check(seed, '€'.repeat(Math.ceil(n / 3)))
      check(seed, '\u0080'.repeat(Math.ceil(n / 2)))
      check(seed, 'a'.repeat(Math.floor(n / 2)) + '😀' + 'b'.repeat(Math.floor(n / 3)))
    }
  }
  fc.assert(fc.property(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 700 }), (seed, key) => { check(seed, key) }), { numRuns: 300, seed: 13 })
  t.same(failures.slice(0, 3), [], `${failures.length} failures`)
})

t.test('bucketIndex alone grows the buffer for long keys, and an empty split is -1', async (t) => {
  // Fresh again, and no hashBucketKey call: bucketIndex must make room for the key itself.
  const b = await import(`../../src/engine/bucketing.js?bucketIndex=${Date.now()}`) as typeof import('../../src/engine/bucketing.js')
  const failures: string[] = []
  for (const n of [10, 300, 600, 1500, 4000, 9000]) {
    for (const key of ['k'.repeat(n), 'é'.repeat(n), '\u0080'.repeat(n), '€'.repeat(n)]) {
      const split = b.compileSplit('seed', [['a', 50], ['b', 50]])
      const want = Number((BigInt(murmurhash.v3(Buffer.from('seed' + key, 'utf8'), 0)) * 2n) >> 32n)
      if (b.bucketIndex(split, key) !== want) failures.push(`${key.slice(0, 1)} × ${n}`)
    }
  }
  t.same(failures, [], 'bucketIndex agrees with murmurhash')
  const empty = b.compileSplit('seed', [['a', 0], ['b', 0]])
  t.same([b.indexForHash(empty, 5), b.bucketIndex(empty, 'k'), b.pickVariant(empty, 'k')], [-1, -1, undefined], 'an all-zero split serves nothing')
})
