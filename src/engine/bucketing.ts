/**
 * Bucketing compatible with flagd's `fractional` operator (v2), so flags migrated from flagd keep
 * every context in the bucket it had there:
 *
 *   h      = murmur3_x86_32(UTF-8(bucketingSeed + bucketValue), seed 0)   (unsigned 32-bit)
 *   bucket = floor(h * W / 2^32)                                         (W = sum of integer weights)
 *   serve the first variant whose cumulative weight exceeds `bucket`.
 *
 * The bucketing seed is the flag's own string, fixed when it is created: its name then, unless
 * written explicitly, and kept when the flag is renamed, so a rename moves no one. While the seed
 * equals the name this is flagd's default (`flagKey + targetingKey`); any other seed is flagd's
 * custom bucketing expression `{"cat": [seed, {"var": attr}]}`, and the empty seed hashes the bucket
 * value alone (flagd's bare `{"var": attr}`). Changing a seed reshuffles every bucket of the flag.
 *
 * Weights are percentages with up to two decimals, scaled ×100 to integers. Scaling all weights by
 * the same factor never moves a bucket boundary (the test `h * W < C * 2^32` is scale-free), so a
 * flagd `["on", 25], ["off", 75]` and our `on: 25.00, off: 75.00` agree on every key.
 *
 * Hot path: no string concatenation, no TextEncoder per call and (for keys up to
 * MAX_CACHED_VIEW bytes) no allocation at all.
 */
import murmurhash from 'murmurhash'

const encoder = new TextEncoder()

/** Keys up to this many bytes reuse a cached view of the scratch buffer instead of a new subarray. */
const MAX_CACHED_VIEW = 256

/** Module-level scratch buffer for the UTF-8 bytes of a key; grows, never shrinks. */
let scratch = new Uint8Array(512)
/** views[n] is `scratch.subarray(0, n)`, created once per length; reset when `scratch` grows. */
// Stryker disable next-line ArithmeticOperator,ArrayDeclaration: cache size only: a view missing from the cache is created on first use
let views: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MAX_CACHED_VIEW + 1).fill(undefined)

const TWO_POW_32_N = 4294967296n

function ensureCapacity (bytes: number): void {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: reallocating a buffer that is already large enough changes allocation only
  if (bytes <= scratch.length) return
  let size = scratch.length
  // Stryker disable next-line EqualityOperator: doubling once more than needed changes the buffer size only
  while (size < bytes) size *= 2
  scratch = new Uint8Array(size)
  // Stryker disable next-line ArithmeticOperator,ArrayDeclaration: cache size only: a view missing from the cache is created on first use
  views = new Array<Uint8Array | undefined>(MAX_CACHED_VIEW + 1).fill(undefined)
}

/**
 * Writes the UTF-8 bytes of `s` into `scratch` at `pos` and returns the end position. ASCII (every
 * flag name, nearly every id) is copied by a plain loop; the first non-ASCII code unit hands the
 * rest of the string to the shared encoder. The caller has reserved 3 bytes per UTF-16 unit.
 */
function writeUtf8 (s: string, pos: number): number {
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    // Stryker disable next-line ConditionalExpression: the encoder writes the same bytes for ASCII; the plain loop is a fast path
    if (c >= 0x80) {
      // Stryker disable next-line ConditionalExpression: s.slice(0) is s
      const rest = i === 0 ? s : s.slice(i)
      return pos + encoder.encodeInto(rest, scratch.subarray(pos)).written
    }
    scratch[pos++] = c
  }
  return pos
}

/** murmur3_x86_32 (seed 0) of the first `len` bytes of `scratch`. */
function hashScratch (len: number): number {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a cached view and a fresh subarray hash the same bytes
  if (len > MAX_CACHED_VIEW) return murmurhash.v3(scratch.subarray(0, len), 0)
  let view = views[len]
  // Stryker disable next-line ConditionalExpression: a fresh view of the same bytes hashes the same
  if (view === undefined) {
    view = scratch.subarray(0, len)
    views[len] = view
  }
  return murmurhash.v3(view, 0)
}

/**
 * flagd's bucketing hash: murmur3_x86_32 of the UTF-8 bytes of `bucketingSeed + value`, murmur
 * seed 0, as an unsigned 32-bit integer. Encodes to UTF-8 itself because the `murmurhash` string
 * path is ASCII-only in spirit and allocates a TextEncoder per call.
 *
 * Pass `bucketingSeed = ''` to hash a bare value (what flagd does when a flag gives its own
 * bucketing expression such as `{"var": "targetingKey"}`).
 */
export function hashBucketKey (bucketingSeed: string, value: string): number {
  ensureCapacity(3 * (bucketingSeed.length + value.length))
  return hashScratch(writeUtf8(value, writeUtf8(bucketingSeed, 0)))
}

/** The string a flag's rollouts hash before the bucket value: its bucketing seed, else its name (flagd's default). */
export function bucketingSeedOf (def: { readonly name: string, readonly bucketing_seed?: string }): string {
  return def.bucketing_seed ?? def.name
}

/** A weighted split compiled once per flag: picking is one hash plus a short loop. */
export interface CompiledSplit {
  /** UTF-8 bytes of the hash prefix (the flag's bucketing seed), encoded once. */
  readonly prefix: Uint8Array
  /** Variants that can be served (weight > 0), in the order given. */
  readonly variants: readonly string[]
  /** Integer weights (×100) of `variants`, same order. */
  readonly weights: readonly number[]
  /** Sum of `weights` (`W`); 0 when nothing can be served. */
  readonly total: number
  /**
   * `thresholds[i] = ceil(C_i * 2^32 / W)` with `C_i` the cumulative weight through variant i, so
   * `h < thresholds[i]` is exactly `floor(h * W / 2^32) < C_i` for any integer `h` and any `W`
   * (computed with BigInt at compile time; no multiplication or rounding at pick time).
   */
  readonly thresholds: readonly number[]
}

/**
 * Scales a percentage weight with up to two decimals to the integer flagd would see.
 * Negative and non-finite weights count as 0, as in flagd (which clamps negatives).
 */
export function scaleWeight (weight: number): number {
  // Stryker disable next-line EqualityOperator: a weight of 0 scales to 0 either way
  if (!Number.isFinite(weight) || weight <= 0) return 0
  return Math.round(weight * 100)
}

/**
 * Compiles ordered `[variant, weight]` entries (weights are percentages, two decimals) hashed
 * under `bucketingSeed` (see bucketingSeedOf). Done once when a flag enters the snapshot so the hot path never sums or divides.
 * Zero-weight entries are dropped: they can never be served. A split whose weights are all zero
 * has `total = 0` and serves nothing (`bucketIndex` returns -1), as flagd falls back to default.
 */
export function compileSplit (bucketingSeed: string, entries: ReadonlyArray<readonly [string, number]>): CompiledSplit {
  const variants: string[] = []
  const weights: number[] = []
  for (const [variant, weight] of entries) {
    variants.push(variant)
    weights.push(scaleWeight(weight))
  }
  return buildSplit(bucketingSeed, variants, weights)
}

/**
 * The split for a fallthrough percentage `p`: `[[onVariant, p], [offVariant, 100 - p]]` in that
 * order. The "on" share is the low end of the hash range, so raising `p` only adds contexts.
 */
export function compilePercentageSplit (
  bucketingSeed: string,
  onVariant: string,
  offVariant: string,
  percentage: number
): CompiledSplit {
  const on = Math.min(10000, scaleWeight(percentage))
  return buildSplit(bucketingSeed, [onVariant, offVariant], [on, 10000 - on])
}

/** Builds a split from already-scaled integer weights, dropping the zero ones. */
function buildSplit (bucketingSeed: string, names: readonly string[], scaled: readonly number[]): CompiledSplit {
  const variants: string[] = []
  const weights: number[] = []
  let total = 0
  for (let i = 0; i < names.length; i++) {
    if (scaled[i] <= 0) continue
    variants.push(names[i])
    weights.push(scaled[i])
    total += scaled[i]
  }
  // A plain array of doubles: as fast to read as a Float64Array and a fraction of its size (one per flag).
  // Stryker disable next-line ArrowFunction: placeholders: all overwritten when total > 0, and there are no variants when total is 0
  const thresholds: number[] = variants.map(() => 0)
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with total 0 there are no weights to loop over
  if (total > 0) {
    const bigTotal = BigInt(total)
    let cumulative = 0n
    for (let i = 0; i < weights.length; i++) {
      cumulative += BigInt(weights[i])
      thresholds[i] = Number((cumulative * TWO_POW_32_N + bigTotal - 1n) / bigTotal)
    }
  }
  return { prefix: encoder.encode(bucketingSeed), variants, weights, total, thresholds }
}

/** Index into `split.variants` for an unsigned 32-bit hash; -1 when the split serves nothing. */
export function indexForHash (split: CompiledSplit, hash: number): number {
  const t = split.thresholds
  const last = t.length - 1
  // Stryker disable next-line EqualityOperator: thresholds[last] is 2^32, above every hash, so testing it returns last as well
  for (let i = 0; i < last; i++) {
    if (hash < t[i]) return i
  }
  return last
}

/**
 * Index into `split.variants` for a bucketing value (the seed's bytes are already in `split`);
 * -1 when the split serves nothing. Allocation-free for ASCII keys up to 256 bytes.
 */
export function bucketIndex (split: CompiledSplit, bucketValue: string): number {
  // Stryker disable next-line ConditionalExpression: an empty split has no thresholds, so indexForHash returns -1 as well
  if (split.total === 0) return -1
  const prefix = split.prefix
  ensureCapacity(prefix.length + 3 * bucketValue.length)
  scratch.set(prefix, 0)
  return indexForHash(split, hashScratch(writeUtf8(bucketValue, prefix.length)))
}

/** The variant a bucketing value gets from `split`, or undefined when the split serves nothing. */
export function pickVariant (split: CompiledSplit, bucketValue: string): string | undefined {
  const i = bucketIndex(split, bucketValue)
  // Stryker disable next-line ConditionalExpression: split.variants[-1] is undefined as well
  return i < 0 ? undefined : split.variants[i]
}
