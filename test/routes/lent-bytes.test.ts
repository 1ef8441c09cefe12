import { EventEmitter } from 'node:events'
import t from 'tap'
import { giveBackWhenClosed, lendBytes, ownBytes } from '../../src/routes/lent-bytes.js'

/**
 * Lent answer bytes (src/routes/lent-bytes.ts): memory is lent again only after the response it was
 * sent on is closed, never twice at once, and what is kept beyond a response is a copy. Each test
 * file runs in a process of its own, so the pool starts empty here. test/routes/bulk-lent.test.ts
 * holds the same promises over real sockets with slow and vanishing clients.
 */

const KIB = 1024
/** A fake raw response: giveBackWhenClosed only listens for its `close`. */
const response = (): EventEmitter => new EventEmitter()

t.test('small answers are ordinary buffers: never lent, kept as they are', async (t) => {
  const small = lendBytes(100)
  t.equal(small.length, 100)
  t.equal(ownBytes(small), small, 'nothing to copy')
  const res = response()
  giveBackWhenClosed(res, small)
  t.equal(res.listenerCount('close'), 0, 'nothing to give back')
})

t.test('lent memory is lent again only once its response is closed', async (t) => {
  const first = lendBytes(40 * KIB)
  t.equal(first.length, 40 * KIB)
  const res = response()
  giveBackWhenClosed(res, first)
  const meanwhile = lendBytes(40 * KIB)
  t.not(meanwhile.buffer, first.buffer, 'still being sent: another request gets other memory')
  res.emit('finish')
  t.not(lendBytes(40 * KIB).buffer, first.buffer, 'not on finish alone')
  res.emit('close')
  const again = lendBytes(33 * KIB)
  t.equal(again.buffer, first.buffer, 'closed: the next answer of that size class reuses it')
  t.equal(again.length, 33 * KIB, 'as long as asked, whatever the memory holds')
  t.not(lendBytes(40 * KIB).buffer, first.buffer, 'and it is lent once')
})

t.test('bytes given back twice are lent once', async (t) => {
  const bytes = lendBytes(50 * KIB)
  const res = response()
  giveBackWhenClosed(res, bytes)
  giveBackWhenClosed(res, bytes)
  giveBackWhenClosed(response(), bytes)
  t.equal(res.listenerCount('close'), 1, 'one promise')
  res.emit('close')
  res.emit('close')
  const a = lendBytes(50 * KIB)
  const b = lendBytes(50 * KIB)
  t.equal(a.buffer, bytes.buffer)
  t.not(b.buffer, bytes.buffer, 'not handed to two answers at once')
})

t.test('bytes never given back are never lent again', async (t) => {
  const dropped = lendBytes(20 * KIB)
  for (let i = 0; i < 5; i++) t.not(lendBytes(20 * KIB).buffer, dropped.buffer)
})

t.test('what is kept is a copy: the lent memory may go back and be overwritten', async (t) => {
  const bytes = lendBytes(24 * KIB).fill(7)
  const kept = ownBytes(bytes)
  t.not(kept.buffer, bytes.buffer)
  t.same(kept, bytes)
  t.equal(ownBytes(kept), kept, 'a copy is no longer lent')
  const res = response()
  giveBackWhenClosed(res, bytes)
  res.emit('close')
  const next = lendBytes(24 * KIB)
  t.equal(next.buffer, bytes.buffer)
  next.fill(9)
  t.ok(kept.every((b) => b === 7), 'the kept copy is untouched')
})

t.test('free memory is bounded: what is given back beyond 8 MiB is left to the collector', async (t) => {
  const size = 2 * 1024 * KIB
  const lent = Array.from({ length: 6 }, () => lendBytes(size))
  t.equal(new Set(lent.map((b) => b.buffer)).size, 6)
  const res = response()
  for (const bytes of lent) giveBackWhenClosed(res, bytes)
  res.emit('close')
  const again = Array.from({ length: 6 }, () => lendBytes(size))
  const reused = again.filter((b) => lent.some((l) => l.buffer === b.buffer))
  t.equal(reused.length, 4, 'four of 2 MiB kept free, two left')
})
