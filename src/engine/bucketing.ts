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
 * Hot path: the hash of each split's prefix (its bucketing seed) is worked out once, when the flag
 * is compiled (`HashStart`); a pick hashes only the bucket value's bytes from there. The value is
 * encoded to UTF-8 once for all the flags that hash it in a row (a bulk request buckets every flag
 * by the same user), with no allocation for ASCII values.
 *
 * murmur3_x86_32 is written out here rather than taken from the `murmurhash` package (which the
 * tests use as the reference): no package resumes it from a state worked out earlier, and
 * `imurmurhash`, the incremental one, hashes UTF-16 code units, not the UTF-8 bytes flagd hashes.
 */

const encoder = new TextEncoder()

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/** The 4 bytes at `i` as a little-endian 32-bit block. */
function blockAt (bytes: Uint8Array, i: number): number {
  return bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)
}

/** murmur3_x86_32's scramble of a block (or of the last 1–3 bytes) before it is mixed into the state. */
function scramble (k: number): number {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  return Math.imul(k, C2)
}

/** One 4-byte block mixed into the state: murmur3_x86_32's body step. */
function mixBlock (h: number, k: number): number {
  h ^= scramble(k)
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

/**
 * murmur3_x86_32 (seed 0) part way through a byte string: the state after its whole 4-byte blocks,
 * the 0–3 bytes after them (little-endian in `pending`) and the string's length so far.
 */
export interface HashStart {
  readonly state: number
  readonly pending: number
  readonly pendingBytes: number
  readonly length: number
}

/** The hash state after `bytes`, to hash what follows them from (`hashFrom`). */
function hashStart (bytes: Uint8Array): HashStart {
  const whole = bytes.length & ~3
  let state = 0
  for (let i = 0; i < whole; i += 4) state = mixBlock(state, blockAt(bytes, i))
  let pending = 0
  for (let i = whole; i < bytes.length; i++) pending |= bytes[i] << (8 * (i - whole))
  return { state, pending, pendingBytes: bytes.length - whole, length: bytes.length }
}

/** murmur3_x86_32 (unsigned) of the bytes `start` was made from followed by the first `len` bytes of `bytes`. */
function hashFrom (start: HashStart, bytes: Uint8Array, len: number): number {
  return hashResumed(start.state, start.pending, start.pendingBytes, start.length, bytes, len)
}

/** `hashFrom` with the start's four numbers given one by one (a program's code keeps them in an Int32Array: `splitWords`). */
function hashResumed (state: number, pending: number, pendingBytes: number, length: number, bytes: Uint8Array, len: number): number {
  let h = state
  let k = pending
  let n = pendingBytes
  let i = 0
  // Complete the block the start left open.
  while (n !== 0 && i < len) {
    k |= bytes[i++] << (8 * n)
    if (++n === 4) {
      h = mixBlock(h, k)
      k = 0
      n = 0
    }
  }
  // Whole blocks (n is 0 here unless the bytes ran out first, and then this does nothing).
  for (; i + 4 <= len; i += 4) h = mixBlock(h, blockAt(bytes, i))
  for (; i < len; i++) k |= bytes[i] << (8 * n++)
  if (n !== 0) h ^= scramble(k)
  return finalMix(h ^ (length + len)) >>> 0
}

/** murmur3's finalizer (fmix32): every bit of `h` moved into every bit of the result; signed. */
export function finalMix (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** The last bucket value encoded, and its UTF-8 bytes (the first `valueLength` of `valueBytes`; grows, never shrinks). */
let valueText: string | undefined
let valueLength = 0
let valueBytes = new Uint8Array(512)

/**
 * The UTF-8 bytes of `value` in `valueBytes`, and how many: encoded again only when the value is not
 * the last one. ASCII (nearly every id) is copied by a plain loop; the first non-ASCII code unit
 * hands the rest of the string to the shared encoder.
 */
function encodeValue (value: string): number {
  if (value === valueText) return valueLength
  const n = value.length
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a larger buffer than needed changes allocation only
  if (3 * n > valueBytes.length) valueBytes = new Uint8Array(3 * n)
  let pos = 0
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    // Stryker disable next-line ConditionalExpression: the encoder writes the same bytes for ASCII; the plain loop is a fast path
    if (c >= 0x80) {
      pos += encoder.encodeInto(i === 0 ? value : value.slice(i), valueBytes.subarray(pos)).written
      break
    }
    valueBytes[pos++] = c
  }
  valueText = value
  valueLength = pos
  return pos
}

const TWO_POW_32_N = 4294967296n

/**
 * flagd's bucketing hash: murmur3_x86_32 of the UTF-8 bytes of `bucketingSeed + value`, murmur
 * seed 0, as an unsigned 32-bit integer.
 *
 * Pass `bucketingSeed = ''` to hash a bare value (what flagd does when a flag gives its own
 * bucketing expression such as `{"var": "targetingKey"}`).
 */
export function hashBucketKey (bucketingSeed: string, value: string): number {
  const len = encodeValue(value)
  return hashFrom(hashStart(encoder.encode(bucketingSeed)), valueBytes, len)
}

/** The string a flag's rollouts hash before the bucket value: its bucketing seed, else its name (flagd's default). */
export function bucketingSeedOf (def: { readonly name: string, readonly bucketing_seed?: string }): string {
  return def.bucketing_seed ?? def.name
}

/** A weighted split compiled once per flag: picking is one hash plus a short loop. */
export interface CompiledSplit {
  /** The hash after the prefix (the UTF-8 bytes of the flag's bucketing seed), worked out once. */
  readonly start: HashStart
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
  return { start: hashStart(encoder.encode(bucketingSeed)), variants, weights, total, thresholds }
}

/** Index into `split.variants` for an unsigned 32-bit hash; -1 when the split serves nothing. */
export function indexForHash (split: CompiledSplit, hash: number): number {
  return thresholdIndex(split.thresholds, 0, split.thresholds.length, hash)
}

/**
 * The index, counted from `from`, of the first of `thresholds[from .. end)` above `hash` (the last is
 * 2^32, above every hash, so it is not tested); -1 when the range is empty (a split serving nothing).
 * Each is read unsigned (`>>> 0`), as the int32 words of `splitWords` hold them; a threshold below 2^32 is
 * itself either way.
 */
function thresholdIndex (thresholds: ArrayLike<number>, from: number, end: number, hash: number): number {
  const last = end - 1
  // Stryker disable next-line EqualityOperator: the last threshold is 2^32, above every hash, so testing it returns last as well
  for (let i = from; i < last; i++) {
    if (hash < thresholds[i] >>> 0) return i - from
  }
  return last - from
}

/**
 * Index into `split.variants` for a bucketing value (the seed is already hashed in `split`); -1 when
 * the split serves nothing. Allocation-free for ASCII values.
 */
export function bucketIndex (split: CompiledSplit, bucketValue: string): number {
  // Stryker disable next-line ConditionalExpression: an empty split has no thresholds, so indexForHash returns -1 as well
  if (split.total === 0) return -1
  // Encoded first: encoding may replace the buffer.
  const len = encodeValue(bucketValue)
  return indexForHash(split, hashFrom(split.start, valueBytes, len))
}

/** The variant a bucketing value gets from `split`, or undefined when the split serves nothing. */
export function pickVariant (split: CompiledSplit, bucketValue: string): string | undefined {
  const i = bucketIndex(split, bucketValue)
  // Stryker disable next-line ConditionalExpression: split.variants[-1] is undefined as well
  return i < 0 ? undefined : split.variants[i]
}

/**
 * A split as words of a program's code (engine/bulk-program.ts), kept in the record of the flag
 * that holds it: its hash start's four numbers, its threshold count, then the thresholds. A pick
 * then reads the lines of the record it is already reading, not a table of splits and one of
 * thresholds spread over as many more (bench/README, twenty-sixth session). A threshold is at most
 * 2^32, past int32: each is kept as its low 32 bits (`| 0`) and read back unsigned; the last, 2^32,
 * is never compared.
 */
export function splitWords (split: CompiledSplit): number[] {
  const { start, thresholds } = split
  return [start.state, start.pending, start.pendingBytes, start.length, thresholds.length, ...thresholds.map((threshold) => threshold | 0)]
}

/** `bucketIndex(split, bucketValue)` for the split whose words (`splitWords`) start at `at` of `code`. */
export function bucketIndexAt (code: Int32Array, at: number, bucketValue: string): number {
  const len = encodeValue(bucketValue)
  const hash = hashResumed(code[at], code[at + 1], code[at + 2], code[at + 3], valueBytes, len)
  return thresholdIndex(code, at + 5, at + 5 + code[at + 4], hash)
}
