import t from 'tap'
import { openSqlite } from '../../src/db/sqlite-client.js'
import { migrateSqlite } from '../../src/db/migrate.js'
import { CustomerExistsError, EnvironmentNotFoundError, FlagNotFoundError, UserExistsError } from '../../src/errors.js'
import type { FlagRepository, StoredFlag } from '../../src/repositories/flag-repository.js'
import { createMemoryRepositories } from '../../src/repositories/memory/index.js'
import { createPgFlagRepository } from '../../src/repositories/pg/flag-repository.js'
import { createPgSubjectRepository } from '../../src/repositories/pg/subject-repository.js'
import { createSqliteFlagRepository } from '../../src/repositories/sqlite/flag-repository.js'
import { createSqliteSubjectRepository } from '../../src/repositories/sqlite/subject-repository.js'
import type { StoredOverride, SubjectRepository } from '../../src/repositories/subject-repository.js'
import { openIsolated, postgresUrlOrSkip } from '../support/postgres.js'
import { storedFlag } from '../support/stored-flag.js'

interface TestLike { teardown (fn: () => unknown): void }
type Pair = { flags: FlagRepository, subjects: SubjectRepository }

/** One contract, every implementation: the fake behaves like the databases, cascade included. */
const pgUrl = await postgresUrlOrSkip(t, 'Postgres subject-repository contract')
const implementations: Array<[string, (t: TestLike) => Promise<Pair>]> = [
  ['memory', async () => createMemoryRepositories()],
  ['sqlite', async (t) => {
    const handle = openSqlite(':memory:')
    migrateSqlite(handle)
    t.teardown(() => handle.close())
    return { flags: createSqliteFlagRepository(handle.db), subjects: createSqliteSubjectRepository(handle.db) }
  }],
  // A schema of its own per test: every test starts empty, and files run in parallel.
  ...(pgUrl === null
    ? []
    : [['postgres', async (t: TestLike) => {
        const { db } = await openIsolated(t, pgUrl)
        return { flags: createPgFlagRepository(db), subjects: createPgSubjectRepository(db) }
      }] as [string, (t: TestLike) => Promise<Pair>]])
]

const at = new Date(1_700_000_000_000)
const audit = { actor: 'tester', action: 'test', before: null, after: null }
const flag = (name: string): StoredFlag =>
  storedFlag(name, { targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 0, rollout: null, bucket_by: 'user_id' } })
const override = (flagName: string, subject: 'customer' | 'user', subjectId: string, enabled = true, variant: string | null = null, environment = 'production'): StoredOverride =>
  ({ flagId: `id-${flagName}`, environment, subject, subjectId, enabled, variant, createdAt: at, updatedAt: at })
const noChanges = { environments: false, names: [], users: [], overrides: [] }

for (const [kind, open] of implementations) {
  t.test(`${kind}: customers and users, with the change log`, async (t) => {
    const { flags, subjects } = await open(t)
    t.equal(await subjects.addCustomer({ id: '101', name: 'Acme', createdAt: at }, audit), 1)
    await t.rejects(subjects.addCustomer({ id: '101', name: null, createdAt: at }, audit), CustomerExistsError)
    t.equal(await subjects.addUser({ id: 'alice', customerId: '202', createdAt: at }, audit), 2)
    t.same(await subjects.getCustomer('202'), { id: '202', name: null, createdAt: at }, 'an unknown customer is registered with its user')
    await t.rejects(subjects.addUser({ id: 'alice', customerId: null, createdAt: at }, audit), UserExistsError)
    t.same(await flags.changesSince(0, 10), { ...noChanges, revision: 2, users: ['alice'] })
    t.same(await subjects.userCustomerPage(undefined, 10), [{ id: 'alice', customerId: '202' }])
    t.same((await subjects.listCustomers({ limit: 10 })).map((c) => c.id), ['101', '202'])
    t.same((await subjects.listCustomers({ limit: 10, after: '101' })).map((c) => c.id), ['202'])
    t.same((await subjects.listUsers({ limit: 10, customerId: '202' })).map((u) => u.id), ['alice'])
    t.same(await subjects.getUsers(['alice', 'ghost']), [{ id: 'alice', customerId: '202', createdAt: at }])
  })

  t.test(`${kind}: overrides register subjects, upsert, list in order, and clear`, async (t) => {
    const { flags, subjects } = await open(t)
    await flags.create(flag('f'), { ...audit, names: ['f'] })
    await subjects.setOverride(override('f', 'user', 'bob'), 'f', audit)
    await subjects.setOverride(override('f', 'customer', 'c2', false), 'f', audit)
    await subjects.setOverride(override('f', 'customer', 'c1'), 'f', audit)
    t.ok(await subjects.getUser('bob'), 'the user was registered')
    t.ok(await subjects.getCustomer('c1'), 'the customer was registered')
    const rev = await subjects.setOverride({ ...override('f', 'customer', 'c1', false, 'on'), updatedAt: new Date(at.getTime() + 5) }, 'f', audit)
    t.same(await flags.changesSince(rev - 1, 10), { ...noChanges, revision: rev, overrides: [['f', 'customer', 'c1', 'production']] }, 'one override, not the whole flag')
    t.match(await subjects.getOverride('id-f', 'production', 'customer', 'c1'), { enabled: false, variant: 'on', createdAt: at }, 'upsert keeps created_at')
    t.same((await subjects.listOverrides('id-f', 'production', { limit: 10 })).map((o) => `${o.subject}:${o.subjectId}`), ['customer:c1', 'customer:c2', 'user:bob'])
    t.same((await subjects.listOverrides('id-f', 'production', { limit: 10, after: 'customer:c2' })).map((o) => o.subjectId), ['bob'])
    t.same((await subjects.listOverrides('id-f', 'production', { limit: 10, subject: 'customer', enabled: false })).map((o) => o.subjectId), ['c1', 'c2'])
    t.same((await subjects.customersWithOverride('id-f', 'production', false, { limit: 10 })).map((c) => c.id), ['c1', 'c2'])
    t.same((await subjects.customersWithOverride('id-f', 'production', true, { limit: 10 })).map((c) => c.id), [])
    t.equal((await subjects.overridesOf(['id-f'])).length, 3)
    t.equal(await subjects.clearOverride('id-f', 'f', 'production', 'user', 'ghost', audit), null)
    t.ok(await subjects.clearOverride('id-f', 'f', 'production', 'user', 'bob', audit))
    t.equal((await subjects.overridePage(undefined, 10)).length, 2)
    await t.rejects(subjects.setOverride(override('missing', 'user', 'x'), 'missing', audit), FlagNotFoundError)
  })

  t.test(`${kind}: overrides by id prefix: literal (no wildcards, no escapes, case-sensitive), with the other filters and the cursor`, async (t) => {
    const { flags, subjects } = await open(t)
    for (const name of ['f', 'g']) await flags.create(flag(name), { ...audit, names: [name] })
    // `%`, `_` and `\` are LIKE's wildcards and escape; the repository takes ids as they come (the routes
    // refuse `%` and `\` in new ids, but the prefix must not depend on it).
    const customers = ['a%b', 'a_b', 'axb', 'a\\b', 'a\\\\b', 'ab', 'A_b', 'a', 'b_a']
    const users = ['a_1', 'a_2', 'ax', 'a%', 'b']
    for (const id of customers) await subjects.setOverride(override('f', 'customer', id, id !== 'axb'), 'f', audit)
    for (const id of users) await subjects.setOverride(override('f', 'user', id, id !== 'a_2'), 'f', audit)
    await subjects.setOverride(override('g', 'user', 'a_3'), 'g', audit)
    await subjects.setOverride(override('f', 'user', 'a_4', true, null, 'development'), 'f', audit)
    const list = async (query: Partial<Parameters<SubjectRepository['listOverrides']>[2]>): Promise<string[]> =>
      (await subjects.listOverrides('id-f', 'production', { limit: 100, ...query })).map((o) => `${o.subject}:${o.subjectId}`)
    const ordered = (ids: string[]): string[] => [...ids].sort()
    t.same(await list({ prefix: 'a_' }), ['customer:a_b', 'user:a_1', 'user:a_2'], '`_` is itself, not any one character; other flags and environments stay out')
    t.same(await list({ prefix: 'a%' }), ['customer:a%b', 'user:a%'], '`%` is itself, not anything')
    t.same(await list({ prefix: 'a\\' }), ordered(['a\\b', 'a\\\\b']).map((id) => `customer:${id}`), '`\\` is itself, not an escape')
    t.same(await list({ prefix: 'a\\\\' }), ['customer:a\\\\b'])
    t.same(await list({ prefix: 'A' }), ['customer:A_b'], 'case-sensitive')
    t.same(await list({ prefix: 'a' }), [
      ...ordered(customers.filter((id) => id.startsWith('a'))).map((id) => `customer:${id}`),
      ...ordered(users.filter((id) => id.startsWith('a'))).map((id) => `user:${id}`)
    ], 'the whole id matches its own prefix; customers then users, each by id')
    t.same(await list({ prefix: 'a_b' }), ['customer:a_b'])
    t.same(await list({ prefix: 'a_bc' }), [], 'longer than every id')
    t.same(await list({ prefix: 'zz' }), [])
    t.same(await list({ prefix: 'a_', subject: 'user' }), ['user:a_1', 'user:a_2'])
    t.same(await list({ prefix: 'a', enabled: false }), ['customer:axb', 'user:a_2'])
    t.same(await list({ prefix: 'a_', limit: 2 }), ['customer:a_b', 'user:a_1'], 'a page spans both subjects')
    t.same(await list({ prefix: 'a_', after: 'user:a_1' }), ['user:a_2'], 'the cursor continues within the prefix')
    t.same(await list({ prefix: 'a_', after: 'customer:a_b', limit: 1 }), ['user:a_1'])
    t.same(await list({ prefix: 'b', after: 'customer:b_a' }), ['user:b'], 'past the last customer, on to the users')
    t.same(await list({ prefix: 'a_', after: 'user:a_2' }), [])

    // The range's upper bound: the last code point incremented, past U+D7FF to U+E000 (no surrogates),
    // and none at all when only U+10FFFF remains.
    for (const id of ['b\uD7FF1', 'b\uE000', 'b\u{10000}', 'c\u{10FFFF}', 'c\u{10FFFF}x', 'd']) await subjects.setOverride(override('g', 'customer', id), 'g', audit)
    const inG = async (prefix: string): Promise<string[]> => (await subjects.listOverrides('id-g', 'production', { limit: 100, prefix, subject: 'customer' })).map((o) => o.subjectId)
    t.same(await inG('b\uD7FF'), ['b\uD7FF1'])
    t.same(await inG('b\uE000'), ['b\uE000'])
    t.same(await inG('c\u{10FFFF}'), ['c\u{10FFFF}', 'c\u{10FFFF}x'])
  })

  t.test(`${kind}: removing a subject removes its overrides and names the flags; deleting a flag cascades`, async (t) => {
    const { flags, subjects } = await open(t)
    for (const name of ['a', 'b']) await flags.create(flag(name), { ...audit, names: [name] })
    await subjects.addUser({ id: 'u1', customerId: 'c1', createdAt: at }, audit)
    await subjects.setOverride(override('a', 'customer', 'c1'), 'a', audit)
    await subjects.setOverride(override('b', 'customer', 'c1'), 'b', audit)
    await subjects.setOverride(override('a', 'user', 'u1'), 'a', audit)
    const rev = await subjects.removeCustomer('c1', audit)
    t.same(await flags.changesSince(rev! - 1, 10), { ...noChanges, revision: rev, names: ['a', 'b'], users: ['u1'] }, 'both flags, and the detached user')
    t.equal(await subjects.getCustomer('c1'), undefined)
    t.same(await subjects.getUser('u1'), { id: 'u1', customerId: null, createdAt: at }, 'its user stays, without a customer')
    t.equal(await subjects.removeCustomer('c1', audit), null)
    const rev2 = await subjects.removeUser('u1', audit)
    t.same(await flags.changesSince(rev2! - 1, 10), { ...noChanges, revision: rev2, names: ['a'], users: ['u1'] })
    t.same(await subjects.overridePage(undefined, 10), [])
    await subjects.setOverride(override('b', 'user', 'u2'), 'b', audit)
    await flags.delete('id-b', 1, { ...audit, names: ['b'] })
    t.same(await subjects.overridePage(undefined, 10), [], 'deleting the flag deleted its overrides')
    t.ok(await subjects.getUser('u2'), 'but not the user')
  })

  t.test(`${kind}: customer ids page in code-point order, ids only`, async (t) => {
    const { subjects } = await open(t)
    const ids = ['b', 'B', '10', '9', 'a_1', 'a-1', 'a.1']
    for (const id of ids) await subjects.addCustomer({ id, name: `n-${id}`, createdAt: at }, audit)
    const expected = [...ids].sort()
    t.same(await subjects.customerIds({ limit: 3 }), expected.slice(0, 3))
    t.same(await subjects.customerIds({ limit: 10, after: expected[2] }), expected.slice(3))
    t.same((await subjects.listCustomers({ limit: 10, after: expected[2] })).map((c) => c.id), expected.slice(3))
    t.same(await subjects.customerIds({ limit: 10, after: expected.at(-1) }), [])
  })

  t.test(`${kind}: the full load's pages: every override and every user with a customer, once, in key order`, async (t) => {
    const { flags, subjects } = await open(t)
    for (const name of ['b', 'a']) await flags.create(flag(name), { ...audit, names: [name] })
    // Ids that sort differently as strings and as numbers, that contain ':' (the list cursor's separator),
    // and the same id as a customer and as a user on one flag.
    const rows: Array<[string, 'customer' | 'user', string, boolean, string | null, string]> = [
      ['b', 'user', 'u:1', true, null, 'production'], ['a', 'user', '10', false, null, 'production'], ['a', 'customer', '9', true, 'off', 'production'],
      ['a', 'user', '9', true, null, 'development'], ['b', 'customer', 'x', false, null, 'production'], ['a', 'customer', '10', false, null, 'production'],
      ['a', 'customer', '9', false, null, 'development'], ['b', 'user', 'u:1', false, 'on', 'development']
    ]
    for (const [name, subject, id, enabled, variant, environment] of rows) await subjects.setOverride(override(name, subject, id, enabled, variant, environment), name, audit)
    const key = (o: { flagId: string, environment: string, subject: string, subjectId: string }): string[] => [o.flagId, o.environment, o.subject, o.subjectId]
    const byKey = (x: Parameters<typeof key>[0], y: Parameters<typeof key>[0]): number => {
      const [kx, ky] = [key(x), key(y)]
      const i = kx.findIndex((v, j) => v !== ky[j])
      return i < 0 ? 0 : kx[i] < ky[i] ? -1 : 1
    }
    const expected = rows.map(([name, subject, subjectId, enabled, variant, environment]) => ({ flagId: `id-${name}`, environment, subject, subjectId, enabled, variant })).sort(byKey)
    const read: unknown[] = []
    let page = await subjects.overridePage(undefined, 3)
    t.equal(page.length, 3, 'a full page')
    while (page.length > 0) { read.push(...page); page = await subjects.overridePage(page[page.length - 1], 3) }
    t.same(read, expected, 'pages of 3: each row once, in (flag id, environment, subject, subject id) order, without timestamps')
    t.same((await subjects.overridesOf(['id-b'])).sort(byKey), expected.filter((o) => o.flagId === 'id-b'), 'one flag\'s in every environment, in any order')

    for (const [id, customer] of [['u3', 'c1'], ['u1', null], ['u2', 'c1'], ['u10', 'c2']] as const) await subjects.addUser({ id, customerId: customer, createdAt: at }, audit)
    t.same(await subjects.userCustomerPage(undefined, 2), [{ id: 'u10', customerId: 'c2' }, { id: 'u2', customerId: 'c1' }], 'users without a customer are left out')
    t.same(await subjects.userCustomerPage('u2', 2), [{ id: 'u3', customerId: 'c1' }])
    t.same(await subjects.userCustomerPage('u3', 2), [])
  })

  t.test(`${kind}: overrides are per environment: set, read, listed and counted in their own`, async (t) => {
    const { flags, subjects } = await open(t)
    await flags.create(flag('f'), { ...audit, names: ['f'] })
    await subjects.setOverride(override('f', 'customer', 'c1', true, null, 'production'), 'f', audit)
    await subjects.setOverride(override('f', 'customer', 'c1', false, 'off', 'development'), 'f', audit)
    await subjects.setOverride(override('f', 'user', 'u1', true, null, 'development'), 'f', audit)
    const view = async (environment: string): Promise<unknown> => ({
      c1: (await subjects.getOverride('id-f', environment, 'customer', 'c1'))?.enabled,
      listed: (await subjects.listOverrides('id-f', environment, { limit: 10 })).map((o) => `${o.subject}:${o.subjectId}`),
      enabled: (await subjects.customersWithOverride('id-f', environment, true, { limit: 10 })).map((c) => c.id),
      disabled: (await subjects.customersWithOverride('id-f', environment, false, { limit: 10 })).map((c) => c.id)
    })
    t.same({ development: await view('development'), production: await view('production'), staging: await view('staging') }, {
      development: { c1: false, listed: ['customer:c1', 'user:u1'], enabled: [], disabled: ['c1'] },
      production: { c1: true, listed: ['customer:c1'], enabled: ['c1'], disabled: [] },
      staging: { c1: undefined, listed: [], enabled: [], disabled: [] }
    })
  })

  t.test(`${kind}: an override in an environment that does not exist is refused and writes nothing`, async (t) => {
    const { flags, subjects } = await open(t)
    await flags.create(flag('f'), { ...audit, names: ['f'] })
    await t.rejects(subjects.setOverride(override('f', 'user', 'ghost', true, null, 'staging'), 'f', audit), EnvironmentNotFoundError)
    t.same({ revision: await flags.latestRevision(), overrides: await subjects.overridePage(undefined, 10), user: await subjects.getUser('ghost') },
      { revision: 1, overrides: [], user: undefined }, 'no row, no registered subject, no log row')
  })

  t.test(`${kind}: clearing an override clears it in its environment only, and logs its environment`, async (t) => {
    const { flags, subjects } = await open(t)
    await flags.create(flag('f'), { ...audit, names: ['f'] })
    for (const environment of ['development', 'production']) await subjects.setOverride(override('f', 'user', 'u1', true, null, environment), 'f', audit)
    const missing = await subjects.clearOverride('id-f', 'f', 'staging', 'user', 'u1', audit)
    const rev = await subjects.clearOverride('id-f', 'f', 'development', 'user', 'u1', audit)
    t.same({ missing, changes: await flags.changesSince(rev! - 1, 10), left: (await subjects.overridePage(undefined, 10)).map((o) => o.environment) },
      { missing: null, changes: { ...noChanges, revision: rev, overrides: [['f', 'user', 'u1', 'development']] }, left: ['production'] })
  })

  t.test(`${kind}: removing a subject removes its overrides in every environment`, async (t) => {
    const { flags, subjects } = await open(t)
    for (const name of ['a', 'b']) await flags.create(flag(name), { ...audit, names: [name] })
    await subjects.setOverride(override('a', 'user', 'u1', true, null, 'development'), 'a', audit)
    await subjects.setOverride(override('b', 'user', 'u1', true, null, 'production'), 'b', audit)
    await subjects.setOverride(override('b', 'customer', 'c1', true, null, 'development'), 'b', audit)
    await subjects.setOverride(override('a', 'customer', 'c1', true, null, 'production'), 'a', audit)
    const user = await subjects.removeUser('u1', audit)
    const customer = await subjects.removeCustomer('c1', audit)
    t.same({
      user: (await flags.changesSince(user! - 1, 1)).names.sort(),
      customer: (await flags.changesSince(customer! - 1, 1)).names.sort(),
      left: await subjects.overridePage(undefined, 10)
    }, { user: ['a', 'b'], customer: ['a', 'b'], left: [] })
  })
}
