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
const parts: Buffer[] = []
const NOTHING = Buffer.alloc(0)

/**
 * `open`, the items' elements (`bytesOf`: made once per item with `listedBytes`, the first one's comma
 * dropped) and `close`, as one buffer: an answer of hundreds of elements is copied together, not joined
 * as text and then encoded on every request. The buffer is lent (lent-bytes.ts): whoever sends it gives
 * it back with giveBackWhenClosed, and whoever keeps it keeps `ownBytes` of it.
 */
export function joinedBytes<T> (open: Buffer, items: readonly T[], bytesOf: (item: T, index: number) => Buffer, close: Buffer): Buffer {
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
