import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import { testDatabase } from '../support/test-database.js'

const WRITER = { actor: 'test' }

async function twoInstances (t: { teardown (fn: () => unknown): void }, refreshMs = 50): Promise<[Container, Container]> {
  const db = await testDatabase(t, { shared: true })
  const config = loadConfig({ DATABASE_URL: db.url, CACHE_REFRESH_MS: String(refreshMs), LOG_LEVEL: 'silent' })
  const a = await createContainer(config)
  const b = await createContainer(config)
  t.teardown(async () => { await a.close(); await b.close() })
  return [a, b]
}

async function until (check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) { if (check()) return true; await sleep(10) }
  return check()
}

t.test('a write on one instance reaches another through the revision poll', async (t) => {
  const [a, b] = await twoInstances(t)
  await a.services.flags.create({ name: 'shared', defaultValue: false, targetingRules: { percentage: 0 } }, WRITER)
  t.equal(a.services.flags.evaluate('shared', {}).value, false, 'the writer reads its own write at once')
  t.ok(await until(() => b.snapshot.get('shared') !== undefined), 'the other instance picks it up')
  t.equal(b.services.flags.evaluate('shared', {}).value, false)

  await a.services.flags.update('shared', { enabled: false }, WRITER)
  t.ok(await until(() => b.services.flags.evaluate('shared', {}).reason === 'DISABLED'))

  await a.services.flags.rename('shared', 'renamed', WRITER)
  t.ok(await until(() => b.snapshot.get('renamed') !== undefined && b.snapshot.get('shared') === undefined), 'rename: old name gone, new name present')

  await a.services.flags.remove('renamed', WRITER)
  t.ok(await until(() => b.snapshot.get('renamed') === undefined), 'delete propagates')
  t.equal(b.snapshot.revision, await a.repositories.flags.latestRevision(), 'both at the same revision')
})

t.test('catchUp applies exactly the changed flags and keeps the others', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  await a.services.flags.create({ name: 'one', defaultValue: true }, WRITER)
  await a.services.flags.create({ name: 'two', defaultValue: true }, WRITER)
  await b.snapshot.catchUp()
  const before = b.snapshot.get('one')
  await a.services.flags.update('two', { description: 'changed' }, WRITER)
  await b.snapshot.catchUp()
  t.equal(b.snapshot.get('one'), before, 'an unchanged flag keeps its compiled object')
  t.equal(b.snapshot.get('two')?.version, 2)
  t.equal(b.snapshot.revision, 3)
})

t.test('a failing refresh keeps serving the last snapshot', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  await a.services.flags.create({ name: 'steady', defaultValue: true }, WRITER)
  await b.snapshot.catchUp()
  const repo = b.repositories.flags
  const original = repo.latestRevision
  repo.latestRevision = async () => { throw new Error('database unreachable') }
  await t.rejects(b.snapshot.catchUp(), /unreachable/)
  t.equal(b.services.flags.evaluate('steady', {}).value, true, 'evaluation still served from memory')
  repo.latestRevision = original
  await b.snapshot.catchUp()
  t.equal(b.snapshot.revision, 1)
})

t.test('overrides and users written on one instance reach the other, and customers are inferred there', async (t) => {
  const [a, b] = await twoInstances(t)
  // Until the flag reaches b, evaluating it there is a 404; read that as "no rule yet".
  const ruleOn = (name: string, context: Record<string, string>): string | undefined => {
    try { return b.services.flags.evaluate(name, context).rule } catch { return undefined }
  }
  await a.services.flags.create({ name: 'gated', defaultValue: true }, WRITER)
  t.equal(a.services.flags.evaluate('gated', { user_id: 'u1' }).reason, 'STATIC', 'no targeting yet')
  await a.services.subjects.setOverride('gated', 'customer', 'acme', { enabled: false }, WRITER)
  await a.services.subjects.addUser({ id: 'u1', customerId: 'acme' }, WRITER)
  t.match(a.services.flags.evaluate('gated', { user_id: 'u1' }), { value: false, rule: 'customer_override' }, 'the writer infers acme for u1')
  t.ok(await until(() => ruleOn('gated', { user_id: 'u1' }) === 'customer_override'), 'so does the other instance')
  t.match(b.services.flags.evaluate('gated', { user_id: 'u1', customer_id: 'other' }), { value: true }, 'an explicit customer_id is not overridden')

  await a.services.subjects.setOverride('gated', 'user', 'u1', { enabled: true }, WRITER)
  t.ok(await until(() => ruleOn('gated', { user_id: 'u1' }) === 'user_override'), 'user override beats the inferred customer')
  await a.services.subjects.removeUser('u1', WRITER)
  t.ok(await until(() => ruleOn('gated', { user_id: 'u1' }) === 'fallthrough' && b.snapshot.customerOf('u1') === undefined),
    'removing the user drops its override and its inferred customer')
  await a.services.flags.rename('gated', 'gated2', WRITER)
  t.ok(await until(() => ruleOn('gated2', { customer_id: 'acme' }) === 'customer_override'), 'a rename keeps the overrides')
})
