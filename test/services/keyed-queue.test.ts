import t from 'tap'
import { createKeyedQueue } from '../../src/services/keyed-queue.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

t.test('work on one key runs one at a time, in order; other keys run alongside', async (t) => {
  const run = createKeyedQueue()
  const events: string[] = []
  const job = (key: string, id: string) => run(key, async () => { events.push(`start ${id}`); await tick(); events.push(`end ${id}`); return id })
  const results = await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1')])
  t.same(results, ['a1', 'a2', 'b1'])
  t.same(events.filter((e) => e.endsWith('a1') || e.endsWith('a2')), ['start a1', 'end a1', 'start a2', 'end a2'], 'a2 waits for a1')
  t.ok(events.indexOf('start b1') < events.indexOf('end a1'), 'b does not wait for a')
})

t.test('a failure is returned to its caller and does not block the next job', async (t) => {
  const run = createKeyedQueue()
  const failing = run('k', async () => { throw new Error('boom') })
  const next = run('k', async () => 'ran')
  await t.rejects(failing, /boom/)
  t.equal(await next, 'ran')
})
