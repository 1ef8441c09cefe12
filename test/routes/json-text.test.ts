import t from 'tap'
import { joinedBytes, laidOut, listedBytes } from '../../src/routes/json-text.js'

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

t.test('laidOut: each index made once, on first use, its bytes after those made before; views that join like the items', async (t) => {
  const list = [...items(5, 'g'), listedBytes('"é"'), listedBytes('0')]
  const made: number[] = []
  const bytesOf = laidOut(list.length, (j) => { made.push(j); return list[j] })
  const order = [6, 0, 5, 1, 2, 3, 4]
  const views = order.map((j) => bytesOf(j))
  t.same(views.map((v) => v.toString()), order.map((j) => list[j].toString()), 'the same bytes')
  t.same(made, order, 'each made once, when first asked for')
  t.equal(bytesOf(0), views[1], 'asked again: the same view, not made again')
  t.same(made, order)
  t.ok(views.every((v) => v.buffer === views[0].buffer), 'one buffer of their own underneath')
  t.ok(views.every((v) => list.every((b) => b.buffer !== v.buffer)), 'not the items\' memory (small buffers share Node\'s pool)')
  for (let i = 1; i < views.length; i++) t.equal(views[i].byteOffset, views[i - 1].byteOffset + views[i - 1].length, `the ${i + 1}th made follows the one before`)
  t.equal(joinedBytes(OPEN, [6, 0, 5], bytesOf, CLOSE).toString(), expected([list[6], list[0], list[5]]), 'joined by index')
})

t.test('laidOut: a new buffer when the one in use is full, one of their size for bytes larger than a buffer', async (t) => {
  const sizes = [40_000, 30_000, 100_000, 10]
  const bytesOf = laidOut(sizes.length, (j) => Buffer.alloc(sizes[j], j + 1))
  const views = sizes.map((_, j) => bytesOf(j))
  t.same(views.map((v) => v.length), sizes)
  t.ok(views.every((v, j) => v.every((byte) => byte === j + 1)), 'each view holds its own bytes only')
  t.not(views[1].buffer, views[0].buffer, '40,000 + 30,000 bytes do not fit in one 64 KiB buffer')
  t.equal(views[2].buffer.byteLength, 100_000, 'larger than a buffer: one of its own size')
  t.ok(views[3].buffer !== views[2].buffer, 'the next bytes go to a new buffer after a full one')
})
