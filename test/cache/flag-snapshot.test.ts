import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import { testDatabase } from '../support/test-database.js'
import { until } from '../support/until.js'

const WRITER = { actor: 'test' }
/** The default environment: where a fresh database's flags are served. */
const P = 'production'

async function twoInstances (t: { teardown (fn: () => unknown): void }, refreshMs = 50): Promise<[Container, Container]> {
  const db = await testDatabase(t, { shared: true })
  const config = loadConfig({ DATABASE_URL: db.url, CACHE_REFRESH_MS: String(refreshMs), LOG_LEVEL: 'silent' })
  const a = await createContainer(config)
  const b = await createContainer(config)
  t.teardown(async () => { await a.close(); await b.close() })
  return [a, b]
}

t.test('a write on one instance reaches another through the revision poll', async (t) => {
  const [a, b] = await twoInstances(t)
  await a.services.flags.create(P, { name: 'shared', defaultValue: false, targetingRules: { percentage: 0 } }, WRITER)
  t.equal(a.services.flags.evaluate(P, 'shared', {}).value, false, 'the writer reads its own write at once')
  await t.resolves(until(() => b.snapshot.get(P, 'shared') !== undefined, 3000, 10), 'the other instance picks it up')
  t.equal(b.services.flags.evaluate(P, 'shared', {}).value, false)

  await a.services.flags.update(P, 'shared', { enabled: false }, WRITER)
  await t.resolves(until(() => b.services.flags.evaluate(P, 'shared', {}).reason === 'DISABLED', 3000, 10))

  await a.services.flags.rename(P, 'shared', 'renamed', WRITER)
  await t.resolves(until(() => b.snapshot.get(P, 'renamed') !== undefined && b.snapshot.get(P, 'shared') === undefined, 3000, 10), 'rename: old name gone, new name present')

  await a.services.flags.remove(P, 'renamed', WRITER)
  await t.resolves(until(() => b.snapshot.get(P, 'renamed') === undefined, 3000, 10), 'delete propagates')
  t.equal(b.snapshot.revision, await a.repositories.flags.latestRevision(), 'both at the same revision')
})

t.test('catchUp applies exactly the changed flags and keeps the others', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  await a.services.flags.create(P, { name: 'one', defaultValue: true }, WRITER)
  await a.services.flags.create(P, { name: 'two', defaultValue: true }, WRITER)
  await b.snapshot.catchUp()
  const before = b.snapshot.get(P, 'one')
  await a.services.flags.update(P, 'two', { description: 'changed' }, WRITER)
  await b.snapshot.catchUp()
  t.equal(b.snapshot.get(P, 'one'), before, 'an unchanged flag keeps its compiled object')
  t.equal(b.snapshot.get(P, 'two')?.version, 2)
  t.equal(b.snapshot.revision, 3)
})

t.test('a failing refresh keeps serving the last snapshot', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  await a.services.flags.create(P, { name: 'steady', defaultValue: true }, WRITER)
  await b.snapshot.catchUp()
  const repo = b.repositories.flags
  const original = repo.latestRevision
  repo.latestRevision = async () => { throw new Error('database unreachable') }
  await t.rejects(b.snapshot.catchUp(), /unreachable/)
  t.equal(b.services.flags.evaluate(P, 'steady', {}).value, true, 'evaluation still served from memory')
  repo.latestRevision = original
  await b.snapshot.catchUp()
  t.equal(b.snapshot.revision, 1)
})

t.test('overrides and users written on one instance reach the other, and customers are inferred there', async (t) => {
  const [a, b] = await twoInstances(t)
  // Until the flag reaches b, evaluating it there is a 404; read that as "no rule yet".
  const ruleOn = (name: string, context: Record<string, string>): string | undefined => {
    try { return b.services.flags.evaluate(P, name, context).rule } catch { return undefined }
  }
  await a.services.flags.create(P, { name: 'gated', defaultValue: true }, WRITER)
  t.equal(a.services.flags.evaluate(P, 'gated', { user_id: 'u1' }).reason, 'STATIC', 'no targeting yet')
  await a.services.subjects.setOverride(P, 'gated', 'customer', 'acme', { enabled: false }, WRITER)
  await a.services.subjects.addUser({ id: 'u1', customerId: 'acme' }, WRITER)
  t.match(a.services.flags.evaluate(P, 'gated', { user_id: 'u1' }), { value: false, rule: 'customer_override' }, 'the writer infers acme for u1')
  await t.resolves(until(() => ruleOn('gated', { user_id: 'u1' }) === 'customer_override', 3000, 10), 'so does the other instance')
  t.match(b.services.flags.evaluate(P, 'gated', { user_id: 'u1', customer_id: 'other' }), { value: true }, 'an explicit customer_id is not overridden')

  await a.services.subjects.setOverride(P, 'gated', 'user', 'u1', { enabled: true }, WRITER)
  await t.resolves(until(() => ruleOn('gated', { user_id: 'u1' }) === 'user_override', 3000, 10), 'user override beats the inferred customer')
  await a.services.subjects.removeUser('u1', WRITER)
  await t.resolves(until(() => ruleOn('gated', { user_id: 'u1' }) === 'fallthrough' && b.snapshot.customerOf('u1') === undefined, 3000, 10),
    'removing the user drops its override and its inferred customer')
  await a.services.flags.rename(P, 'gated', 'gated2', WRITER)
  await t.resolves(until(() => ruleOn('gated2', { customer_id: 'acme' }) === 'customer_override', 3000, 10), 'a rename keeps the overrides')
})

t.test('a change in one environment is served there and leaves another environment\'s compiled flag as it was', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  const D = 'development'
  await a.services.flags.create(P, { name: 'split', defaultValue: true }, WRITER)
  await b.snapshot.catchUp()
  const prod = b.snapshot.get(P, 'split')!
  t.ok(prod.definition.enabled, 'served on where it was created')
  t.equal(b.snapshot.get(D, 'split')?.definition.enabled, false, 'and off in the other environment')
  t.equal(b.services.flags.evaluate(D, 'split', { user_id: 'u1' }).reason, 'DISABLED')
  const prodServes = (user: string): string => {
    const { value, rule } = b.services.flags.evaluate(P, 'split', { user_id: user })
    return `${String(value)} ${rule}`
  }
  t.equal(prodServes('u1'), 'true fallthrough')

  // An override in development: patched into development's flag only.
  await a.services.subjects.setOverride(D, 'split', 'user', 'u1', { enabled: false }, WRITER)
  await b.snapshot.catchUp()
  t.equal(b.snapshot.revision, await a.repositories.flags.latestRevision())
  t.equal(b.snapshot.get(D, 'split')?.userOverrides?.has('u1'), true, 'development serves the override')
  t.equal(b.snapshot.get(P, 'split'), prod, 'production keeps its compiled object')
  t.equal(prod.userOverrides?.has('u1') ?? false, false, 'with no override')
  t.equal(prodServes('u1'), 'true fallthrough')

  // A configuration update in development: served there, production's configuration as it was.
  await a.services.flags.update(D, 'split', { enabled: true, targetingRules: { percentage: 0 } }, WRITER)
  await b.snapshot.catchUp()
  t.equal(b.snapshot.revision, await a.repositories.flags.latestRevision())
  const dev = b.snapshot.get(D, 'split')!
  t.equal(dev.definition.enabled, true, 'development serves the update')
  t.same(dev.definition.targeting_rules.percentage, 0)
  t.match(b.services.flags.evaluate(D, 'split', { user_id: 'u1' }), { value: false, rule: 'user_override' }, 'the development override still applies')
  t.match(b.services.flags.evaluate(D, 'split', { user_id: 'u2' }), { value: false, rule: 'fallthrough' }, 'and the development targeting')
  const after = b.snapshot.get(P, 'split')!
  // The version is the flag's (it moves with a change in any environment); the rest is production's own.
  t.same({ ...after.definition, version: 0 }, { ...prod.definition, version: 0 }, 'production\'s compiled definition is unchanged')
  t.equal(after.userOverrides?.has('u1') ?? false, false, 'production took no override')
  t.equal(prodServes('u1'), 'true fallthrough')
  t.equal(prodServes('u2'), 'true fallthrough')
  t.match(await a.repositories.flags.get(P, 'split'), { enabled: true, targetingRules: prod.definition.targeting_rules }, 'the stored production configuration too')
})

t.test('an environment created in the database is served after a catch-up', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  await a.services.flags.create(P, { name: 'carried', defaultValue: true, targetingRules: { percentage: 30 } }, WRITER)
  await b.snapshot.catchUp()
  t.equal(b.snapshot.hasEnvironment('staging'), false)
  t.equal(b.snapshot.get('staging', 'carried'), undefined)
  t.same([...b.snapshot.values('staging')], [])
  const prod = b.snapshot.get(P, 'carried')!

  const staging = { key: 'staging', name: 'Staging', position: 2, createdAt: new Date() }
  const revision = await a.repositories.environments.create(staging, P,
    { actor: 'test', action: 'environment.create', environment: 'staging', names: [], before: null, after: staging })
  await b.snapshot.catchUp()
  t.equal(b.snapshot.revision, revision, 'at the revision that created it')
  t.equal(b.snapshot.hasEnvironment('staging'), true)
  t.same(b.snapshot.environments().map((e) => e.key), ['development', 'production', 'staging'], 'by position')
  const served = b.snapshot.get('staging', 'carried')
  t.ok(served, 'the flag is served in the new environment')
  t.equal(served?.definition.enabled, false, 'off there')
  t.same(served?.definition.targeting_rules, prod.definition.targeting_rules, 'with the configuration copied from production')
  t.same([...b.snapshot.values('staging')].map((f) => f.definition.name), ['carried'])
  t.equal(b.services.flags.evaluate('staging', 'carried', { user_id: 'u1' }).reason, 'DISABLED')
  t.same(b.snapshot.get(P, 'carried')?.definition, prod.definition, 'production is served as before')
})

t.test('sorted(): the environment\'s flags by name, the same array until a catch-up changes them, a new one after', async (t) => {
  const [a, b] = await twoInstances(t, 3_600_000)
  // Code-unit order, whatever order they were written in: the bulk answer's order on every instance.
  for (const name of ['b-two', 'a.one', 'B-upper', 'a-one', 'c']) await a.services.flags.create(P, { name, defaultValue: true }, WRITER)
  await b.snapshot.catchUp()
  const sorted = b.snapshot.sorted(P)
  t.strictSame(sorted.map((f) => f.name), ['B-upper', 'a-one', 'a.one', 'b-two', 'c'])
  t.equal(b.snapshot.sorted(P), sorted, 'asked again: the same array')
  await b.snapshot.catchUp()
  t.equal(b.snapshot.sorted(P), sorted, 'a catch-up that found nothing keeps it')
  t.strictSame(b.snapshot.sorted('nowhere'), [], 'an unknown environment has none')

  await a.services.flags.update(P, 'c', { enabled: false }, WRITER)
  await b.snapshot.catchUp()
  const after = b.snapshot.sorted(P)
  t.not(after, sorted, 'a change: a new array')
  t.equal(after[4], b.snapshot.get(P, 'c'), 'holding the recompiled flag')
  t.equal(after[4].enabled, false)
  t.equal(after[0], sorted[0], 'and the unchanged flags as they were')

  await a.services.flags.remove(P, 'a.one', WRITER)
  await b.snapshot.catchUp()
  t.strictSame(b.snapshot.sorted(P).map((f) => f.name), ['B-upper', 'a-one', 'b-two', 'c'], 'a deleted flag is gone from it')
})
