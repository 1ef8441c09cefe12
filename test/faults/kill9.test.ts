import t from 'tap'
import { start } from '../support/process.js'
import { testDatabase } from '../support/test-database.js'

const KEY = 'kill9-write-key-0123456789'

// On the pass's database: SQLite (WAL, synchronous=FULL: an acknowledged write is on disk), or on the
// Postgres pass, Postgres (an acknowledged write is committed; the killed process's open transactions
// are rolled back by the server, never half-applied).

t.test('kill -9 during a burst of writes: after restart every acknowledged write is there', async (t) => {
  const env = { DATABASE_URL: (await testDatabase(t, { shared: true })).url, API_KEY: KEY, LOG_LEVEL: 'warn' }
  const first = await start(env)
  t.teardown(() => { first.child.kill('SIGKILL') })
  const acknowledged: string[] = []
  let stop = false
  const writer = async (w: number): Promise<void> => {
    // eslint-disable-next-line no-unmodified-loop-condition -- the test sets stop while the writers run
    for (let i = 0; !stop; i++) {
      const name = `burst-${w}-${i}`
      try {
        const res = await fetch(`${first.base}/flags`, {
          method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ name, description: 'x'.repeat(200) })
        })
        if (res.status === 201) acknowledged.push(name)
      } catch { return } // the process is gone
    }
  }
  const writers = Array.from({ length: 8 }, (_, w) => writer(w))
  while (acknowledged.length < 60) await new Promise((resolve) => setTimeout(resolve, 5))
  first.child.kill('SIGKILL')
  stop = true
  await Promise.all(writers)
  t.equal(await first.exited, null, 'killed, not exited')

  const second = await start(env)
  t.teardown(() => { second.child.kill('SIGKILL') })
  const missing: string[] = []
  for (const name of acknowledged) {
    const res = await fetch(`${second.base}/flags/${name}`)
    if (res.status !== 200) missing.push(name)
  }
  t.same(missing, [], `all ${acknowledged.length} acknowledged writes survived`)
  const revision = await (await fetch(`${second.base}/readyz`)).json() as { revision: number }
  t.ok(revision.revision >= acknowledged.length, 'and their change-log rows')
})
