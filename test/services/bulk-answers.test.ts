import t from 'tap'
import fc from 'fast-check'
import { contextKey, createBulkAnswerCache, type KeptAnswer } from '../../src/services/bulk-answers.js'
import { fnv1a } from '../../src/engine/string-hash.js'
import { fnv1aCollision } from '../support/fnv1a-collision.js'
import type { EvaluationContext } from '../../src/engine/types.js'

const plan = {}
const kept = (answer: string, on: object = plan): KeptAnswer<string> => ({ plan: on, served: [], answer })

t.test('contextKey: one key for one context, values of different types apart', async (t) => {
  t.equal(contextKey({ a: '1', b: true }), contextKey({ a: '1', b: true, c: undefined }), 'an undefined attribute is no attribute')
  const distinct: EvaluationContext[] = [
    {}, { a: '1' }, { a: 1 }, { a: true }, { a: 'true' }, { a: Infinity }, { a: -Infinity }, { a: NaN }, { a: 'null' }, { a: '' },
    { a: '1', b: '2' }, { 'a:"1",b': '2' }, { a: '1,"b":2' }, { a: 'x\ny' }, { a: 'x\\ny' }
  ]
  const keys = distinct.map(contextKey)
  t.equal(new Set(keys).size, distinct.length, keys.join(' | '))
})

t.test('contextKey: two contexts share a key only when the engine reads them alike (property)', async (t) => {
  // Few names and look-alike values, so that pairs often come close: the engine reads a value as its type and String(value).
  const value = fc.constantFrom<string | number | boolean>('1', 1, true, 'true', '', 0, -0, Infinity, NaN, 'Infinity', 1e21, '1e+21', 'x', '"x"', 'x,"b":1')
  const context = fc.dictionary(fc.constantFrom('a', 'b', 'a"', 'b:'), value, { maxKeys: 3 })
  const read = (c: EvaluationContext): string => JSON.stringify(Object.entries(c).map(([k, v]) => [k, typeof v, String(v)]))
  fc.assert(fc.property(context, context, (a, b) => contextKey(a) !== contextKey(b) || read(a) === read(b)), { numRuns: 2000 })
  t.pass('no key is shared by contexts the engine reads differently')
})

t.test('an answer is kept the second time its context asks, and served only for the plan it was made from', async (t) => {
  const cache = createBulkAnswerCache(1024)
  t.notOk(cache.admits('k', 10), 'first time: not kept')
  t.ok(cache.admits('k', 10), 'second time: kept')
  t.notOk(cache.admits('k', 10), 'admitted once: remembered anew')
  cache.set('k', kept('A'), 10)
  t.equal(cache.get<string>('k', plan)?.answer, 'A')
  const before = cache.size
  t.equal(cache.get('k', {}), undefined, 'another plan (a new revision): not served')
  t.equal(cache.size, before - (10 + 1), 'and dropped')
  t.equal(cache.get('k', plan), undefined, 'nor later for its own plan')
  cache.set('retired', kept('R'), 10)
  t.equal(cache.get('retired', {}), undefined)
  t.ok(cache.admits('retired', 10), 'a context whose answer was retired by a new plan is kept again at once')
  t.notOk(cache.admits('other', 10), 'one that never had an answer waits for its second time')
})

t.test('least recently used answers go first past the budget; an answer larger than the budget is not kept', async (t) => {
  const cache = createBulkAnswerCache(300)
  for (const key of ['a', 'b', 'c']) cache.set(key, kept(key), 99)
  t.equal(cache.size, 300)
  cache.get('a', plan)
  cache.set('d', kept('d'), 99)
  t.same(['a', 'b', 'c', 'd'].map((k) => cache.get<string>(k, plan)?.answer), ['a', undefined, 'c', 'd'], 'b, the least recently used, went')
  t.ok(cache.size <= 300, `size ${cache.size}`)
  cache.set('huge', kept('huge'), 1000)
  t.equal(cache.get('huge', plan), undefined)
  t.equal(cache.get<string>('c', plan)?.answer, 'c', 'and evicted nothing')
  cache.set('c', kept('c2'), 50)
  t.equal(cache.get<string>('c', plan)?.answer, 'c2', 'set again: replaced')
  t.ok(cache.size <= 300)
})

t.test('a context is kept when it comes back within as many others as the budget holds answers; later ones evict nothing', async (t) => {
  // 1,000 bytes of budget, answers of 100: room for 10.
  const cache = createBulkAnswerCache(1000)
  const asks = (keys: string[]): string[] => keys.filter((key) => cache.admits(key, 100))
  const others = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
  t.same(asks(['soon', ...others('a', 4), 'soon']), ['soon'], 'back after 4 others: kept')
  t.same(asks(['late', ...others('b', 20), 'late']), [], 'back after 20 others: not kept')
  cache.set('held', kept('H'), 50)
  t.same(asks(others('c', 1000)), [], 'a thousand contexts asking once: none kept')
  t.equal(cache.get<string>('held', plan)?.answer, 'H', 'and the kept answer stays')
  t.notOk(createBulkAnswerCache(1000).admits('huge', 5000), 'an answer larger than the budget: remembered, not kept')
})

t.test('contexts asked once are remembered by a 32-bit hash of their key (FNV-1a), not by the key itself', async (t) => {
  // FNV-1a's published 32-bit vectors (ASCII: one UTF-16 code unit per byte).
  t.equal(fnv1a('') >>> 0, 0x811c9dc5)
  t.equal(fnv1a('a') >>> 0, 0xe40c292c)
  t.equal(fnv1a('foobar') >>> 0, 0xbf9cf968)
  // Two keys with one hash (found by trying): the second is taken for the first coming back.
  const pair = fnv1aCollision((i) => `ofrep\nproduction\n{"targetingKey":"user-${i}"}`)
  const cache = createBulkAnswerCache(1000)
  t.notOk(cache.admits(pair[0], 100), 'the first asks once: remembered')
  t.ok(cache.admits(pair[1], 100), 'the other, of the same hash, is admitted one ask early: what a collision costs')
  t.notOk(cache.admits('ofrep\nproduction\n{"targetingKey":"someone-else"}', 100), 'any other key is not')
})
