import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { testDatabase } from '../support/test-database.js'

/**
 * Instances started together on a fresh database with no API_KEY: exactly one generates the admin
 * key (and prints it), and that key works on every instance within the poll bound, not only on the
 * one that made it.
 */
const POLL_MS = 100
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('the generated admin key works on every instance started with it', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: String(POLL_MS) })
  // The first start migrates; the three instances then start and generate at the same moment.
  const first = await createContainer(config)
  t.teardown(() => first.close())
  const others = await Promise.all([createContainer(config), createContainer(config)])
  t.teardown(async () => { for (const c of others) await c.close() })
  const instances = [first, ...others]

  const generated = await Promise.all(instances.map((c) => c.services.apiKeys.ensureBootstrapKey()))
  const keys = generated.filter((k): k is string => k !== null)
  t.equal(keys.length, 1, 'exactly one instance generated (and would print) a key')
  t.equal((await first.repositories.apiKeys.all()).length, 1, 'one key is stored')

  // Within a few polls every instance accepts it.
  let accepted: boolean[] = []
  for (let i = 0; i < 50; i++) {
    accepted = instances.map((c) => c.services.apiKeys.authenticate(keys[0])?.role === 'admin')
    if (accepted.every(Boolean)) break
    await sleep(POLL_MS / 2)
  }
  t.same(accepted, [true, true, true], 'every instance accepts the key')

  // A later restart generates nothing new.
  const restarted = await createContainer(config)
  t.teardown(() => restarted.close())
  t.equal(await restarted.services.apiKeys.ensureBootstrapKey(), null)
  t.equal(restarted.services.apiKeys.authenticate(keys[0])?.role, 'admin')
})
