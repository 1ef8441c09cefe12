import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { ChangeEntry, ChangeQuery } from '../../src/repositories/change-log-repository.js'
import type { AuditEntry, StoredApiKey } from '../../src/repositories/flag-repository.js'
import type { SubjectAudit } from '../../src/repositories/subject-repository.js'
import { repositoryImplementations, type Repos } from './implementations.js'
import { FIXED_AT, storedFlag } from '../support/stored-flag.js'

/** One contract, every implementation: the change log read back (history, GET /changes) and pruned. */
const { implementations } = await repositoryImplementations(t, 'Postgres change-log-repository contract')

/** An actor every LIKE, quoting and encoding mistake would trip over. */
const HOSTILE = '50%_off \'x\' "y" \\ ñ 🎲'
const environment = (key: string, name = key) => ({ key, name, position: 2, createdAt: FIXED_AT })
const apiKey: StoredApiKey = { id: 'k1', name: 'deploy', keyHash: 'a'.repeat(64), role: 'admin', environments: [], prefix: 'fp_', createdAt: FIXED_AT, expiresAt: null, lastUsedAt: null }
/** A flag or override write's audit: the flag by id and by its name after the write. */
const flagAudit = (actor: string, action: string, environment: string, [flagId, flag]: [string, string], before: unknown, after: unknown): AuditEntry =>
  ({ actor, action, environment, flagId, flag, names: [flag], before, after })
const A: [string, string] = ['id-a', 'a']
/** Flag a after its rename: the same id. */
const B: [string, string] = ['id-a', 'b']
const globalAudit = (actor: string, action: string, before: unknown, after: unknown): AuditEntry => ({ actor, action, names: [], before, after })
const subjectAudit = ({ names: _names, ...audit }: AuditEntry): SubjectAudit => audit

/** What the seed wrote, in revision order: every field but `at` (which the repository sets). */
type Written = Omit<ChangeEntry, 'at'>
const step = ['envCreate', 'create', 'update', 'rename', 'createIts', 'overrideSet', 'overrideClear', 'customer', 'user', 'apiKey', 'lookalike', 'flagged', 'delete', 'revoke'] as const
type Step = typeof step[number]

/**
 * One history through every writer, each row a millisecond later than the last (so `at` orders them).
 * Flag `a` (id-a) is created in production, changed in staging, renamed to `b`, overridden and deleted;
 * flag `it's_on` lives in development; `apixkey.remove` and `flagged.update` look like `api_key.*` and `flag.*`.
 */
async function seed ({ flags, environments, subjects, apiKeys }: Repos): Promise<{ r: Record<Step, number>, written: Written[] }> {
  const a = storedFlag('a')
  const override = { flagId: 'id-a', environment: 'staging', subject: 'user' as const, subjectId: 'u1', enabled: true, variant: null, createdAt: FIXED_AT, updatedAt: FIXED_AT }
  const audits: Record<Step, AuditEntry> = {
    envCreate: { ...globalAudit('ops', 'environment.create', null, { key: 'staging' }), environment: 'staging' },
    create: flagAudit('alice', 'flag.create', 'production', A, null, { name: 'a' }),
    update: flagAudit('bob', 'flag.update', 'staging', A, { enabled: false }, { enabled: true }),
    rename: { ...flagAudit(HOSTILE, 'flag.rename', 'production', B, { name: 'a' }, { name: 'b' }), names: ['a', 'b'] },
    createIts: flagAudit('bob', 'flag.create', 'development', ['id-its', 'it\'s_on'], null, { name: 'it\'s_on' }),
    overrideSet: flagAudit('alice', 'override.set', 'staging', B, null, { id: 'u1', enabled: true }),
    overrideClear: flagAudit('alice', 'override.clear', 'staging', B, { id: 'u1', enabled: true }, null),
    customer: globalAudit('bob', 'customer.add', null, { id: 'c1' }),
    user: globalAudit('bob', 'user.add', null, { id: 'u2', customer: 'c1' }),
    apiKey: globalAudit('ops', 'api_key.create', null, { id: 'k1' }),
    lookalike: globalAudit('ops', 'apixkey.remove', { id: 'u2' }, null),
    flagged: { ...globalAudit('ops', 'flagged.update', { name: 'staging' }, { name: 'Staging' }), environment: 'staging' },
    delete: flagAudit('alice', 'flag.delete', 'production', B, { name: 'b' }, null),
    revoke: globalAudit('ops', 'api_key.revoke', { id: 'k1' }, null)
  }
  const writes: Record<Step, () => Promise<number | null>> = {
    envCreate: () => environments.create(environment('staging'), 'production', audits.envCreate),
    create: () => flags.create(a, audits.create),
    update: () => flags.update({ ...a, environment: 'staging', version: 2 }, 1, audits.update),
    rename: () => flags.update({ ...a, name: 'b', version: 3 }, 2, audits.rename),
    createIts: () => flags.create(storedFlag('it\'s_on', { id: 'id-its', environment: 'development' }), audits.createIts),
    overrideSet: () => subjects.setOverride(override, 'b', subjectAudit(audits.overrideSet)),
    overrideClear: () => subjects.clearOverride('id-a', 'b', 'staging', 'user', 'u1', subjectAudit(audits.overrideClear)),
    customer: () => subjects.addCustomer({ id: 'c1', name: null, createdAt: FIXED_AT }, subjectAudit(audits.customer)),
    user: () => subjects.addUser({ id: 'u2', customerId: 'c1', createdAt: FIXED_AT }, subjectAudit(audits.user)),
    apiKey: () => apiKeys.create(apiKey, audits.apiKey),
    lookalike: () => subjects.removeUser('u2', subjectAudit(audits.lookalike)),
    flagged: () => environments.update(environment('staging', 'Staging'), audits.flagged),
    delete: () => flags.delete('id-a', 3, audits.delete),
    revoke: () => apiKeys.delete('k1', audits.revoke)
  }
  const r = {} as Record<Step, number>
  const written: Written[] = []
  let previous = 0
  for (const name of step) {
    // The previous row's at is ≤ previous: this one's is later.
    while (Date.now() <= previous) await sleep(1)
    const revision = await writes[name]()
    previous = Date.now()
    if (revision === null) throw new Error(`seed step ${name} wrote nothing`)
    r[name] = revision
    const { actor, action, environment = null, flagId = null, flag = null, before, after } = audits[name]
    written.push({ revision, actor, action, environment, flagId, flag, before, after })
  }
  return { r, written }
}

const revisions = (entries: ChangeEntry[]): number[] => entries.map((e) => e.revision)
const all = { limit: 100, order: 'asc' } as const

for (const [kind, open] of implementations) {
  t.test(`${kind}: entries read back exactly as written, at (a Date) in write order`, async (t) => {
    const repos = await open(t)
    const started = Date.now()
    const { written } = await seed(repos)
    const ended = Date.now()
    const entries = await repos.changes.list(all)
    t.same(entries.map(({ at: _at, ...rest }) => rest), written)
    const times = entries.map((e) => e.at)
    t.ok(times.every((at, i) => at instanceof Date && at.getTime() >= started && at.getTime() <= ended && (i === 0 || at > times[i - 1])),
      'each at is a Date within the seed, strictly increasing')
  })

  t.test(`${kind}: flagId and flag are recorded for flag and override writes (the new name after a rename), null for the others`, async (t) => {
    const repos = await open(t)
    await seed(repos)
    t.same((await repos.changes.list(all)).map((e) => [e.action, e.flagId, e.flag]), [
      ['environment.create', null, null], ['flag.create', 'id-a', 'a'], ['flag.update', 'id-a', 'a'], ['flag.rename', 'id-a', 'b'],
      ['flag.create', 'id-its', 'it\'s_on'], ['override.set', 'id-a', 'b'], ['override.clear', 'id-a', 'b'], ['customer.add', null, null],
      ['user.add', null, null], ['api_key.create', null, null], ['apixkey.remove', null, null], ['flagged.update', null, null],
      ['flag.delete', 'id-a', 'b'], ['api_key.revoke', null, null]
    ])
  })

  t.test(`${kind}: order and limit`, async (t) => {
    const repos = await open(t)
    await seed(repos)
    const list = async (q: Partial<ChangeQuery>): Promise<number[]> => revisions(await repos.changes.list({ ...all, ...q }))
    t.same({
      asc: await list({ order: 'asc' }),
      desc: await list({ order: 'desc' }),
      ascLimited: await list({ order: 'asc', limit: 3 }),
      descLimited: await list({ order: 'desc', limit: 3 }),
      none: await list({ limit: 0 })
    }, {
      asc: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
      desc: [14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
      ascLimited: [1, 2, 3],
      descLimited: [14, 13, 12],
      none: []
    })
  })

  t.test(`${kind}: keyset paging with after visits every entry once, in either order, with filters`, async (t) => {
    const repos = await open(t)
    await seed(repos)
    const pages = async (q: Omit<ChangeQuery, 'limit'>): Promise<number[][]> => {
      const out: number[][] = []
      for (let after = q.after; ;) {
        const page = revisions(await repos.changes.list({ ...q, limit: 4, ...(after === undefined ? {} : { after }) }))
        if (page.length === 0) return out
        out.push(page)
        after = page.at(-1)
      }
    }
    t.same({
      asc: await pages({ order: 'asc' }),
      desc: await pages({ order: 'desc' }),
      ascFrom: await pages({ order: 'asc', after: 11 }),
      descFrom: await pages({ order: 'desc', after: 3 }),
      filtered: await pages({ order: 'desc', flagId: 'id-a' }),
      beyond: await pages({ order: 'asc', after: 14 })
    }, {
      asc: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14]],
      desc: [[14, 13, 12, 11], [10, 9, 8, 7], [6, 5, 4, 3], [2, 1]],
      ascFrom: [[12, 13, 14]],
      descFrom: [[2, 1]],
      filtered: [[13, 7, 6, 4], [3, 2]],
      beyond: []
    })
  })

  t.test(`${kind}: each filter alone`, async (t) => {
    const repos = await open(t)
    const { r } = await seed(repos)
    const at = (await repos.changes.list(all)).map((e) => e.at)
    const list = async (q: Partial<ChangeQuery>): Promise<number[]> => revisions(await repos.changes.list({ ...all, ...q }))
    t.same({
      flagId: await list({ flagId: 'id-a' }),
      flagIdOther: await list({ flagId: 'id-its' }),
      flagOld: await list({ flag: 'a' }),
      flagNew: await list({ flag: 'b' }),
      environment: await list({ environment: 'staging' }),
      actor: await list({ actor: 'alice' }),
      actionExact: await list({ action: 'flag.update' }),
      actionGroup: await list({ action: 'flag' }),
      overrideGroup: await list({ action: 'override' }),
      apiKeyGroup: await list({ action: 'api_key' }),
      revisionRange: await list({ fromRevision: 4, toRevision: 6 }),
      fromRevision: await list({ fromRevision: 13 }),
      toRevision: await list({ toRevision: 2 }),
      timeRange: await list({ since: at[5], until: at[9] }),
      since: await list({ since: at[12] }),
      until: await list({ until: at[1] })
    }, {
      flagId: [r.create, r.update, r.rename, r.overrideSet, r.overrideClear, r.delete],
      flagIdOther: [r.createIts],
      flagOld: [r.create, r.update],
      flagNew: [r.rename, r.overrideSet, r.overrideClear, r.delete],
      environment: [r.envCreate, r.update, r.overrideSet, r.overrideClear, r.flagged],
      actor: [r.create, r.overrideSet, r.overrideClear, r.delete],
      actionExact: [r.update],
      actionGroup: [r.create, r.update, r.rename, r.createIts, r.delete],
      overrideGroup: [r.overrideSet, r.overrideClear],
      apiKeyGroup: [r.apiKey, r.revoke],
      revisionRange: [4, 5, 6],
      fromRevision: [13, 14],
      toRevision: [1, 2],
      timeRange: [6, 7, 8, 9],
      since: [13, 14],
      until: [1]
    })
  })

  t.test(`${kind}: filters combine (AND)`, async (t) => {
    const repos = await open(t)
    const { r } = await seed(repos)
    const at = (await repos.changes.list(all)).map((e) => e.at)
    const list = async (q: Partial<ChangeQuery>): Promise<number[]> => revisions(await repos.changes.list({ ...all, ...q }))
    t.same({
      history: await list({ flagId: 'id-a', environment: 'staging', action: 'flag', toRevision: r.overrideClear, order: 'desc' }),
      actorGroup: await list({ actor: 'alice', action: 'override', limit: 1 }),
      actorGroupNext: await list({ actor: 'alice', action: 'override', after: r.overrideSet }),
      flagVisible: await list({ flag: 'b', fromRevision: 5, visibility: { environments: ['staging'], apiKeys: false } }),
      timeAndActor: await list({ actor: 'bob', since: at[4], until: at[8] }),
      contradiction: await list({ flag: 'a', environment: 'development' })
    }, {
      history: [r.update],
      actorGroup: [r.overrideSet],
      actorGroupNext: [r.overrideClear],
      flagVisible: [r.overrideSet, r.overrideClear],
      timeAndActor: [r.createIts, r.customer],
      contradiction: []
    })
  })

  t.test(`${kind}: visibility: the key's environments and global entries; api_key.* only for admins`, async (t) => {
    const repos = await open(t)
    const { r } = await seed(repos)
    const list = async (q: Partial<ChangeQuery>): Promise<number[]> => revisions(await repos.changes.list({ ...all, ...q }))
    t.same({
      staging: await list({ visibility: { environments: ['staging'], apiKeys: false } }),
      stagingAndDevelopment: await list({ visibility: { environments: ['staging', 'development'], apiKeys: false } }),
      admin: await list({ visibility: { apiKeys: true } }),
      everyEnvironmentNoKeys: await list({ visibility: { apiKeys: false } }),
      globalOnly: await list({ visibility: { environments: [], apiKeys: false } }),
      globalWithKeys: await list({ visibility: { environments: [], apiKeys: true } })
    }, {
      staging: [r.envCreate, r.update, r.overrideSet, r.overrideClear, r.customer, r.user, r.lookalike, r.flagged],
      stagingAndDevelopment: [r.envCreate, r.update, r.createIts, r.overrideSet, r.overrideClear, r.customer, r.user, r.lookalike, r.flagged],
      admin: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
      everyEnvironmentNoKeys: [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13],
      globalOnly: [r.customer, r.user, r.lookalike],
      globalWithKeys: [r.customer, r.user, r.apiKey, r.lookalike, r.revoke]
    })
  })

  t.test(`${kind}: hostile filter values match literally (no LIKE wildcards, no quoting, case-sensitive) and never throw`, async (t) => {
    const repos = await open(t)
    const { r } = await seed(repos)
    // A group is a prefix in characters: one of two bytes and one of four (two UTF-16 units) among them.
    const wide = await repos.subjects.addCustomer({ id: 'c-wide', name: null, createdAt: FIXED_AT }, { actor: 'ops', action: 'ñ🎲.add', before: null, after: null })
    const list = async (q: Partial<ChangeQuery>): Promise<number[]> => revisions(await repos.changes.list({ ...all, ...q }))
    const hostile = {
      actorPercent: await list({ actor: '%' }),
      actorUnderscore: await list({ actor: '_ps' }),
      actorPrefix: await list({ actor: '50%' }),
      actorCase: await list({ actor: 'ALICE' }),
      actorQuote: await list({ actor: '\' or \'1\'=\'1' }),
      actorNul: await list({ actor: 'alice\u0000' }),
      flagWildcard: await list({ flag: 'it\'s%' }),
      flagUnderscore: await list({ flag: 'it\'sXon' }),
      flagDoubledQuote: await list({ flag: 'it\'\'s_on' }),
      flagIdWildcard: await list({ flagId: 'id-%' }),
      environment: await list({ environment: 'staging\' --' }),
      environmentWildcard: await list({ environment: 'stag%' }),
      actionGroupPercent: await list({ action: '%' }),
      actionGroupUnderscore: await list({ action: 'fla_' }),
      actionGroupCase: await list({ action: 'FLAG' }),
      actionExactWildcard: await list({ action: 'flag.%' }),
      actionGroupPartial: await list({ action: 'ñ' })
    }
    t.same(hostile, Object.fromEntries(Object.keys(hostile).map((k) => [k, []])), 'none matches anything')
    t.same(await list({ visibility: { environments: ['%', 'stag_ng', '\'staging\''], apiKeys: true } }), [r.customer, r.user, r.apiKey, r.lookalike, r.revoke, wide],
      'visible environments match literally too: only the global entries')
    t.same({ actor: await list({ actor: HOSTILE }), flag: await list({ flag: 'it\'s_on' }), group: await list({ action: 'ñ🎲' }) },
      { actor: [r.rename], flag: [r.createIts], group: [wide] }, 'and the values themselves are found')
  })

  t.test(`${kind}: before and after round-trip as JSON (nested, unicode, numbers at the edges, key order kept)`, async (t) => {
    const { subjects, changes } = await open(t)
    const edges = {
      zeta: { nested: [{ deep: [[[]]], empty: {} }, null, true, false], 'key "quoted"': 'ok', '': 'empty key' },
      alpha: { maxSafe: 2 ** 53 - 1, minSafe: -(2 ** 53 - 1), max: Number.MAX_VALUE, tiny: Number.MIN_VALUE, negativeZero: -0, fraction: 0.1 + 0.2, big: 1e21 },
      unicode: { astral: '🎲🏳️‍🌈', combining: 'e\u0301', cjk: '旗', rtl: 'עברית', nul: 'a\u0000b', escapes: '\\"\n\t\u2028', lone: '\ud800' },
      order: { b: 1, a: 2, B: 3, é: 4 }
    }
    // Top-level values of every JSON kind, strings that look like JSON among them.
    const pairs: Array<[unknown, unknown]> = [[edges, structuredClone(edges)], ['123', 'null'], ['"quoted"', '[1]'], [false, 0], [[], {}], [-0, 'plain']]
    for (const [i, [before, after]] of pairs.entries()) await subjects.addCustomer({ id: `c${i}`, name: null, createdAt: FIXED_AT }, { actor: 't', action: 'customer.add', before, after })
    const read = (await changes.list(all)).map((e) => [e.before, e.after])
    const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v))
    t.same(read, pairs.map(([b, a]) => [asJson(b), asJson(a)]))
    t.same(read.map((p) => JSON.stringify(p)), pairs.map((p) => JSON.stringify(p)), 'key order and every string exactly as written')
    const negativeZeros = [(read[0][0] as typeof edges).alpha.negativeZero, (read[0][1] as typeof edges).alpha.negativeZero, read[5][0]]
    t.same(negativeZeros.map((z) => Object.is(z, 0)), [true, true, true], '-0 reads back as 0, as JSON has it, on every implementation')
    t.same(read.slice(1, 4).map((p) => p.map((v) => typeof v)), [['string', 'string'], ['string', 'string'], ['boolean', 'number']], 'a JSON-looking string stays a string')
  })

  t.test(`${kind}: prune deletes entries before the time (strictly), answers the count, keeps revisions moving`, async (t) => {
    const repos = await open(t)
    const { changes, flags } = repos
    await seed(repos)
    const at = (await changes.list(all)).map((e) => e.at)
    const deleted = await changes.prune(at[4])
    const after = revisions(await changes.list(all))
    const again = await changes.prune(at[4])
    const revision = await flags.latestRevision()
    const next = await flags.create(storedFlag('later'), { actor: 'ops', action: 'flag.create', environment: 'production', flagId: 'id-later', flag: 'later', names: ['later'], before: null, after: null })
    t.same({ deleted, after, again, revision, next, listed: revisions(await changes.list({ ...all, fromRevision: 14 })) },
      { deleted: 4, after: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], again: 0, revision: 14, next: 15, listed: [14, 15] })
  })

  t.test(`${kind}: prune never deletes the latest entry, however old; the revision and the next one are unchanged`, async (t) => {
    const repos = await open(t)
    const { changes, flags, subjects } = repos
    const empty = await changes.prune(new Date(Date.now() + 3_600_000))
    await seed(repos)
    const deleted = await changes.prune(new Date(Date.now() + 3_600_000))
    const left = await changes.list(all)
    const revision = await flags.latestRevision()
    const again = await changes.prune(new Date(Date.now() + 3_600_000))
    const next = await subjects.addCustomer({ id: 'c9', name: null, createdAt: FIXED_AT }, { actor: 'ops', action: 'customer.add', before: null, after: null })
    t.same({ empty, deleted, left: left.map((e) => [e.revision, e.action]), revision, again, next, listed: revisions(await changes.list({ ...all, order: 'desc' })) },
      { empty: 0, deleted: 13, left: [[14, 'api_key.revoke']], revision: 14, again: 0, next: 15, listed: [15, 14] })
  })
}
