import { finalMix } from './bucketing.js'
import { fnv1a } from './string-hash.js'

/**
 * A fixed map from names to 32-bit integers, for a lookup whose memory is out of the CPU's caches: a
 * single evaluation at 10,000 flags finds its flag among them (services/bulk-plan.ts, `found`), and
 * between two requests the HTTP work has pushed the table out. A `Map` of 10,000 names reads its
 * bucket, then its entry, then the entry's key (a string object of its own) before it can compare: three
 * to four cache lines from memory, about 1 µs with a megabyte walked between lookups. This table reads
 * one line of slots, each holding a name's hash, where it is in one string of every name, its length
 * and its value, then the name's characters in that string: two lines, about 0.4 µs (bench/README,
 * twenty-second session).
 *
 * A name can be held for several owners (32-bit integers), each with a value of its own: one table
 * then stands for many small maps, as a bulk program's overrides and id lists of every flag
 * (engine/bulk-program.ts), where each map of its own would be an object, its table and its keys out
 * of the caches, several lines before the first comparison (bench/README, twenty-sixth session).
 */
export interface NameTable {
  /** The value of `name` held for `owner` (0 unless the table was given owners), or undefined when the table does not hold it. */
  get (name: string, owner?: number): number | undefined
  readonly size: number
}

export interface NameTableOptions {
  /** Per name, its owner (else 0 for every name). */
  readonly owners?: ArrayLike<number>
  /** A name given twice for one owner: its value from the one held and the one given (else the first is kept). */
  readonly merge?: (held: number, given: number) => number
}

/** Words per slot: the name's hash, its length (EMPTY: a free slot), where it starts in the names, its value. */
const SLOT = 4
const EMPTY = -1
/** The characters before each name in the names: its owner, 8 bits each (so that names of one byte per character stay so). */
const OWNER_CHARS = 4

/**
 * A name's hash for `owner`: FNV-1a over the name with the owner mixed in, then murmur3's finalizer,
 * so that one name held for many owners (an id on the lists of a thousand flags) spreads over the
 * slots by the hash's high bits. Names of one FNV-1a hash keep one hash for one owner.
 */
const hashOf = (name: string, owner: number): number => finalMix(fnv1a(name) ^ owner)

const ownerText = (owner: number): string => String.fromCharCode(owner & 0xff, (owner >>> 8) & 0xff, (owner >>> 16) & 0xff, owner >>> 24)

/** Whether the owner written before the name at `start` of `all` is `owner`. */
function ownedBy (all: string, start: number, owner: number): boolean {
  const at = start - OWNER_CHARS
  return (all.charCodeAt(at) | (all.charCodeAt(at + 1) << 8) | (all.charCodeAt(at + 2) << 16) | (all.charCodeAt(at + 3) << 24)) === (owner | 0)
}

/** The table of `names[i]` → `values[i]` (of `owners[i]`). Values and owners must be 32-bit integers. */
export function nameTable (names: readonly string[], values: ArrayLike<number>, { owners, merge = (held) => held }: NameTableOptions = {}): NameTable {
  if (names.length !== values.length) throw new Error(`${names.length} names and ${values.length} values`)
  if (owners !== undefined && owners.length !== names.length) throw new Error(`${names.length} names and ${owners.length} owners`)
  // At most half the slots taken: a lookup seldom goes past its first slot, and four slots share a cache line.
  let bits = 1
  while (1 << bits < 2 * names.length) bits++
  const mask = (1 << bits) - 1
  // The slot is found by the hash's high bits, mixed from every character and the owner.
  const shift = 32 - bits
  const slots = new Int32Array(SLOT << bits).fill(EMPTY)
  // Each held name's owner and name, in the order of their offsets; the owner's text made once for a run of one owner's names.
  const parts: string[] = []
  // While building: per slot, the index of the name held there (to tell a name given twice).
  const heldAt = new Int32Array(mask + 1)
  const ownerOf = (i: number): number => owners === undefined ? 0 : owners[i]
  let at = 0
  let size = 0
  let lastOwner: number | undefined
  let lastOwnerText = ''
  for (let i = 0; i < names.length; i++) {
    const name = names[i]
    const value = values[i]
    const owner = ownerOf(i)
    if ((value | 0) !== value) throw new Error(`the value of ${name} is not a 32-bit integer: ${value}`)
    if ((owner | 0) !== owner) throw new Error(`the owner of ${name} is not a 32-bit integer: ${owner}`)
    const hash = hashOf(name, owner)
    let s = hash >>> shift
    while (slots[s * SLOT + 1] !== EMPTY && !(slots[s * SLOT] === hash && names[heldAt[s]] === name && ownerOf(heldAt[s]) === owner)) s = (s + 1) & mask
    const w = s * SLOT
    if (slots[w + 1] !== EMPTY) {
      const merged = merge(slots[w + 3], value)
      if ((merged | 0) !== merged) throw new Error(`the merged value of ${name} is not a 32-bit integer: ${merged}`)
      slots[w + 3] = merged
      continue
    }
    if (owner !== lastOwner) {
      lastOwner = owner
      lastOwnerText = ownerText(owner)
    }
    parts.push(lastOwnerText, name)
    slots[w] = hash
    slots[w + 1] = name.length
    slots[w + 2] = at + OWNER_CHARS
    slots[w + 3] = value
    heldAt[s] = i
    at += OWNER_CHARS + name.length
    size++
  }
  const all = parts.join('')
  return {
    size,
    get (name, owner = 0) {
      const hash = hashOf(name, owner)
      for (let s = hash >>> shift; ; s = (s + 1) & mask) {
        const w = s * SLOT
        const length = slots[w + 1]
        if (length === EMPTY) return undefined
        if (slots[w] === hash && length === name.length && all.startsWith(name, slots[w + 2]) && ownedBy(all, slots[w + 2], owner)) return slots[w + 3]
      }
    }
  }
}
