import { fnv1a } from './string-hash.js'

/**
 * A fixed map from names to 32-bit integers, for a lookup whose memory is out of the CPU's caches: a
 * single evaluation at 10,000 flags finds its flag among them (services/bulk-plan.ts, `places`), and
 * between two requests the HTTP work has pushed the table out. A `Map` of 10,000 names reads its
 * bucket, then its entry, then the entry's key (a string object of its own) before it can compare: three
 * to four cache lines from memory, about 1 µs with a megabyte walked between lookups. This table reads
 * one line of slots, each holding a name's hash, where it is in one string of every name, its length
 * and its value, then the name's characters in that string: two lines, about 0.4 µs (bench/README,
 * twenty-second session).
 */
export interface NameTable {
  /** The value of `name`, or undefined when the table does not hold it. */
  get (name: string): number | undefined
  readonly size: number
}

/** Words per slot: the name's hash, its length (EMPTY: a free slot), where it starts in the names, its value. */
const SLOT = 4
const EMPTY = -1

/** The table of `names[i]` → `values[i]`; a name given twice keeps its first value. Values must be 32-bit integers. */
export function nameTable (names: readonly string[], values: ArrayLike<number>): NameTable {
  if (names.length !== values.length) throw new Error(`${names.length} names and ${values.length} values`)
  // At most half the slots taken: a lookup seldom goes past its first slot, and four slots share a cache line.
  let bits = 1
  while (1 << bits < 2 * names.length) bits++
  const mask = (1 << bits) - 1
  // The slot is found by the hash's high bits, which FNV-1a mixes from every character.
  const shift = 32 - bits
  const slots = new Int32Array(SLOT << bits).fill(EMPTY)
  const held: string[] = []
  // While building: per slot, its name's index in `held` (to tell a name given twice).
  const heldAt = new Int32Array(mask + 1)
  let at = 0
  names.forEach((name, i) => {
    if ((values[i] | 0) !== values[i]) throw new Error(`the value of ${name} is not a 32-bit integer: ${values[i]}`)
    const hash = fnv1a(name)
    let s = hash >>> shift
    for (; slots[s * SLOT + 1] !== EMPTY; s = (s + 1) & mask) {
      if (slots[s * SLOT] === hash && held[heldAt[s]] === name) return
    }
    slots.set([hash, name.length, at, values[i]], s * SLOT)
    heldAt[s] = held.push(name) - 1
    at += name.length
  })
  const all = held.join('')
  const size = held.length
  return {
    size,
    get (name) {
      const hash = fnv1a(name)
      for (let s = hash >>> shift; ; s = (s + 1) & mask) {
        const w = s * SLOT
        const length = slots[w + 1]
        if (length === EMPTY) return undefined
        if (slots[w] === hash && length === name.length && all.startsWith(name, slots[w + 2])) return slots[w + 3]
      }
    }
  }
}
