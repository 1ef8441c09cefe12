import { lendBytes } from './lent-bytes.js'

/** JSON a route sends as text it built itself (Fastify sends a string as text/plain unless told). */
export const JSON_TYPE = 'application/json; charset=utf-8'

/** The bytes of one element of a JSON list or object as a route keeps them: the comma before it, then the element. */
export const listedBytes = (json: string): Buffer => Buffer.from(`,${json}`)

/**
 * Reused by every join (joining is synchronous), at the length of the largest join so far: emptied
 * after each by overwriting (so it keeps no answer's pieces alive), never by `length = 0`, which hands
 * its storage back, so that the next join of 350 entries grew it again, about 7 KB of garbage per bulk
 * request (bench/README, twelfth session).
 */
const parts: Uint8Array[] = []
const NOTHING = Buffer.alloc(0)

/**
 * `open`, the items' elements (`bytesOf`: made once per item with `listedBytes`, the first one's comma
 * dropped) and `close`, as one buffer: an answer of hundreds of elements is copied together, not joined
 * as text and then encoded on every request. The buffer is lent (lent-bytes.ts): whoever sends it gives
 * it back with giveBackWhenClosed, and whoever keeps it keeps `ownBytes` of it.
 */
export function joinedBytes<T> (open: Buffer, items: ArrayLike<T>, bytesOf: (item: T, index: number) => Uint8Array, close: Buffer): Buffer {
  const n = items.length + 2
  parts[0] = open
  let total = open.length
  for (let i = 0; i < items.length; i++) {
    const bytes = i === 0 ? bytesOf(items[i], i).subarray(1) : bytesOf(items[i], i)
    parts[i + 1] = bytes
    total += bytes.length
  }
  parts[n - 1] = close
  total += close.length
  const joined = lendBytes(total)
  let at = 0
  for (let i = 0; i < n; i++) {
    const part = parts[i]
    joined.set(part, at)
    at += part.length
  }
  parts.fill(NOTHING, 0, n)
  return joined
}

/**
 * `make(index)`, made on its first use for each index below `count` and kept: a plan's text per
 * outcome (services/bulk-plan.ts), found by its index in one array: a single evaluation's answer,
 * sent as text as the flag's own result's is (bench/README, twenty-first session).
 */
export function madeOnce<T> (count: number, make: (index: number) => T): (index: number) => T {
  const made = new Array<T | undefined>(count)
  return (index) => {
    let value = made[index]
    if (value === undefined) made[index] = value = make(index)
    return value
  }
}

/** How much memory `laidOut` takes at a time for the bytes it keeps. */
const CHUNK = 64 * 1024

/**
 * `make(index)`, made on its first use for each index below `count` and kept, its bytes copied after
 * those made before into buffers of their own (CHUNK bytes each; larger bytes get one of their size);
 * what it returns are views on them. A plan's outcomes (services/bulk-plan.ts) are laid out this way
 * in the order they are first served, for a bulk answer: about flag order. The join then reads memory
 * laid out as the answer is, rather than one small buffer per result spread over the heap and reached
 * through the result, which takes fewer of the CPU's cache lines per request (bench/README, thirteenth
 * session). Only what is served is made, as before.
 */
export function laidOut (count: number, make: (index: number) => Uint8Array): (index: number) => Uint8Array {
  const views = new Array<Uint8Array | undefined>(count)
  let chunk = Buffer.alloc(0)
  let used = 0
  return (index) => {
    let view = views[index]
    if (view === undefined) {
      const bytes = make(index)
      if (used + bytes.length > chunk.length) {
        chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK, bytes.length))
        used = 0
      }
      chunk.set(bytes, used)
      view = views[index] = chunk.subarray(used, used + bytes.length)
      used += bytes.length
    }
    return view
  }
}
