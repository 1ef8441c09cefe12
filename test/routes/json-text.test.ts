import t from 'tap'
import { joinedBytes, listedBytes } from '../../src/routes/json-text.js'

/**
 * joinedBytes (src/routes/json-text.ts): the elements of a JSON list between its opening and closing
 * bytes, the first element's comma dropped, whatever the joins before it left in the array of parts
 * it reuses (it keeps that array at its largest length, so a short join follows a long one).
 */

const OPEN = Buffer.from('{"list":[')
const CLOSE = Buffer.from(']}')
const items = (n: number, tag: string): Buffer[] => Array.from({ length: n }, (_, i) => listedBytes(JSON.stringify({ tag, i })))
const expected = (list: Buffer[]): string => JSON.stringify({ list: list.map((b) => JSON.parse(b.subarray(1).toString())) })

t.test('a long join, then shorter ones: each answer holds its own elements only', async (t) => {
  for (const [n, tag] of [[350, 'a'], [3, 'b'], [1, 'c'], [0, 'd'], [40, 'e'], [2, 'f']] as const) {
    const list = items(n, tag)
    const seen: number[] = []
    const joined = joinedBytes(OPEN, list, (item, i) => { seen.push(i); return item }, CLOSE)
    t.equal(joined.toString(), expected(list), `${n} elements`)
    t.same(seen, list.map((_, i) => i), `each of the ${n} elements asked for once, in order`)
  }
})

t.test('the first element loses its comma, the others keep theirs', async (t) => {
  const joined = joinedBytes(Buffer.from('['), [listedBytes('1'), listedBytes('"x"'), listedBytes('null')], (b) => b, Buffer.from(']'))
  t.equal(joined.toString(), '[1,"x",null]')
  t.same(JSON.parse(joined.toString()), [1, 'x', null])
})

t.test('the items passed are not changed, and joining twice gives the same bytes', async (t) => {
  const list = items(5, 'g')
  const before = list.map((b) => b.toString())
  const once = Buffer.from(joinedBytes(OPEN, list, (b) => b, CLOSE))
  const twice = joinedBytes(OPEN, list, (b) => b, CLOSE)
  t.ok(once.equals(twice))
  t.same(list.map((b) => b.toString()), before)
})

t.test('a join that throws half-way leaves nothing behind for the next one', async (t) => {
  const list = items(10, 'h')
  t.throws(() => joinedBytes(OPEN, list, (b, i) => { if (i === 6) throw new Error('no bytes for this one'); return b }, CLOSE), /no bytes/)
  const next = items(2, 'i')
  t.equal(joinedBytes(OPEN, next, (b) => b, CLOSE).toString(), expected(next), 'only the second join\'s elements')
})
