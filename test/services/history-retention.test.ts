import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { dataDir } from '../support/process.js'

// CHANGE_RETENTION_DAYS: a starting instance prunes history older than the retention, keeping the
// latest entry (the revision every instance compares against); 0 (the default) keeps everything.

const DAY_MS = 86_400_000

async function history (url: string, env: Record<string, string>): Promise<number[]> {
  const container = await createContainer(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', ...env }))
  try {
    // Pruning runs in the background from start-up: wait for it to have happened (or not).
    await new Promise((resolve) => setTimeout(resolve, 300))
    return (await container.repositories.changes.list({ order: 'asc', limit: 1000 })).map((e) => e.revision)
  } finally {
    await container.close()
  }
}

t.test('a start with CHANGE_RETENTION_DAYS prunes older entries, never the latest; without it nothing goes', async (t) => {
  const file = join(dataDir(t), 'flagpost.db')
  const url = `file:${file}`
  const container = await createContainer(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }))
  for (const id of ['a', 'b', 'c', 'd']) await container.services.subjects.addCustomer({ id }, { actor: 'test' })
  const revisions = (await container.repositories.changes.list({ order: 'asc', limit: 1000 })).map((e) => e.revision)
  await container.close()
  // Everything but the newest customer happened 40 days ago, the newest 40 days ago too: all old.
  const db = new Database(file)
  db.prepare('update change_log set at = at - ?').run(40 * DAY_MS)
  db.close()

  t.same(await history(url, {}), revisions, 'the default keeps every entry')
  t.same(await history(url, { CHANGE_RETENTION_DAYS: '90' }), revisions, 'entries inside the retention stay')
  t.same(await history(url, { CHANGE_RETENTION_DAYS: '30' }), [revisions.at(-1)], 'older ones go, the latest stays')
  const again = await createContainer(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }))
  t.teardown(() => again.close())
  t.equal(await again.repositories.flags.latestRevision(), revisions.at(-1), 'the revision is unchanged')
  await again.services.subjects.addCustomer({ id: 'e' }, { actor: 'test' })
  t.equal(await again.repositories.flags.latestRevision(), revisions.at(-1)! + 1, 'and the next write takes the next one')
})
