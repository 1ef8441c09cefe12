import t from 'tap'
import { SharedWindowStore } from '../../src/plugins/rate-limit.js'

/** The store behind RATE_LIMIT_PER_MINUTE (the OFREP and evaluate routes share it; see ofrep.test.ts). */

const hit = (store: SharedWindowStore, key: string, windowMs = 60_000): { current: number, ttl: number } => {
  let result: { current: number, ttl: number } | undefined
  store.incr(key, (error, res) => { if (error) throw error; result = res }, windowMs)
  if (result === undefined) throw new Error('incr did not answer synchronously')
  return result
}

t.test('counts per client in a fixed window, shared by every route (child() is the same store)', async (t) => {
  const store = new SharedWindowStore()
  t.equal(store.child(), store)
  t.match(hit(store, '10.0.0.1'), { current: 1 })
  t.match(hit(store.child() as SharedWindowStore, '10.0.0.1'), { current: 2 })
  t.match(hit(store, '10.0.0.2'), { current: 1 }, 'another client has its own count')
  const { ttl } = hit(store, '10.0.0.1')
  t.ok(ttl > 59_000 && ttl <= 60_000, `ttl ${ttl} counts down from the window's start`)
})

t.test('a window that has passed starts again at 1', async (t) => {
  const store = new SharedWindowStore()
  hit(store, 'a', 20)
  hit(store, 'a', 20)
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.match(hit(store, 'a', 20), { current: 1 })
})

t.test('memory stays bounded: expired windows go first, then the oldest live one', async (t) => {
  const store = new SharedWindowStore({ capacity: 3 })
  hit(store, 'old', 10)
  hit(store, 'b')
  await new Promise((resolve) => setTimeout(resolve, 20))
  hit(store, 'c')
  hit(store, 'd')
  t.equal(store.size, 3, 'the expired window made room')
  hit(store, 'e')
  t.equal(store.size, 3, 'still full: the oldest live window (b) is forgotten')
  t.match(hit(store, 'b'), { current: 1 })
  t.match(hit(store, 'e'), { current: 2 })
})
