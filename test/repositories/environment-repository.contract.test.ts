import t from 'tap'
import { EnvironmentExistsError, EnvironmentNotFoundError } from '../../src/errors.js'
import type { AuditEntry, StoredEnvironment } from '../../src/repositories/flag-repository.js'
import { repositoryImplementations } from './implementations.js'
import type { StoredOverride } from '../../src/repositories/subject-repository.js'
import { storedFlag } from '../support/stored-flag.js'

/** One contract, every implementation: environments, their cascades and the once-only adoption of the default key. */
const { implementations } = await repositoryImplementations(t, 'Postgres environment-repository contract')

const at = new Date(1_700_000_000_000)
const audit = (action: string, environment?: string): AuditEntry =>
  ({ actor: 'tester', action, ...(environment === undefined ? {} : { environment }), names: [], before: null, after: null })
const environment = (key: string, position: number, name = key): StoredEnvironment => ({ key, name, position, createdAt: at })
const flag = storedFlag
const override = (flagName: string, environment: string, subjectId: string): StoredOverride =>
  ({ flagId: `id-${flagName}`, environment, subject: 'user', subjectId, enabled: true, variant: null, createdAt: at, updatedAt: at })
const overrideAudit = { actor: 'tester', action: 'override.set', before: null, after: null }
const summary = (envs: StoredEnvironment[]): Array<[string, string, number]> => envs.map((e) => [e.key, e.name, e.position])

for (const [kind, open] of implementations) {
  t.test(`${kind}: a fresh database has development and production, in that order`, async (t) => {
    const { environments } = await open(t)
    t.same(summary(await environments.all()), [['development', 'Development', 0], ['production', 'Production', 1]])
  })

  t.test(`${kind}: environments are listed by position, then by key`, async (t) => {
    const { environments } = await open(t)
    for (const [key, position] of [['zeta', 1], ['alpha', 1], ['first', -1]] as const) await environments.create(environment(key, position), 'production', audit('environment.create'))
    t.same((await environments.all()).map((e) => e.key), ['first', 'development', 'alpha', 'production', 'zeta'])
  })

  t.test(`${kind}: get returns the environment as created, undefined for an unknown key`, async (t) => {
    const { environments } = await open(t)
    const staging = environment('staging', 2, 'Staging')
    await environments.create(staging, 'production', audit('environment.create'))
    t.same({ staging: await environments.get('staging'), nope: await environments.get('nope') }, { staging, nope: undefined })
  })

  t.test(`${kind}: a new environment gets a copy of every flag's configuration in copyFrom, served off, without overrides`, async (t) => {
    const { flags, environments, subjects } = await open(t)
    const rules = { user_ids: ['u1'], customer_ids: [], rules: [], percentage: 25, rollout: null, bucket_by: 'user_id' as const }
    const a = flag('a')
    const b = flag('b')
    await flags.create(a, audit('flag.create', 'production'))
    await flags.create(b, audit('flag.create', 'production'))
    // Development differs from production: the copy is development's.
    await flags.update({ ...a, environment: 'development', enabled: true, defaultVariant: 'off', targetingRules: rules, version: 2 }, 1, audit('flag.update', 'development'))
    await subjects.setOverride(override('a', 'development', 'u1'), 'a', overrideAudit)
    await environments.create(environment('staging', 2), 'development', audit('environment.create'))
    t.same({
      flags: (await flags.all()).filter((f) => f.environment === 'staging'),
      overrides: await subjects.listOverrides('id-a', 'staging', { limit: 10 })
    }, {
      flags: [{ ...a, environment: 'staging', enabled: false, defaultVariant: 'off', targetingRules: rules, version: 2 }, { ...b, environment: 'staging', enabled: false }],
      overrides: []
    })
  })

  t.test(`${kind}: creating an environment whose key exists is refused with EnvironmentExistsError and writes nothing`, async (t) => {
    const { flags, environments } = await open(t)
    await t.rejects(environments.create(environment('production', 5, 'Again'), 'development', audit('environment.create')), EnvironmentExistsError)
    t.same({ revision: await flags.latestRevision(), environments: summary(await environments.all()) },
      { revision: 0, environments: [['development', 'Development', 0], ['production', 'Production', 1]] })
  })

  t.test(`${kind}: creating an environment from one that does not exist is refused with EnvironmentNotFoundError and writes nothing`, async (t) => {
    const { flags, environments } = await open(t)
    await flags.create(flag('a'), audit('flag.create', 'production'))
    await t.rejects(environments.create(environment('staging', 2), 'nope', audit('environment.create')), EnvironmentNotFoundError)
    t.same({ revision: await flags.latestRevision(), staging: await environments.get('staging'), flags: (await flags.all()).length },
      { revision: 1, staging: undefined, flags: 2 })
  })

  t.test(`${kind}: update sets the name and position of an environment, null and nothing written for an unknown key`, async (t) => {
    const { flags, environments } = await open(t)
    const updated = await environments.update({ key: 'development', name: 'Dev', position: 7, createdAt: new Date(0) }, audit('environment.update'))
    const unknown = await environments.update(environment('nope', 0), audit('environment.update'))
    const development = await environments.get('development')
    t.same({ updated, unknown, revision: await flags.latestRevision(), development: development && [development.name, development.position, development.createdAt.getTime() !== 0] },
      { updated: 1, unknown: null, revision: 1, development: ['Dev', 7, true] }, 'created_at is not rewritten')
  })

  t.test(`${kind}: delete removes the environment with its flag configurations and overrides; null for an unknown key`, async (t) => {
    const { flags, environments, subjects } = await open(t)
    await environments.create(environment('staging', 2), 'production', audit('environment.create'))
    await flags.create(flag('a'), audit('flag.create', 'production'))
    for (const env of ['staging', 'production']) await subjects.setOverride(override('a', env, 'u1'), 'a', overrideAudit)
    const deleted = await environments.delete('staging', audit('environment.delete'))
    const unknown = await environments.delete('staging', audit('environment.delete'))
    t.same({
      deleted,
      unknown,
      environments: (await environments.all()).map((e) => e.key),
      flags: (await flags.all()).map((f) => f.environment),
      overrides: (await subjects.overridePage(undefined, 10)).map((o) => o.environment)
    }, { deleted: 5, unknown: null, environments: ['development', 'production'], flags: ['development', 'production'], overrides: ['production'] })
  })

  t.test(`${kind}: flagCount counts flags, not configurations`, async (t) => {
    const { flags, environments } = await open(t)
    const counts = [await environments.flagCount()]
    await environments.create(environment('staging', 2), 'production', audit('environment.create'))
    for (const name of ['a', 'b']) await flags.create(flag(name), audit('flag.create', 'production'))
    counts.push(await environments.flagCount())
    await flags.delete('id-a', 1, audit('flag.delete', 'production'))
    counts.push(await environments.flagCount())
    t.same(counts, [0, 2, 1])
  })

  t.test(`${kind}: every environment write is logged, and tells caches to reload everything`, async (t) => {
    const { flags, environments } = await open(t)
    await flags.create(flag('a'), audit('flag.create', 'production'))
    const revisions = [
      await environments.create(environment('staging', 2), 'production', audit('environment.create')),
      await environments.update(environment('staging', 3), audit('environment.update')),
      await environments.delete('staging', audit('environment.delete'))
    ]
    const changes = async (revision: number): Promise<boolean> => (await flags.changesSince(revision - 1, 1)).environments
    t.same({ revisions, flag: await changes(1), environments: [await changes(2), await changes(3), await changes(4)], batch: (await flags.changesSince(0, 10)).environments },
      { revisions: [2, 3, 4], flag: false, environments: [true, true, true], batch: true })
  })

  t.test(`${kind}: adoptDefault renames production to the default key once: its configurations, overrides and change-log rows follow`, async (t) => {
    const { flags, environments, subjects, logEnvironments } = await open(t)
    const a = flag('a')
    await flags.create(a, audit('flag.create', 'production'))
    await subjects.setOverride(override('a', 'production', 'u1'), 'a', overrideAudit)
    await subjects.addCustomer({ id: 'c1', name: null, createdAt: at }, overrideAudit)
    await subjects.setOverride(override('a', 'development', 'u2'), 'a', overrideAudit)
    const adopted = await environments.adoptDefault('live', audit('environment.adopt'))
    const again = await environments.adoptDefault('other', audit('environment.adopt'))
    t.same({
      adopted,
      again,
      environments: summary(await environments.all()),
      flag: await flags.get('live', 'a'),
      overrides: (await subjects.overridePage(undefined, 10)).map((o) => [o.environment, o.subjectId]),
      log: await logEnvironments(),
      reload: (await flags.changesSince(4, 10)).environments
    }, {
      adopted: true,
      again: false,
      environments: [['development', 'Development', 0], ['live', 'live', 1]],
      flag: { ...a, environment: 'live' },
      overrides: [['development', 'u2'], ['live', 'u1']],
      log: ['live', 'live', null, 'development', null],
      reload: true
    })
  })

  t.test(`${kind}: adoptDefault does nothing when the default is production, and the chance is gone`, async (t) => {
    const { flags, environments } = await open(t)
    const results = [await environments.adoptDefault('production', audit('environment.adopt')), await environments.adoptDefault('live', audit('environment.adopt'))]
    t.same({ results, revision: await flags.latestRevision(), environments: (await environments.all()).map((e) => e.key) },
      { results: [false, false], revision: 0, environments: ['development', 'production'] })
  })

  t.test(`${kind}: adoptDefault does nothing when the default already exists, and the chance is gone`, async (t) => {
    const { flags, environments } = await open(t)
    const results = [await environments.adoptDefault('development', audit('environment.adopt')), await environments.adoptDefault('live', audit('environment.adopt'))]
    t.same({ results, revision: await flags.latestRevision(), environments: (await environments.all()).map((e) => e.key) },
      { results: [false, false], revision: 0, environments: ['development', 'production'] })
  })
}
