import t from 'tap'
import murmurhash from 'murmurhash'
import {
  bucketIndex,
  compilePercentageSplit,
  compileSplit,
  hashBucketKey,
  indexForHash,
  pickVariant,
  scaleWeight
} from '../../src/engine/bucketing.js'
import { compileFlag, evaluate } from '../../src/engine/evaluate.js'
import { differs, failing } from '../support/cases.js'
import type { FlagDefinition } from '../../src/engine/types.js'

/** Independent reference: the SPEC formula written the slow, obvious way with BigInt (seed = flag name unless set). */
function referencePick (seed: string, value: string, entries: [string, number][]): string | undefined {
  const h = BigInt(murmurhash.v3(Buffer.from(seed + value, 'utf8'), 0))
  const scaled = entries.map(([, w]) => BigInt(Math.round(w * 100)))
  const total = scaled.reduce((a, b) => a + b, 0n)
  if (total === 0n) return undefined
  const bucket = (h * total) >> 32n
  let cumulative = 0n
  for (let i = 0; i < entries.length; i++) {
    cumulative += scaled[i]
    if (bucket < cumulative) return entries[i][0]
  }
  return undefined
}

t.test('murmur3_x86_32 known vectors (seed 0, unsigned)', async (t) => {
  t.equal(hashBucketKey('', ''), 0)
  t.equal(hashBucketKey('', 'a'), 0x3c2569b2)
  t.equal(hashBucketKey('', 'hello'), 0x248bfa47)
  t.equal(hashBucketKey('', 'The quick brown fox jumps over the lazy dog'), 0x2e4ff723)
  // The split point between flag name and value does not matter: it is one byte string.
  t.equal(hashBucketKey('The quick brown ', 'fox jumps over the lazy dog'), 0x2e4ff723)
  t.equal(hashBucketKey('hel', 'lo'), 0x248bfa47)
})

t.test('non-ASCII keys hash their UTF-8 bytes', async (t) => {
  const cases = ['héllo', '🚀 launch', 'ü', '日本語ユーザー', 'a\u00e9b\u{1F600}c', 'x'.repeat(7) + 'é']
  const keyed = cases.flatMap((s) => [['', s], ['flag-', s]])
  t.same(failing(keyed, ([seed, s]) => differs(seed + s, hashBucketKey(seed, s), murmurhash.v3(Buffer.from(seed + s, 'utf8'), 0))), [],
    'accents, emoji, CJK and multi-byte tails, with and without a seed, hash as murmurhash over their UTF-8 bytes')
  t.equal(hashBucketKey('', 'héllo'), 0xbc9fa068)
  // Lone surrogates become U+FFFD, exactly as Buffer.from does.
  t.equal(hashBucketKey('', 'a\ud800b'), murmurhash.v3(Buffer.from('a\ud800b', 'utf8'), 0))
})

t.test('a split hashes on from its seed at every offset: each seed and value length from 0 to 8 bytes', async (t) => {
  // The seed's hash is worked out once (its whole 4-byte blocks and the bytes left over); the value's
  // bytes then complete the open block. Every seed length mod 4 meets every value length mod 4, in
  // ASCII and with 2-byte characters, and a value is hashed under several seeds in a row.
  const ref = (seed: string, value: string): number => murmurhash.v3(Buffer.from(seed + value, 'utf8'), 0)
  const cases: Array<[string, string]> = []
  for (let s = 0; s <= 8; s++) {
    for (let v = 0; v <= 8; v++) {
      cases.push(['s'.repeat(s), 'v'.repeat(v)], ['é'.repeat(s >> 1) + 's'.repeat(s & 1), 'ü'.repeat(v >> 1) + 'v'.repeat(v & 1)])
    }
  }
  t.same(failing(cases, ([seed, value]) => differs(`${seed}|${value}`, hashBucketKey(seed, value), ref(seed, value))), [], 'hashBucketKey agrees with murmurhash')
  t.same(failing(cases, ([seed, value]) => {
    const want = Number((BigInt(ref(seed, value)) * 3n) >> 32n)
    return differs(`${seed}|${value}`, bucketIndex(compileSplit(seed, [['a', 1], ['b', 1], ['c', 1]]), value), want)
  }), [], 'bucketIndex agrees with murmurhash')
})

t.test('long values grow the encoding buffer and stay correct afterwards', async (t) => {
  const long = 'u'.repeat(300) + 'é'.repeat(400) + '🚀'.repeat(300)
  t.equal(hashBucketKey('flag', long), murmurhash.v3(Buffer.from('flag' + long, 'utf8'), 0))
  const veryLong = 'k'.repeat(5000)
  t.equal(hashBucketKey('', veryLong), murmurhash.v3(Buffer.from(veryLong, 'utf8'), 0))
  // Short values after growth are encoded into the new buffer.
  t.equal(hashBucketKey('', 'a'), 0x3c2569b2)
  t.equal(hashBucketKey('', 'hello'), 0x248bfa47)
})

// Vectors from /work/shared/reference/flagd-testbed/evaluator/gherkin/fractional.feature
// (@fractional-v2 examples), flags from .../evaluator/flags/testkit-flags.json. compileSplit takes the
// bucketing seed: a flag's name (flagd's default flagKey prefix), a custom seed, or '' (bare key).
t.test('flagd fractional v2 vectors', async (t) => {
  const suits: [string, number][] = [
    ['clubs', 25],
    ['diamonds', 25],
    ['hearts', 25],
    ['spades', 25]
  ]

  // "fractional-flag": {"cat": [{"var": "$flagd.flagKey"}, {"var": "user.name"}]}, four suits at 25.
  const fractionalFlag = compileSplit('fractional-flag', suits)
  const v2: [string, string][] = [
    ['jack', 'hearts'],
    ['queen', 'spades'],
    ['ten', 'clubs'],
    ['nine', 'diamonds'],
    ['3', 'clubs']
  ]
  for (const [name, variant] of v2) t.equal(pickVariant(fractionalFlag, name), variant, `fractional-flag ${name}`)

  // "fractional-flag-shorthand": no bucketing expression, so flagd hashes flagKey + targetingKey;
  // ["heads"] is shorthand for weight 1, ["tails", 1].
  const shorthand = compileSplit('fractional-flag-shorthand', [
    ['heads', 1],
    ['tails', 1]
  ])
  t.equal(pickVariant(shorthand, 'jon@company.com'), 'heads')
  t.equal(pickVariant(shorthand, 'jane@company.com'), 'tails')

  // "fractional-flag-A-shared-seed" / "-B-shared-seed": {"cat": ["shared-seed", {"var": "user.name"}]}:
  // the hash prefix is "shared-seed", not the flag key, so both flags bucket identically.
  const shared = compileSplit('shared-seed', suits)
  const sharedV2: [string, string][] = [
    ['seven', 'hearts'],
    ['eight', 'diamonds'],
    ['nine', 'clubs'],
    ['two', 'spades']
  ]
  for (const [name, variant] of sharedV2) t.equal(pickVariant(shared, name), variant, `shared-seed ${name}`)

  // "fractional-single-entry-flag": [["single", 1]] always resolves to the only variant.
  t.equal(pickVariant(compileSplit('fractional-single-entry-flag', [['single', 1]]), 'some-targeting-key'), 'single')

  // "fractional-hash-edge-flag": {"var": "targetingKey"} with no flag key, ["lower", 50], ["upper", 50];
  // keys brute-forced to hash to the boundary values 0, 1, 2^31-1, 2^31, 2^32-1.
  const edge = compileSplit('', [
    ['lower', 50],
    ['upper', 50]
  ])
  const edgeVectors: [string, number, string][] = [
    ['ejOoVL', 0, 'lower'],
    ['bY9fO-', 1, 'lower'],
    ['SI7p-', 0x7fffffff, 'lower'],
    ['6LvT0', 0x80000000, 'upper'],
    ['ceQdGm', 0xffffffff, 'upper']
  ]
  t.same(failing(edgeVectors, ([key, hash, variant]) => differs(key, [hashBucketKey('', key), pickVariant(edge, key)], [hash, variant])), [],
    'hash-edge keys hash to 0, 1, 2^31-1, 2^31, 2^32-1 and split lower / upper at 2^31')

  // Comments of the @fractional-nested scenarios: "jon@company.com bv(100)=36", "user1 bv(100)=76".
  t.equal(Math.floor((hashBucketKey('', 'jon@company.com') * 100) / 2 ** 32), 36)
  t.equal(Math.floor((hashBucketKey('', 'user1') * 100) / 2 ** 32), 76)

  // "fractional-zero-weights-flag": all-zero weights serve nothing (flagd falls back to default).
  const zero = compileSplit('fractional-zero-weights-flag', [
    ['one', 0],
    ['two', 0]
  ])
  t.equal(zero.total, 0)
  t.equal(bucketIndex(zero, 'any-user'), -1)
  t.equal(pickVariant(zero, 'any-user'), undefined)

  // "fractional-negative-weight-flag": ["one", -50] is clamped to 0, "two" gets everything.
  t.equal(pickVariant(compileSplit('fractional-negative-weight-flag', [['one', -50], ['two', 100]]), 'any-user'), 'two')
})

t.test('boundaries are exact: h < C * 2^32 / W', async (t) => {
  // W = 3 does not divide 2^32: the boundaries are ceil(2^32/3) = 1431655766 and ceil(2^33/3) = 2863311531.
  const split = compileSplit('f', [
    ['a', 1],
    ['b', 1],
    ['c', 1]
  ])
  t.same(Array.from(split.thresholds), [1431655766, 2863311531, 2 ** 32])
  t.equal(indexForHash(split, 0), 0)
  t.equal(indexForHash(split, 1431655765), 0) // floor(1431655765 * 3 / 2^32) = 0
  t.equal(indexForHash(split, 1431655766), 1) // floor(1431655766 * 3 / 2^32) = 1
  t.equal(indexForHash(split, 2863311530), 1)
  t.equal(indexForHash(split, 2863311531), 2)
  t.equal(indexForHash(split, 0xffffffff), 2)

  // Two-decimal weights: 33.33 / 33.33 / 33.34 scale to 3333 / 3333 / 3334 (W = 10000).
  const thirds = compileSplit('f', [
    ['a', 33.33],
    ['b', 33.33],
    ['c', 33.34]
  ])
  t.same(thirds.weights, [3333, 3333, 3334])
  t.equal(thirds.total, 10000)
})

t.test('zero-weight variants are never served', async (t) => {
  const split = compileSplit('z', [
    ['never-first', 0],
    ['a', 50],
    ['never-middle', 0],
    ['b', 50],
    ['never-last', 0]
  ])
  t.same(split.variants, ['a', 'b'])
  const seen = new Set<string>()
  for (let i = 0; i < 20000; i++) seen.add(pickVariant(split, `id-${i}`) as string)
  t.same([...seen].sort(), ['a', 'b'])
})

t.test('compiled split agrees with the reference formula', async (t) => {
  const configs: [string, [string, number][]][] = [
    ['new_checkout_flow', [['on', 50], ['off', 50]]],
    ['theme', [['red', 20], ['blue', 30], ['green', 50]]],
    ['odd', [['a', 0.01], ['b', 33.33], ['c', 0], ['d', 66.66]]],
    ['big', [['x', 70000], ['y', 12345.67]]]
  ]
  for (const [name, entries] of configs) {
    const split = compileSplit(name, entries)
    let mismatches = 0
    for (let i = 0; i < 5000; i++) {
      const id = i % 7 === 0 ? `usér-${i}` : `user-${i}`
      if (pickVariant(split, id) !== referencePick(name, id, entries)) mismatches++
    }
    t.equal(mismatches, 0, name)
  }
})

t.test('percentage split: on first, off second, weights ×100', async (t) => {
  const split = compilePercentageSplit('new_checkout_flow', 'on', 'off', 50)
  t.same(split.variants, ['on', 'off'])
  t.same(split.weights, [5000, 5000])
  t.equal(pickVariant(split, 'bob'), 'on') // bucket 1554 of 10000
  t.equal(pickVariant(split, 'alice'), 'off') // bucket 5974
  t.equal(pickVariant(split, '42'), 'off') // bucket 5029
  const p905 = compilePercentageSplit('f', 'on', 'off', 90.5)
  t.same(p905.weights, [9050, 950])
  t.same(compilePercentageSplit('f', 'on', 'off', 100).variants, ['on'])
  t.same(compilePercentageSplit('f', 'on', 'off', 0).variants, ['off'])
})

t.test('scaleWeight', async (t) => {
  t.equal(scaleWeight(25), 2500)
  t.equal(scaleWeight(90.5), 9050)
  t.equal(scaleWeight(33.33), 3333)
  t.equal(scaleWeight(0.01), 1)
  t.equal(scaleWeight(0), 0)
  t.equal(scaleWeight(-5), 0)
  t.equal(scaleWeight(Number.NaN), 0)
  t.equal(scaleWeight(Number.POSITIVE_INFINITY), 0)
})

/** A 50 % flag with every field the engine reads; `seed` undefined leaves bucketing_seed out. */
function halfFlag (name: string, seed?: string, extra: Partial<FlagDefinition> = {}): FlagDefinition {
  return {
    name,
    ...(seed === undefined ? {} : { bucketing_seed: seed }),
    type: 'boolean',
    enabled: true,
    variants: { on: true, off: false },
    default_variant: 'on',
    off_variant: 'off',
    targeting_rules: { user_ids: [], customer_ids: [], rules: [], percentage: 50, rollout: null, bucket_by: 'user_id' },
    metadata: {},
    version: 1,
    ...extra
  }
}
const users = Array.from({ length: 200 }, (_, i) => `user-${i}`)
const served = (def: FlagDefinition, attr = 'user_id'): string[] => {
  const flag = compileFlag(def)
  return users.map((u) => evaluate(flag, { [attr]: u }, 0).variant)
}

t.test('bucketing seed: the name by default (SPEC §2.4 parity), kept across a rename', async (t) => {
  const byName = served(halfFlag('new_checkout_flow'))
  t.same(byName, users.map((u) => referencePick('new_checkout_flow', u, [['on', 50], ['off', 50]])), 'no seed: flagName + bucketValue')
  t.same(served(halfFlag('new_checkout_flow', 'new_checkout_flow')), byName, 'seed = name: identical buckets')
  t.same(served(halfFlag('checkout_v2', 'new_checkout_flow')), byName, 'renamed, seed kept: all 200 keep their variant')
  const moved = served(halfFlag('checkout_v2')).filter((v, i) => v !== byName[i]).length
  t.ok(moved > 50, `hashing the new name instead would move about half (${moved} of 200)`)
  t.equal(compileFlag(halfFlag('checkout_v2', 'new_checkout_flow')).bucketingSeed, 'new_checkout_flow', 'the compiled flag carries the seed')
})

t.test('bucketing seed applies to rollouts and rule rollouts alike', async (t) => {
  const rollout = { percentage: null, rollout: { on: 30, off: 70 } }
  const tr = (over: object) => ({ user_ids: [], customer_ids: [], rules: [], percentage: 50, rollout: null, bucket_by: 'user_id', ...over })
  const fallthrough = served(halfFlag('b', 'seed-x', { targeting_rules: tr(rollout) }))
  t.same(fallthrough, users.map((u) => referencePick('seed-x', u, [['on', 30], ['off', 70]])))
  const rule = { id: 'all', clauses: [], serve: { rollout: { on: 30, off: 70 } } }
  t.same(served(halfFlag('c', 'seed-x', { targeting_rules: tr({ rules: [rule] }) })), fallthrough, 'a rule rollout hashes the same seed')
})

// flagd's custom seeds: "fractional-flag-A-shared-seed" buckets {"cat": ["shared-seed", {"var": "user.name"}]}
// and "fractional-hash-edge-flag" the bare {"var": "targetingKey"} (the empty seed).
t.test('an explicit seed matches flagd custom-seed and bare-key vectors through compileFlag', async (t) => {
  const suits = { clubs: 25, diamonds: 25, hearts: 25, spades: 25 }
  const shared = (name: string) => compileFlag(halfFlag(name, 'shared-seed', {
    type: 'string',
    variants: { clubs: 'clubs', diamonds: 'diamonds', hearts: 'hearts', spades: 'spades', wild: 'wild' },
    default_variant: 'wild',
    off_variant: 'wild',
    targeting_rules: { user_ids: [], customer_ids: [], rules: [], percentage: null, rollout: suits, bucket_by: 'name' }
  }))
  const sharedCases = ['fractional-flag-A-shared-seed', 'fractional-flag-B-shared-seed']
    .flatMap((name) => [['seven', 'hearts'], ['eight', 'diamonds'], ['nine', 'clubs'], ['two', 'spades']].map(([user, variant]) => [name, user, variant]))
  t.same(failing(sharedCases, ([name, user, variant]) => differs(`${name} ${user}`, evaluate(shared(name), { name: user }, 0).variant, variant)), [],
    'both shared-seed flags bucket seven, eight, nine, two as flagd does')
  const edge = compileFlag(halfFlag('fractional-hash-edge-flag', '', {
    type: 'string',
    variants: { lower: 'lower', upper: 'upper' },
    default_variant: 'lower',
    off_variant: 'lower',
    targeting_rules: { user_ids: [], customer_ids: [], rules: [], percentage: null, rollout: { lower: 50, upper: 50 }, bucket_by: 'user_id' }
  }))
  for (const [key, variant] of [['ejOoVL', 'lower'], ['bY9fO-', 'lower'], ['SI7p-', 'lower'], ['6LvT0', 'upper'], ['ceQdGm', 'upper']]) {
    t.equal(evaluate(edge, { targetingKey: key }, 0).variant, variant, `bare key ${key}`)
  }
})
