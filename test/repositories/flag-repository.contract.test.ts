import t from 'tap'
import { EnvironmentNotFoundError, FlagExistsError } from '../../src/errors.js'
import { offElsewhere, type AuditEntry, type StoredFlag } from '../../src/repositories/flag-repository.js'
import { repositoryImplementations } from './implementations.js'
import { openSqlite } from '../../src/db/sqlite-client.js'
import { migrateSqlite } from '../../src/db/migrate.js'
import { createPgFlagRepository } from '../../src/repositories/pg/flag-repository.js'
import { createSqliteFlagRepository } from '../../src/repositories/sqlite/flag-repository.js'
import { openIsolated } from '../support/postgres.js'
import type { StoredOverride } from '../../src/repositories/subject-repository.js'
import { storedFlag } from '../support/stored-flag.js'

const { implementations, pgUrl } = await repositoryImplementations(t, 'Postgres flag-repository contract')

let seq = 0
function flag (name: string, over: Partial<StoredFlag> = {}): StoredFlag {
  // Each flag its own id and time, so rows written in one test never collide or tie.
  const at = new Date(1_700_000_000_000 + seq++)
  return storedFlag(name, { id: `id-${name}-${seq}`, createdAt: at, updatedAt: at, ...over })
}
const audit = (names: string[], action = 'test', environment?: string): AuditEntry =>
  ({ actor: 'tester', action, ...(environment === undefined ? {} : { environment }), names, before: null, after: { names } })
const environmentAudit = (action: string): AuditEntry => ({ actor: 'tester', action, names: [], before: null, after: null })
const environment = (key: string, position: number) => ({ key, name: key, position, createdAt: new Date(1_700_000_000_000) })
/** The flag as it reads in another environment. */
const inEnvironment = (f: StoredFlag, environment: string, over: Partial<StoredFlag> = {}): StoredFlag => ({ ...f, environment, ...over })
const override = (f: StoredFlag, environment: string, subjectId: string, enabled = true): StoredOverride =>
  ({ flagId: f.id, environment, subject: 'user', subjectId, enabled, variant: null, createdAt: new Date(1_700_000_000_000), updatedAt: new Date(1_700_000_000_000) })
const noChanges = { environments: false, users: [], overrides: [] }

for (const [kind, open] of implementations) {
  t.test(`${kind}: one deployment id per database, the same on every call, another for another database`, async (t) => {
    const { meta } = await open(t)
    const ids = await Promise.all([meta.deploymentId(), meta.deploymentId(), meta.deploymentId()])
    t.match(ids[0], /^[0-9a-f-]{36}$/)
    t.same(ids, [ids[0], ids[0], ids[0]], 'concurrent first calls agree')
    t.equal(await meta.deploymentId(), ids[0])
    t.not(await (await open(t)).meta.deploymentId(), ids[0])
  })

  t.test(`${kind}: create, get, revision`, async (t) => {
    const repo = (await open(t)).flags
    t.equal(await repo.latestRevision(), 0)
    const f = flag('alpha', { tags: ['x'], metadata: { owner: 'team' }, variants: { on: { deep: [1, 'two'] }, off: null }, type: 'json' })
    t.equal(await repo.create(f, audit(['alpha'])), 1)
    t.same(await repo.get('production', 'alpha'), f)
    t.equal(await repo.get('production', 'missing'), undefined)
    t.equal(await repo.latestRevision(), 1)
  })

  t.test(`${kind}: a new flag is configured in every environment: as given where it is created, served off in the others`, async (t) => {
    const { flags, environments } = await open(t)
    await environments.create(environment('staging', 2), 'production', environmentAudit('environment.create'))
    const rules = { user_ids: ['u1'], customer_ids: [], rules: [], percentage: 30, rollout: null, bucket_by: 'user_id' as const }
    const a = flag('a', { defaultVariant: 'off', offVariant: 'on', targetingRules: rules })
    const b = flag('b', { environment: 'development' })
    await flags.create(a, audit(['a']))
    await flags.create(b, audit(['b']))
    // Elsewhere: served off, same default and off variant, targeting nobody in particular (offElsewhere).
    const elsewhere = (f: StoredFlag, env: string): StoredFlag => ({ ...offElsewhere(f), environment: env })
    t.same(offElsewhere(a), { ...a, enabled: false, targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' } })
    t.same(await flags.getMany(['a', 'b']), [
      elsewhere(a, 'development'), a, elsewhere(a, 'staging'),
      b, elsewhere(b, 'production'), elsewhere(b, 'staging')
    ])
  })

  t.test(`${kind}: creating a flag in an environment that does not exist is refused and writes nothing`, async (t) => {
    const { flags } = await open(t)
    await t.rejects(flags.create(flag('lost', { environment: 'staging' }), audit(['lost'])), EnvironmentNotFoundError)
    t.same({ revision: await flags.latestRevision(), flags: await flags.all() }, { revision: 0, flags: [] }, 'no definition, no configuration, no log row')
  })

  t.test(`${kind}: get reads one environment's configuration; an unknown environment has no flags`, async (t) => {
    const { flags } = await open(t)
    const f = flag('one')
    await flags.create(f, audit(['one']))
    t.same({
      development: await flags.get('development', 'one'),
      production: await flags.get('production', 'one'),
      staging: await flags.get('staging', 'one'),
      listed: await flags.list('staging', { limit: 10 })
    }, { development: inEnvironment(f, 'development', { enabled: false }), production: f, staging: undefined, listed: [] })
  })

  t.test(`${kind}: getMany and all return every (flag, environment) pair, by flag name then environment key`, async (t) => {
    const { flags, environments } = await open(t)
    // Positions put beta last and staging first: the order is by key all the same.
    await environments.create(environment('staging', -1), 'production', environmentAudit('environment.create'))
    await environments.create(environment('beta', 9), 'production', environmentAudit('environment.create'))
    for (const name of ['b', 'c', 'a']) await flags.create(flag(name), audit([name]))
    const pairs = (rows: StoredFlag[]): string[] => rows.map((f) => `${f.name}/${f.environment}`)
    const envs = ['beta', 'development', 'production', 'staging']
    t.same({ many: pairs(await flags.getMany(['c', 'nope', 'a'])), all: pairs(await flags.all()) }, {
      many: [...envs.map((e) => `a/${e}`), ...envs.map((e) => `c/${e}`)],
      all: ['a', 'b', 'c'].flatMap((n) => envs.map((e) => `${n}/${e}`))
    })
  })

  t.test(`${kind}: list reads one environment's configurations`, async (t) => {
    const { flags } = await open(t)
    for (const name of ['b', 'a']) await flags.create(flag(name), audit([name]))
    t.same((await flags.list('development', { limit: 10 })).map((f) => [f.name, f.environment, f.enabled]), [['a', 'development', false], ['b', 'development', false]])
  })

  t.test(`${kind}: the bucketing seed is stored as written (empty, non-ASCII), replaced by update, kept by a rename`, async (t) => {
    const repo = (await open(t)).flags
    const bare = flag('bare', { bucketingSeed: '' })
    const wide = flag('wide', { bucketingSeed: 'sëed-🎲' })
    await repo.create(bare, audit(['bare']))
    await repo.create(wide, audit(['wide']))
    t.equal((await repo.get('production', 'bare'))?.bucketingSeed, '')
    t.equal((await repo.get('production', 'wide'))?.bucketingSeed, 'sëed-🎲')
    t.equal(await repo.update({ ...wide, name: 'wider', version: 2 }, 1, audit(['wide', 'wider'])), 3)
    t.equal((await repo.get('production', 'wider'))?.bucketingSeed, 'sëed-🎲', 'a rename writes the seed it was given: the old one')
    await repo.update({ ...bare, bucketingSeed: 'bare', version: 2 }, 1, audit(['bare']))
    t.same((await repo.all()).map((f) => [f.name, f.environment, f.bucketingSeed]), [
      ['bare', 'development', 'bare'], ['bare', 'production', 'bare'], ['wider', 'development', 'sëed-🎲'], ['wider', 'production', 'sëed-🎲']
    ], 'the seed is the definition\'s: the same in every environment')
  })

  t.test(`${kind}: duplicate name throws FlagExistsError and logs nothing`, async (t) => {
    const repo = (await open(t)).flags
    await repo.create(flag('dup'), audit(['dup']))
    await t.rejects(repo.create(flag('dup', { description: 'second' }), audit(['dup'])), FlagExistsError)
    t.equal(await repo.latestRevision(), 1)
    t.equal((await repo.get('production', 'dup'))?.description, '')
  })

  t.test(`${kind}: update is optimistic on version`, async (t) => {
    const repo = (await open(t)).flags
    const f = flag('beta')
    await repo.create(f, audit(['beta']))
    const v2 = { ...f, description: 'v2', version: 2 }
    t.equal(await repo.update(v2, 1, audit(['beta'])), 2)
    t.equal(await repo.update({ ...f, description: 'stale', version: 2 }, 1, audit(['beta'])), null, 'stale version loses')
    t.equal(await repo.latestRevision(), 2, 'the losing write logged nothing')
    t.equal((await repo.get('production', 'beta'))?.description, 'v2')
  })

  t.test(`${kind}: update changes its environment's configuration and the definition everywhere`, async (t) => {
    const { flags } = await open(t)
    const f = flag('split')
    await flags.create(f, audit(['split']))
    const at = new Date(1_800_000_000_000)
    const changed = inEnvironment(f, 'development', { description: 'both', tags: ['t'], enabled: true, defaultVariant: 'off', version: 2, updatedAt: at })
    await flags.update(changed, 1, audit(['split']))
    t.same(await flags.all(), [changed, { ...f, description: 'both', tags: ['t'], version: 2, updatedAt: at }])
  })

  t.test(`${kind}: the version is the flag's: a change in one environment makes a stale write in another lose, writing nothing`, async (t) => {
    const { flags } = await open(t)
    const f = flag('shared')
    await flags.create(f, audit(['shared']))
    await flags.update(inEnvironment(f, 'development', { enabled: true, version: 2 }), 1, audit(['shared']))
    const before = await flags.all()
    const lost = await flags.update({ ...f, description: 'stale', enabled: false, version: 2 }, 1, audit(['shared']))
    t.same({ lost, revision: await flags.latestRevision(), flags: await flags.all() }, { lost: null, revision: 2, flags: before })
  })

  t.test(`${kind}: update in an environment that does not exist is refused and writes nothing`, async (t) => {
    const { flags } = await open(t)
    const f = flag('nowhere')
    await flags.create(f, audit(['nowhere']))
    const before = await flags.all()
    await t.rejects(flags.update(inEnvironment(f, 'staging', { description: 'never', version: 2 }), 1, audit(['nowhere'])), EnvironmentNotFoundError)
    t.same({ revision: await flags.latestRevision(), flags: await flags.all() }, { revision: 1, flags: before }, 'the definition was rolled back too')
  })

  t.test(`${kind}: updateMany applies each change in order, one change-log row each, and returns the last revision`, async (t) => {
    const { flags } = await open(t)
    const a = flag('a')
    const b = flag('b')
    await flags.create(a, audit(['a']))
    await flags.create(b, audit(['b']))
    const a2 = inEnvironment(a, 'development', { enabled: true, version: 2 })
    const b2 = { ...b, description: 'b2', version: 2 }
    const revision = await flags.updateMany([
      { flag: a2, expectedVersion: 1, audit: audit(['a'], 'flag.promote', 'development') },
      { flag: b2, expectedVersion: 1, audit: audit(['b'], 'flag.promote', 'production') }
    ])
    t.same({
      revision,
      latest: await flags.latestRevision(),
      rows: [(await flags.changesSince(2, 1)).names, (await flags.changesSince(3, 1)).names],
      flags: await flags.all()
    }, { revision: 4, latest: 4, rows: [['a'], ['b']], flags: [a2, { ...a, version: 2 }, inEnvironment(b2, 'development', { enabled: false }), b2] })
  })

  t.test(`${kind}: updateMany is all or nothing: one stale version and no change is written`, async (t) => {
    const { flags } = await open(t)
    const a = flag('a')
    const b = flag('b')
    await flags.create(a, audit(['a']))
    await flags.create(b, audit(['b']))
    const before = await flags.all()
    const result = await flags.updateMany([
      { flag: { ...a, description: 'never', version: 2 }, expectedVersion: 1, audit: audit(['a']) },
      { flag: { ...b, description: 'never', version: 3 }, expectedVersion: 2, audit: audit(['b']) }
    ])
    t.same({ result, revision: await flags.latestRevision(), flags: await flags.all() }, { result: null, revision: 2, flags: before })
  })

  t.test(`${kind}: updateMany into an environment that does not exist is refused and writes nothing`, async (t) => {
    const { flags } = await open(t)
    const a = flag('a')
    const b = flag('b')
    await flags.create(a, audit(['a']))
    await flags.create(b, audit(['b']))
    const before = await flags.all()
    await t.rejects(flags.updateMany([
      { flag: { ...a, description: 'never', version: 2 }, expectedVersion: 1, audit: audit(['a']) },
      { flag: inEnvironment(b, 'staging', { version: 2 }), expectedVersion: 1, audit: audit(['b']) }
    ]), EnvironmentNotFoundError)
    t.same({ revision: await flags.latestRevision(), flags: await flags.all() }, { revision: 2, flags: before }, 'the first change was rolled back')
  })

  t.test(`${kind}: updateMany with overrides replaces that flag's overrides in the target environment only`, async (t) => {
    const { flags, subjects } = await open(t)
    const a = flag('a')
    const b = flag('b')
    await flags.create(a, audit(['a']))
    await flags.create(b, audit(['b']))
    for (const [f, env, id] of [[a, 'development', 'u1'], [a, 'development', 'u2'], [a, 'production', 'u3'], [b, 'development', 'u4'], [b, 'production', 'u5']] as const) {
      await subjects.setOverride(override(f, env, id), f.name, { actor: 'tester', action: 'override.set', before: null, after: null })
    }
    await flags.updateMany([
      // The rows say production: they are written into the change's environment.
      { flag: inEnvironment(a, 'development', { version: 2 }), expectedVersion: 1, audit: audit(['a']), overrides: [override(a, 'production', 'u9', false)] },
      { flag: inEnvironment(b, 'development', { version: 2 }), expectedVersion: 1, audit: audit(['b']), overrides: [] }
    ])
    t.same((await subjects.overridePage(undefined, 100)).map((o) => [o.flagId === a.id ? 'a' : 'b', o.environment, o.subjectId, o.enabled]), [
      ['a', 'development', 'u9', false], ['a', 'production', 'u3', true], ['b', 'production', 'u5', true]
    ])
  })

  t.test(`${kind}: updateMany of nothing writes nothing and returns the latest revision`, async (t) => {
    const { flags } = await open(t)
    await flags.create(flag('a'), audit(['a']))
    t.same({ result: await flags.updateMany([]), revision: await flags.latestRevision() }, { result: 1, revision: 1 })
  })

  t.test(`${kind}: rename through update; clash throws and changes nothing`, async (t) => {
    const repo = (await open(t)).flags
    const a = flag('a1')
    await repo.create(a, audit(['a1']))
    await repo.create(flag('b1'), audit(['b1']))
    await t.rejects(repo.update({ ...a, name: 'b1', version: 2 }, 1, audit(['a1', 'b1'])), FlagExistsError)
    t.equal(await repo.latestRevision(), 2)
    t.equal(await repo.update({ ...a, name: 'c1', version: 2 }, 1, audit(['a1', 'c1'])), 3)
    t.equal(await repo.get('production', 'a1'), undefined)
    t.same((await repo.getMany(['c1'])).map((f) => [f.id, f.environment]), [[a.id, 'development'], [a.id, 'production']], 'same row, new name, in every environment')
    t.same(await repo.changesSince(2, 10), { revision: 3, names: ['a1', 'c1'], ...noChanges })
  })

  t.test(`${kind}: delete is optimistic on version`, async (t) => {
    const repo = (await open(t)).flags
    const f = flag('gone')
    await repo.create(f, audit(['gone']))
    t.equal(await repo.delete(f.id, 7, audit(['gone'])), null)
    t.ok(await repo.get('production', 'gone'))
    t.equal(await repo.delete(f.id, 1, audit(['gone'])), 2)
    t.equal(await repo.get('production', 'gone'), undefined)
    t.equal(await repo.delete(f.id, 1, audit(['gone'])), null, 'already gone')
  })

  t.test(`${kind}: delete removes the flag, its configurations and its overrides in every environment`, async (t) => {
    const { flags, subjects } = await open(t)
    const f = flag('gone')
    await flags.create(f, audit(['gone']))
    for (const env of ['development', 'production']) await subjects.setOverride(override(f, env, 'u1'), 'gone', { actor: 'tester', action: 'override.set', before: null, after: null })
    await flags.delete(f.id, 1, audit(['gone']))
    t.same({ flags: await flags.all(), overrides: await subjects.overridePage(undefined, 10) }, { flags: [], overrides: [] })
  })

  t.test(`${kind}: list pages by name, filters by tag and q`, async (t) => {
    const repo = (await open(t)).flags
    for (const name of ['delta', 'alpha', 'charlie', 'bravo', 'echo_1', 'echo%2']) {
      await repo.create(flag(name, { tags: name.startsWith('e') ? ['e'] : [], description: name === 'bravo' ? 'Checkout BETA' : '' }), audit([name]))
    }
    t.same((await repo.list('production', { limit: 3 })).map((f) => f.name), ['alpha', 'bravo', 'charlie'])
    t.same((await repo.list('production', { limit: 3, after: 'charlie' })).map((f) => f.name), ['delta', 'echo%2', 'echo_1'])
    t.same((await repo.list('production', { limit: 10, tag: 'e' })).map((f) => f.name), ['echo%2', 'echo_1'])
    t.same((await repo.list('production', { limit: 10, q: 'beta' })).map((f) => f.name), ['bravo'], 'q searches description, case-insensitively')
    t.same((await repo.list('production', { limit: 10, q: '%' })).map((f) => f.name), ['echo%2'], '% is literal')
    t.same((await repo.list('production', { limit: 10, q: 'o_' })).map((f) => f.name), ['echo_1'], '_ is literal')
    t.same((await repo.getMany(['echo_1', 'nope', 'alpha'])).filter((f) => f.environment === 'production').map((f) => f.name), ['alpha', 'echo_1'])
  })

  t.test(`${kind}: changesSince collects names and respects the limit`, async (t) => {
    const repo = (await open(t)).flags
    for (const name of ['x', 'y', 'z']) await repo.create(flag(name), audit([name]))
    t.same(await repo.changesSince(0, 2), { revision: 2, names: ['x', 'y'], ...noChanges })
    t.same(await repo.changesSince(2, 10), { revision: 3, names: ['z'], ...noChanges })
    t.same(await repo.changesSince(3, 10), { revision: 3, names: [], ...noChanges })
  })

  t.test(`${kind}: change-log rows carry the environment of the change, null for what is global`, async (t) => {
    const { flags, subjects, logEnvironments } = await open(t)
    const f = flag('logged', { environment: 'development' })
    await flags.create(f, audit(['logged'], 'flag.create', 'development'))
    await subjects.addCustomer({ id: 'c1', name: null, createdAt: new Date(1_700_000_000_000) }, { actor: 'tester', action: 'customer.create', before: null, after: null })
    await flags.updateMany([{ flag: { ...f, version: 2 }, expectedVersion: 1, audit: audit(['logged'], 'flag.promote', 'development') }])
    await subjects.setOverride(override(f, 'production', 'u1'), 'logged', { actor: 'tester', action: 'override.set', before: null, after: null })
    await subjects.clearOverride(f.id, 'logged', 'production', 'user', 'u1', { actor: 'tester', action: 'override.clear', before: null, after: null })
    t.same(await logEnvironments(), ['development', null, 'development', 'production', 'production'], 'an override\'s row names the override\'s environment')
  })

  t.test(`${kind}: JSON keeps object key order (rollout and variant order decide bucketing)`, async (t) => {
    const { flags: repo } = await open(t)
    const base = flag('ordered')
    const f = flag('ordered', {
      type: 'json',
      variants: { zeta: { z: 1, a: [3, 1, 2] }, alpha: null, mid: 'm' },
      defaultVariant: 'zeta',
      offVariant: 'alpha',
      targetingRules: { ...base.targetingRules, percentage: null, rollout: { zeta: 30, alpha: 20, mid: 50 } },
      metadata: { team: 'core', owner: 'x', a: 1 }
    })
    await repo.create(f, audit(['ordered']))
    const stored = await repo.get('production', 'ordered')
    const copied = await repo.get('development', 'ordered')
    t.equal(JSON.stringify(stored?.variants), JSON.stringify(f.variants))
    t.equal(JSON.stringify(stored?.targetingRules), JSON.stringify(f.targetingRules))
    t.equal(JSON.stringify(stored?.metadata), JSON.stringify(f.metadata))
    t.equal(JSON.stringify(copied?.variants), JSON.stringify(f.variants), 'and the definition seen from another environment')
  })

  t.test(`${kind}: names sort and page by code point, not by a locale`, async (t) => {
    const { flags: repo } = await open(t)
    const names = ['b', 'B', 'a-b', 'a_b', 'a.b', 'ab', 'Z', 'a0']
    for (const name of names) await repo.create(flag(name), audit([name]))
    const expected = [...names].sort()
    t.same((await repo.all()).filter((f) => f.environment === 'production').map((f) => f.name), expected)
    t.same((await repo.list('production', { limit: 4 })).map((f) => f.name), expected.slice(0, 4))
    t.same((await repo.list('production', { limit: 10, after: expected[3] })).map((f) => f.name), expected.slice(4))
  })

  t.test(`${kind}: concurrent writes: one winner per version, one revision per write`, async (t) => {
    const { flags: repo } = await open(t)
    const f = flag('race')
    await repo.create(f, audit(['race']))
    const updates = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      repo.update({ ...f, environment: i % 2 === 0 ? 'production' : 'development', description: `w${i}`, version: 2 }, 1, audit(['race']))))
    t.same(updates.filter((r) => r !== null), [2], 'exactly one update wins, as revision 2, whichever environment each writes')
    const names = Array.from({ length: 8 }, (_, i) => `c${i}`)
    const revisions = await Promise.all(names.map((name) => repo.create(flag(name), audit([name]))))
    t.same([...revisions].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9, 10], 'distinct, gapless revisions')
    t.equal(await repo.latestRevision(), 10)
    t.same((await repo.changesSince(2, 100)).names.sort(), names)
  })

  t.test(`${kind}: API keys round-trip; the first key is stored once, with a change-log row`, async (t) => {
    const { apiKeys, flags } = await open(t)
    t.same(await apiKeys.all(), [])
    const key = { id: 'k1', name: 'admin', keyHash: 'a'.repeat(64), role: 'admin' as const, environments: [], prefix: 'fp_admin_abcdef', createdAt: new Date(1_700_000_000_123), expiresAt: null, lastUsedAt: null }
    const audit = { actor: 'system', action: 'api_key.create', names: [], before: null, after: { id: 'k1' } }
    t.equal(await apiKeys.addFirst(key, audit), 1)
    t.equal(await flags.latestRevision(), 1, 'other instances learn of it from the change log')
    t.equal(await apiKeys.addFirst({ ...key, id: 'k2', name: 'other', keyHash: 'b'.repeat(64) }, audit), null, 'a second first key is refused')
    t.same(await apiKeys.all(), [key])
    t.equal(await flags.latestRevision(), 1)
  })
}

t.test('sqlite: a write whose change-log row fails leaves no flag row (one transaction)', async (t) => {
  const handle = openSqlite(':memory:')
  migrateSqlite(handle)
  t.teardown(() => handle.close())
  const repo = createSqliteFlagRepository(handle.db)
  const f = flag('atomic')
  await repo.create(f, audit(['atomic']))
  const before = await repo.all()
  handle.raw.exec("CREATE TRIGGER fail_log BEFORE INSERT ON change_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END")
  await t.rejects(repo.create(flag('never'), audit(['never'])), /log unavailable/)
  await t.rejects(repo.update({ ...f, description: 'never', version: 2 }, 1, audit(['atomic'])), /log unavailable/)
  await t.rejects(repo.updateMany([{ flag: { ...f, description: 'never', version: 2 }, expectedVersion: 1, audit: audit(['atomic']) }]), /log unavailable/)
  await t.rejects(repo.delete(f.id, 1, audit(['atomic'])), /log unavailable/)
  t.same(await repo.all(), before, 'the insert, the updates and the delete were rolled back, configurations included')
  t.equal(await repo.latestRevision(), 1)
})

if (pgUrl !== null) {
  t.test('postgres: a write whose change-log row fails leaves no flag row (one transaction)', async (t) => {
    const handle = await openIsolated(t, pgUrl)
    const repo = createPgFlagRepository(handle.db)
    const f = flag('atomic')
    await repo.create(f, audit(['atomic']))
    const before = await repo.all()
    await handle.pool.query(`create function fail_log() returns trigger language plpgsql as $$ begin raise exception 'log unavailable'; end $$;
      create trigger fail_log before insert on change_log for each row execute function fail_log()`)
    await t.rejects(repo.create(flag('never'), audit(['never'])), { cause: { message: 'log unavailable' } })
    await t.rejects(repo.update({ ...f, description: 'never', version: 2 }, 1, audit(['atomic'])), { cause: { message: 'log unavailable' } })
    await t.rejects(repo.updateMany([{ flag: { ...f, description: 'never', version: 2 }, expectedVersion: 1, audit: audit(['atomic']) }]), { cause: { message: 'log unavailable' } })
    await t.rejects(repo.delete(f.id, 1, audit(['atomic'])), { cause: { message: 'log unavailable' } })
    t.same(await repo.all(), before, 'the insert, the updates and the delete were rolled back, configurations included')
    t.equal(await repo.latestRevision(), 1)
  })
}
