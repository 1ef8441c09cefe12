import t from 'tap'
import { openSqlite } from '../../src/db/sqlite-client.js'
import { migrateSqlite } from '../../src/db/migrate.js'
import { FlagExistsError } from '../../src/errors.js'
import type { ApiKeyRepository, AuditEntry, FlagRepository, MetaRepository, StoredFlag } from '../../src/repositories/flag-repository.js'
import { createMemoryApiKeyRepository, createMemoryFlagRepository, createMemoryStore } from '../../src/repositories/memory/flag-repository.js'
import { createPgApiKeyRepository } from '../../src/repositories/pg/api-key-repository.js'
import { createPgFlagRepository } from '../../src/repositories/pg/flag-repository.js'
import { createPgMetaRepository } from '../../src/repositories/pg/meta-repository.js'
import { createMemoryRepositories } from '../../src/repositories/memory/index.js'
import { createSqliteApiKeyRepository } from '../../src/repositories/sqlite/api-key-repository.js'
import { createSqliteFlagRepository } from '../../src/repositories/sqlite/flag-repository.js'
import { createSqliteMetaRepository } from '../../src/repositories/sqlite/meta-repository.js'
import { openIsolated, postgresUrlOrSkip } from '../support/postgres.js'

/** One contract, every implementation: the fake must behave like the databases. */
interface TestLike { teardown (fn: () => unknown): void }
interface Repos { flags: FlagRepository, apiKeys: ApiKeyRepository, meta: MetaRepository }
const pgUrl = await postgresUrlOrSkip(t, 'Postgres flag-repository contract')
const implementations: Array<[string, (t: TestLike) => Promise<Repos>]> = [
  ['memory', async () => { const store = createMemoryStore(); return { flags: createMemoryFlagRepository(store), apiKeys: createMemoryApiKeyRepository(store), meta: createMemoryRepositories().meta } }],
  ['sqlite', async (t) => {
    const handle = openSqlite(':memory:')
    migrateSqlite(handle)
    t.teardown(() => handle.close())
    return { flags: createSqliteFlagRepository(handle.db), apiKeys: createSqliteApiKeyRepository(handle.db), meta: createSqliteMetaRepository(handle.db) }
  }],
  // A schema of its own per test: every test starts from revision 0, and files run in parallel.
  ...(pgUrl === null
    ? []
    : [['postgres', async (t: TestLike) => {
        const { db } = await openIsolated(t, pgUrl)
        return { flags: createPgFlagRepository(db), apiKeys: createPgApiKeyRepository(db), meta: createPgMetaRepository(db) }
      }] as [string, (t: TestLike) => Promise<Repos>]])
]

let seq = 0
function flag (name: string, over: Partial<StoredFlag> = {}): StoredFlag {
  const at = new Date(1_700_000_000_000 + seq++)
  return {
    id: `id-${name}-${seq}`,
    name,
    bucketingSeed: name,
    description: '',
    type: 'boolean',
    enabled: true,
    variants: { on: true, off: false },
    defaultVariant: 'on',
    offVariant: 'off',
    targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' },
    tags: [],
    metadata: {},
    version: 1,
    createdAt: at,
    updatedAt: at,
    ...over
  }
}
const audit = (names: string[], action = 'test'): AuditEntry => ({ actor: 'tester', action, names, before: null, after: { names } })

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
    t.same(await repo.get('alpha'), f)
    t.equal(await repo.get('missing'), undefined)
    t.equal(await repo.latestRevision(), 1)
  })

  t.test(`${kind}: the bucketing seed is stored as written (empty, non-ASCII), replaced by update, kept by a rename`, async (t) => {
    const repo = (await open(t)).flags
    const bare = flag('bare', { bucketingSeed: '' })
    const wide = flag('wide', { bucketingSeed: 'sëed-🎲' })
    await repo.create(bare, audit(['bare']))
    await repo.create(wide, audit(['wide']))
    t.equal((await repo.get('bare'))?.bucketingSeed, '')
    t.equal((await repo.get('wide'))?.bucketingSeed, 'sëed-🎲')
    t.equal(await repo.update({ ...wide, name: 'wider', version: 2 }, 1, audit(['wide', 'wider'])), 3)
    t.equal((await repo.get('wider'))?.bucketingSeed, 'sëed-🎲', 'a rename writes the seed it was given: the old one')
    await repo.update({ ...bare, bucketingSeed: 'bare', version: 2 }, 1, audit(['bare']))
    t.same((await repo.all()).map((f) => [f.name, f.bucketingSeed]), [['bare', 'bare'], ['wider', 'sëed-🎲']])
  })

  t.test(`${kind}: duplicate name throws FlagExistsError and logs nothing`, async (t) => {
    const repo = (await open(t)).flags
    await repo.create(flag('dup'), audit(['dup']))
    await t.rejects(repo.create(flag('dup', { description: 'second' }), audit(['dup'])), FlagExistsError)
    t.equal(await repo.latestRevision(), 1)
    t.equal((await repo.get('dup'))?.description, '')
  })

  t.test(`${kind}: update is optimistic on version`, async (t) => {
    const repo = (await open(t)).flags
    const f = flag('beta')
    await repo.create(f, audit(['beta']))
    const v2 = { ...f, description: 'v2', version: 2 }
    t.equal(await repo.update(v2, 1, audit(['beta'])), 2)
    t.equal(await repo.update({ ...f, description: 'stale', version: 2 }, 1, audit(['beta'])), null, 'stale version loses')
    t.equal(await repo.latestRevision(), 2, 'the losing write logged nothing')
    t.equal((await repo.get('beta'))?.description, 'v2')
  })

  t.test(`${kind}: rename through update; clash throws and changes nothing`, async (t) => {
    const repo = (await open(t)).flags
    const a = flag('a1')
    await repo.create(a, audit(['a1']))
    await repo.create(flag('b1'), audit(['b1']))
    await t.rejects(repo.update({ ...a, name: 'b1', version: 2 }, 1, audit(['a1', 'b1'])), FlagExistsError)
    t.equal(await repo.latestRevision(), 2)
    t.equal(await repo.update({ ...a, name: 'c1', version: 2 }, 1, audit(['a1', 'c1'])), 3)
    t.equal(await repo.get('a1'), undefined)
    t.equal((await repo.get('c1'))?.id, a.id, 'same row, new name')
    t.same(await repo.changesSince(2, 10), { revision: 3, names: ['a1', 'c1'], users: [], overrides: [] })
  })

  t.test(`${kind}: delete is optimistic on version`, async (t) => {
    const repo = (await open(t)).flags
    const f = flag('gone')
    await repo.create(f, audit(['gone']))
    t.equal(await repo.delete(f.id, 7, audit(['gone'])), null)
    t.ok(await repo.get('gone'))
    t.equal(await repo.delete(f.id, 1, audit(['gone'])), 2)
    t.equal(await repo.get('gone'), undefined)
    t.equal(await repo.delete(f.id, 1, audit(['gone'])), null, 'already gone')
  })

  t.test(`${kind}: list pages by name, filters by tag and q`, async (t) => {
    const repo = (await open(t)).flags
    for (const name of ['delta', 'alpha', 'charlie', 'bravo', 'echo_1', 'echo%2']) {
      await repo.create(flag(name, { tags: name.startsWith('e') ? ['e'] : [], description: name === 'bravo' ? 'Checkout BETA' : '' }), audit([name]))
    }
    t.same((await repo.list({ limit: 3 })).map((f) => f.name), ['alpha', 'bravo', 'charlie'])
    t.same((await repo.list({ limit: 3, after: 'charlie' })).map((f) => f.name), ['delta', 'echo%2', 'echo_1'])
    t.same((await repo.list({ limit: 10, tag: 'e' })).map((f) => f.name), ['echo%2', 'echo_1'])
    t.same((await repo.list({ limit: 10, q: 'beta' })).map((f) => f.name), ['bravo'], 'q searches description, case-insensitively')
    t.same((await repo.list({ limit: 10, q: '%' })).map((f) => f.name), ['echo%2'], '% is literal')
    t.same((await repo.list({ limit: 10, q: 'o_' })).map((f) => f.name), ['echo_1'], '_ is literal')
    t.same((await repo.getMany(['echo_1', 'nope', 'alpha'])).map((f) => f.name).sort(), ['alpha', 'echo_1'])
  })

  t.test(`${kind}: changesSince collects names and respects the limit`, async (t) => {
    const repo = (await open(t)).flags
    for (const name of ['x', 'y', 'z']) await repo.create(flag(name), audit([name]))
    t.same(await repo.changesSince(0, 2), { revision: 2, names: ['x', 'y'], users: [], overrides: [] })
    t.same(await repo.changesSince(2, 10), { revision: 3, names: ['z'], users: [], overrides: [] })
    t.same(await repo.changesSince(3, 10), { revision: 3, names: [], users: [], overrides: [] })
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
    const stored = await repo.get('ordered')
    t.equal(JSON.stringify(stored?.variants), JSON.stringify(f.variants))
    t.equal(JSON.stringify(stored?.targetingRules), JSON.stringify(f.targetingRules))
    t.equal(JSON.stringify(stored?.metadata), JSON.stringify(f.metadata))
  })

  t.test(`${kind}: names sort and page by code point, not by a locale`, async (t) => {
    const { flags: repo } = await open(t)
    const names = ['b', 'B', 'a-b', 'a_b', 'a.b', 'ab', 'Z', 'a0']
    for (const name of names) await repo.create(flag(name), audit([name]))
    const expected = [...names].sort()
    t.same((await repo.all()).map((f) => f.name), expected)
    t.same((await repo.list({ limit: 4 })).map((f) => f.name), expected.slice(0, 4))
    t.same((await repo.list({ limit: 10, after: expected[3] })).map((f) => f.name), expected.slice(4))
  })

  t.test(`${kind}: concurrent writes: one winner per version, one revision per write`, async (t) => {
    const { flags: repo } = await open(t)
    const f = flag('race')
    await repo.create(f, audit(['race']))
    const updates = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      repo.update({ ...f, description: `w${i}`, version: 2 }, 1, audit(['race']))))
    t.same(updates.filter((r) => r !== null), [2], 'exactly one update wins, as revision 2')
    const names = Array.from({ length: 8 }, (_, i) => `c${i}`)
    const revisions = await Promise.all(names.map((name) => repo.create(flag(name), audit([name]))))
    t.same([...revisions].sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9, 10], 'distinct, gapless revisions')
    t.equal(await repo.latestRevision(), 10)
    t.same((await repo.changesSince(2, 100)).names.sort(), names)
  })

  t.test(`${kind}: API keys round-trip; the first key is stored once, with a change-log row`, async (t) => {
    const { apiKeys, flags } = await open(t)
    t.same(await apiKeys.all(), [])
    const key = { id: 'k1', name: 'admin', keyHash: 'a'.repeat(64), scope: 'write' as const, createdAt: new Date(1_700_000_000_123) }
    const audit = { actor: 'system', action: 'api_key.create', names: [], before: null, after: { id: 'k1' } }
    t.equal(await apiKeys.addFirst(key, audit), 1)
    t.equal(await flags.latestRevision(), 1, 'other instances learn of it from the change log')
    t.equal(await apiKeys.addFirst({ ...key, id: 'k2', keyHash: 'b'.repeat(64) }, audit), null, 'a second first key is refused')
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
  handle.raw.exec("CREATE TRIGGER fail_log BEFORE INSERT ON change_log BEGIN SELECT RAISE(ABORT, 'log unavailable'); END")
  await t.rejects(repo.create(flag('never'), audit(['never'])), /log unavailable/)
  await t.rejects(repo.update({ ...f, description: 'never', version: 2 }, 1, audit(['atomic'])), /log unavailable/)
  await t.rejects(repo.delete(f.id, 1, audit(['atomic'])), /log unavailable/)
  t.equal(await repo.get('never'), undefined, 'the insert was rolled back')
  t.same(await repo.get('atomic'), f, 'the update and the delete were rolled back')
  t.equal(await repo.latestRevision(), 1)
})

if (pgUrl !== null) {
  t.test('postgres: a write whose change-log row fails leaves no flag row (one transaction)', async (t) => {
    const handle = await openIsolated(t, pgUrl)
    const repo = createPgFlagRepository(handle.db)
    const f = flag('atomic')
    await repo.create(f, audit(['atomic']))
    await handle.pool.query(`create function fail_log() returns trigger language plpgsql as $$ begin raise exception 'log unavailable'; end $$;
      create trigger fail_log before insert on change_log for each row execute function fail_log()`)
    await t.rejects(repo.create(flag('never'), audit(['never'])), { cause: { message: 'log unavailable' } })
    await t.rejects(repo.update({ ...f, description: 'never', version: 2 }, 1, audit(['atomic'])), { cause: { message: 'log unavailable' } })
    await t.rejects(repo.delete(f.id, 1, audit(['atomic'])), { cause: { message: 'log unavailable' } })
    t.equal(await repo.get('never'), undefined, 'the insert was rolled back')
    t.same(await repo.get('atomic'), f, 'the update and the delete were rolled back')
    t.equal(await repo.latestRevision(), 1)
  })
}
