import type { EventEmitter } from 'node:events'

/**
 * Answer bytes lent for one response and given back when it is closed. A bulk answer is tens of
 * kilobytes made for each request; allocated afresh every time, its memory is freed by the garbage
 * collector in batches, glibc hands the top of its heap back to the kernel, and the next answers
 * fault fresh pages in again (a fifth to a third of a bulk request's CPU: bench/README, "fresh pages
 * for every answer"). Lent memory is used again instead.
 *
 * A lent buffer goes back only on its response's `close`: after the last byte was handed to the
 * kernel (`finish` comes first), or after the connection was dropped and its pending writes cancelled.
 * Never sooner, or an answer still queued for a slow client would be overwritten by the next one. A
 * buffer that is never given back (an answer the flag service keeps gets a copy of its own, see
 * `ownBytes`; a throw before sending) is simply collected.
 */

/** Below this, Buffer.allocUnsafe takes a slice of Node's own shared pool: nothing to gain. */
const SMALLEST = Buffer.poolSize >>> 1
/** Free memory kept for lending, all sizes together; what is given back beyond it is left to the collector. */
const FREE_BYTES = 8 * 1024 * 1024

/** Free memory by capacity (a power of two, so that answers of nearby sizes share it). */
const free = new Map<number, ArrayBuffer[]>()
let freeBytes = 0
/** The memory lent now and not yet promised back. Weak: a buffer dropped on the way is collected. */
const lent = new WeakSet<ArrayBufferLike>()

/** `size` bytes, uninitialized: lent memory when `size` is worth it, else an ordinary buffer. */
export function lendBytes (size: number): Buffer {
  if (size < SMALLEST) return Buffer.allocUnsafe(size)
  const capacity = 2 ** Math.ceil(Math.log2(size))
  let memory = free.get(capacity)?.pop()
  if (memory === undefined) memory = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer
  else freeBytes -= capacity
  lent.add(memory)
  return Buffer.from(memory, 0, size)
}

/** `bytes` to keep beyond the response: a copy when they are lent, else the same buffer. */
export const ownBytes = (bytes: Buffer): Buffer => lent.has(bytes.buffer) ? Buffer.from(bytes) : bytes

/**
 * `bytes` are sent on `response` (the raw one): when lent, they are lent again once it is closed.
 * Bytes that are not lent, or already promised back, are left alone, so a second call is harmless.
 */
export function giveBackWhenClosed (response: EventEmitter, bytes: Buffer): void {
  const memory = bytes.buffer
  if (!lent.delete(memory)) return
  response.once('close', () => {
    const capacity = memory.byteLength
    if (freeBytes + capacity > FREE_BYTES) return
    const list = free.get(capacity)
    if (list === undefined) free.set(capacity, [memory as ArrayBuffer])
    else list.push(memory as ArrayBuffer)
    freeBytes += capacity
  })
}
