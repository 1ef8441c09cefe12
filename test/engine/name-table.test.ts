import fc from 'fast-check'
import t from 'tap'
import { nameTable } from '../../src/engine/name-table.js'
import { fnv1aCollision } from '../support/fnv1a-collision.js'

/** What the table must answer: a Map of the same names, the first value of a name given twice kept. */
const mapOf = (names: readonly string[], values: readonly number[]): Map<string, number> => {
  const map = new Map<string, number>()
  names.forEach((name, i) => { if (!map.has(name)) map.set(name, values[i]) })
  return map
}

// Names that share prefixes and characters with each other (so `startsWith` at a neighbour's offset
// would find them), any UTF-16 (lone surrogates too), and an Object.prototype name or two.
const name = fc.oneof(
  fc.constantFrom('a', 'ab', 'abc', 'b', 'ba', 'flag', 'flag-1', 'flag-10', 'flag-100', '__proto__', 'constructor', 'toString', ''),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.string({ unit: fc.constantFrom('a', 'b', '-', '1'), maxLength: 8 })
)
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })

t.test('get answers what a Map of the same names answers, for names held and not held', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(name, int32), { maxLength: 60 }), fc.array(name, { maxLength: 30 }), (entries, asked) => {
    const names = entries.map(([n]) => n)
    const values = entries.map(([, v]) => v)
    const table = nameTable(names, values)
    const map = mapOf(names, values)
    if (table.size !== map.size) return false
    for (const n of [...names, ...asked]) if (table.get(n) !== map.get(n)) return false
    // Names made of pieces of the held ones: the concatenation of every name must not answer for them.
    const joined = names.join('')
    for (let i = 0; i + 1 < joined.length; i++) {
      const piece = joined.slice(i, i + 3)
      if (table.get(piece) !== map.get(piece)) return false
    }
    return true
  }), { numRuns: 500 })
})

t.test('10,000 flag names: every one found, with its value; names next to them are not', async (t) => {
  const names = Array.from({ length: 10_000 }, (_, i) => `flag-${String(i).padStart(5, '0')}`)
  const table = nameTable(names, names.map((_, i) => (i % 3 === 0 ? ~i : i)))
  t.equal(table.size, 10_000)
  t.ok(names.every((n, i) => table.get(n) === (i % 3 === 0 ? ~i : i)), 'each name its own value')
  for (const other of ['flag-10000', 'flag-0000', 'flag-000000', 'lag-00001', 'flag-00001 ', 'FLAG-00001', '']) t.equal(table.get(other), undefined, JSON.stringify(other))
})

t.test('names of one hash are told apart by their characters', async (t) => {
  // Two names with one FNV-1a hash (found by trying), so both land on one slot's chain.
  const [first, second] = fnv1aCollision((i) => `flag-${i}`)
  t.equal(nameTable([first], [1]).get(second), undefined, 'the other name of the same hash is not held')
  const both = nameTable([first, second], [1, 2])
  t.same([both.get(first), both.get(second)], [1, 2])
})

t.test('refuses values that are not 32-bit integers, and names and values of different lengths', async (t) => {
  t.throws(() => nameTable(['a'], [1.5]), /not a 32-bit integer/)
  t.throws(() => nameTable(['a'], [2 ** 31]), /not a 32-bit integer/)
  t.throws(() => nameTable(['a', 'b'], [1]), /2 names and 1 values/)
  t.throws(() => nameTable(['a', 'b'], [1, 2], { owners: [0] }), /2 names and 1 owners/)
  t.throws(() => nameTable(['a'], [1], { owners: [0.5] }), /owner of a is not a 32-bit integer/)
  t.throws(() => nameTable(['a', 'a'], [1, 2], { merge: () => 2 ** 40 }), /merged value of a is not a 32-bit integer/)
  t.equal(nameTable([], []).get('a'), undefined, 'an empty table holds nothing')
})

// Owners that differ in one byte each, and at both ends of the int32 range (each byte of the owner is kept).
const owner = fc.oneof(fc.constantFrom(0, 1, 2, 3, 0x100, 0x10000, 0x1000000, -1, -(2 ** 31), 2 ** 31 - 1), int32)

t.test('owners: a name is held for each owner with a value of its own, merged when given twice for one owner', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(name, owner, int32), { maxLength: 60 }), fc.array(fc.tuple(name, owner), { maxLength: 30 }), (entries, asked) => {
    const merge = (held: number, given: number): number => held ^ given
    const table = nameTable(entries.map(([n]) => n), entries.map(([, , v]) => v), { owners: entries.map(([, o]) => o), merge })
    // What it must answer: a Map by owner and name, the values of one owner's name merged in the order given.
    const map = new Map<string, number>()
    for (const [n, o, v] of entries) {
      const key = `${o}/${n}`
      const held = map.get(key)
      map.set(key, held === undefined ? v : merge(held, v))
    }
    if (table.size !== map.size) return false
    for (const [n, o] of [...entries, ...asked]) if (table.get(n, o) !== map.get(`${o}/${n}`)) return false
    // Another owner's name is not held for this one: the owners next to each held one, and owner 0 (the default).
    for (const [n, o] of entries) {
      for (const other of [o + 1, o - 1, o ^ 0x100, o ^ 0x10000, o ^ 0x1000000, 0]) {
        if ((other | 0) === other && table.get(n, other) !== map.get(`${other}/${n}`)) return false
      }
      if (table.get(n) !== map.get(`0/${n}`)) return false
    }
    return true
  }), { numRuns: 500 })
})

t.test('one name for 130,000 owners: each found with its own value, and not for an owner it was not given', async (t) => {
  const owners = Array.from({ length: 130_000 }, (_, i) => 2 * i + 1)
  const table = nameTable(owners.map(() => 'cust-00001'), owners.map((_, i) => i), { owners })
  t.equal(table.size, 130_000)
  t.ok(owners.every((o, i) => table.get('cust-00001', o) === i), 'each owner its own value')
  t.equal(table.get('cust-00001', 0), undefined)
  t.equal(table.get('cust-00001', 2), undefined)
  t.equal(table.get('cust-0000', 1), undefined)
})
