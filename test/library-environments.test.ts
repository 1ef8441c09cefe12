import t from 'tap'
import { createFlagpost } from '../src/index.js'
import { observer, open, rejectsWith } from './support/library.js'
import { queryRows, testDatabase } from './support/test-database.js'

t.test('listEnvironments, addEnvironment, removeEnvironment', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, { databaseUrl: url, actor: 'app' })
  const keys = async (): Promise<string[]> => (await flagpost.listEnvironments()).map((e) => e.key)

  t.same(await keys(), ['development', 'production'], 'a fresh database')
  const staging = await flagpost.addEnvironment('staging', 'Staging')
  t.match(staging, { key: 'staging', name: 'Staging', position: Number })
  t.ok(staging.createdAt instanceof Date)
  t.match(await flagpost.addEnvironment('qa'), { key: 'qa', name: 'qa' }, 'the name defaults to the key')
  t.same(await keys(), ['development', 'production', 'staging', 'qa'])
  t.match(await queryRows(url, 'select actor, action from change_log where action = ? order by id', ['environment.create']),
    [{ actor: 'app', action: 'environment.create' }, { actor: 'app', action: 'environment.create' }], 'written to the change log as the actor')

  await flagpost.addFeature('dashboard')
  await rejectsWith(t, () => flagpost.removeEnvironment('qa'), 'FLAGPOST_ERR_ENVIRONMENT_IN_USE', 'flags are configured in it')
  await rejectsWith(t, () => flagpost.removeEnvironment('production', { force: true }), 'FLAGPOST_ERR_ENVIRONMENT_IN_USE', 'the default environment')
  await flagpost.removeEnvironment('qa', { force: true })
  await flagpost.removeEnvironment('staging', { force: true })
  t.same(await keys(), ['development', 'production'])
  await rejectsWith(t, () => flagpost.removeEnvironment('staging'), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'gone')
})

t.test('the environment option: every call addresses that environment', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const production = await open(t, { databaseUrl: url })
  await production.addEnvironment('staging')
  const staging = await open(t, { databaseUrl: url, environment: 'staging' })

  await production.addFeature('dashboard', { defaultEnabled: true })
  await staging.refresh()
  t.equal(production.evaluate('dashboard', { userId: 'alice' }).value, true, 'configured as given where it was created')
  t.equal(staging.evaluate('dashboard', { userId: 'alice' }).value, false, 'served off in the other environments')
  t.equal(staging.isEnabled('dashboard', { userId: 'alice' }), false)
  t.equal((await staging.getFeature('dashboard')).enabled, false)

  await staging.enableFeature('dashboard')
  await staging.setGlobalFlag('dashboard', false)
  await staging.setFlag('dashboard', { userId: 'bob' }, true)
  t.equal(staging.evaluate('dashboard', { userId: 'alice' }).value, false)
  t.equal(staging.evaluate('dashboard', { userId: 'bob' }).value, true)
  await production.refresh()
  t.equal(production.evaluate('dashboard', { userId: 'alice' }).value, true, 'production unchanged')
  t.equal(production.evaluate('dashboard', { userId: 'bob' }).value, true)
  await production.setFlag('dashboard', { userId: 'bob' }, false)
  await staging.refresh()
  t.equal(staging.evaluate('dashboard', { userId: 'bob' }).value, true, 'overrides are per environment')
  t.equal(production.evaluate('dashboard', { userId: 'bob' }).value, false)

  await rejectsWith(t, () => createFlagpost({ databaseUrl: url, environment: 'nope' }), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'an unknown environment')
  await rejectsWith(t, () => createFlagpost({ databaseUrl: url, environment: 'Staging' }), 'FLAGPOST_ERR_VALIDATION', 'a malformed key')
})

t.test('promote', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, { databaseUrl: url, actor: 'release-bot' })
  await flagpost.addEnvironment('staging')
  const staging = await open(t, { databaseUrl: url, environment: 'staging' })
  await flagpost.addFeature('dashboard')
  await flagpost.addFeature('other')
  await staging.refresh()
  await staging.enableFeature('dashboard')
  await staging.setGlobalFlag('dashboard', true)
  await staging.setFlag('dashboard', { userId: 'bob' }, false)
  await flagpost.refresh()
  const c = await observer(t, url)
  const revision = (): Promise<number> => c.repositories.flags.latestRevision()

  let before = await revision()
  const dry = await flagpost.promote('staging', 'production', { flags: ['dashboard'], includeOverrides: true, dryRun: true })
  t.match(dry, { dryRun: true, flags: [{ flag: 'dashboard', changes: { targeting_rules: { from: { percentage: 0 }, to: { percentage: 100 } } }, overrides: { added: 1, removed: 0, changed: 0 } }] })
  t.equal(dry.flags.length, 1)
  t.equal(await revision(), before, 'a dry run writes nothing')
  t.equal(flagpost.evaluate('dashboard', { userId: 'alice' }).value, false)

  const done = await flagpost.promote('staging', 'production', { flags: ['dashboard'], includeOverrides: true })
  t.match(done, { dryRun: false, flags: [{ flag: 'dashboard' }] })
  t.equal(flagpost.evaluate('dashboard', { userId: 'alice' }).value, true, 'the promoting instance serves it at once')
  t.equal(flagpost.evaluate('dashboard', { userId: 'bob' }).value, false, 'the override came along')
  t.match(await queryRows(url, 'select actor, action from change_log where id > ? order by id', [before]), [{ actor: 'release-bot', action: 'flag.promote' }], 'one change-log row, the actor')
  t.same(await flagpost.promote('staging', 'production', { flags: ['dashboard'] }), { dryRun: false, flags: [] }, 'nothing left to promote')
  t.match(await flagpost.promote('staging', 'production'), { dryRun: false, flags: [{ flag: 'other', changes: { enabled: { from: true, to: false } } }] }, 'every flag without flags')

  // Bad arguments: refused before anything reaches the database.
  before = await revision()
  const refusals: Array<[() => unknown, string, string]> = [
    [() => flagpost.promote('staging', 'staging'), 'FLAGPOST_ERR_VALIDATION', 'from and to the same'],
    [() => flagpost.promote('staging', 7 as unknown as string), 'FLAGPOST_ERR_VALIDATION', 'to not a string'],
    [() => flagpost.promote(undefined as unknown as string, 'production'), 'FLAGPOST_ERR_VALIDATION', 'from missing'],
    [() => flagpost.promote('nope', 'production'), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'an unknown source'],
    [() => flagpost.promote('staging', 'Prod!'), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'a key that names no environment'],
    [() => flagpost.promote('staging', 'production', 'dashboard' as never), 'FLAGPOST_ERR_VALIDATION', 'options not an object'],
    [() => flagpost.promote('staging', 'production', { flags: 'dashboard' } as never), 'FLAGPOST_ERR_VALIDATION', 'flags not an array'],
    [() => flagpost.promote('staging', 'production', { flags: [1] } as never), 'FLAGPOST_ERR_VALIDATION', 'a flag not a string'],
    [() => flagpost.promote('staging', 'production', { flags: ['bad name'] }), 'FLAGPOST_ERR_VALIDATION', 'a malformed flag name'],
    [() => flagpost.promote('staging', 'production', { flags: ['missing'] }), 'FLAGPOST_ERR_VALIDATION', 'an unknown flag'],
    [() => flagpost.promote('staging', 'production', { dryRun: 'yes' } as never), 'FLAGPOST_ERR_VALIDATION', 'dryRun not a boolean'],
    [() => flagpost.promote('staging', 'production', { includeOverrides: 1 } as never), 'FLAGPOST_ERR_VALIDATION', 'includeOverrides not a boolean'],
    [() => flagpost.promote('staging', 'production', { dry_run: true } as never), 'FLAGPOST_ERR_VALIDATION', 'an unknown option']
  ]
  for (const [call, code, message] of refusals) await rejectsWith(t, call, code, message)
  t.equal(await revision(), before, 'no refusal wrote anything')
})

t.test('addEnvironment and removeEnvironment refuse bad arguments, writing nothing', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, { databaseUrl: url })
  await flagpost.addEnvironment('staging')
  const c = await observer(t, url)
  const before = await c.repositories.flags.latestRevision()
  const refusals: Array<[() => unknown, string, string]> = [
    [() => flagpost.addEnvironment(42 as unknown as string), 'FLAGPOST_ERR_VALIDATION', 'a key not a string'],
    [() => flagpost.addEnvironment('Staging'), 'FLAGPOST_ERR_VALIDATION', 'upper case'],
    [() => flagpost.addEnvironment('a'.repeat(33)), 'FLAGPOST_ERR_VALIDATION', 'too long'],
    [() => flagpost.addEnvironment('qa', '   '), 'FLAGPOST_ERR_VALIDATION', 'a blank name'],
    [() => flagpost.addEnvironment('qa', 'x'.repeat(65)), 'FLAGPOST_ERR_VALIDATION', 'a name too long'],
    [() => flagpost.addEnvironment('qa', 7 as unknown as string), 'FLAGPOST_ERR_VALIDATION', 'a name not a string'],
    [() => flagpost.addEnvironment('staging'), 'FLAGPOST_ERR_ENVIRONMENT_EXISTS', 'taken'],
    [() => flagpost.removeEnvironment(null as unknown as string), 'FLAGPOST_ERR_VALIDATION', 'a key not a string'],
    [() => flagpost.removeEnvironment('Nope!'), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'a key that names no environment'],
    [() => flagpost.removeEnvironment('nope'), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'an unknown environment'],
    [() => flagpost.removeEnvironment('staging', { force: 'yes' } as never), 'FLAGPOST_ERR_VALIDATION', 'force not a boolean'],
    [() => flagpost.removeEnvironment('staging', { forse: true } as never), 'FLAGPOST_ERR_VALIDATION', 'an unknown option'],
    [() => flagpost.removeEnvironment('staging', true as never), 'FLAGPOST_ERR_VALIDATION', 'options not an object']
  ]
  for (const [call, code, message] of refusals) await rejectsWith(t, call, code, message)
  t.equal(await c.repositories.flags.latestRevision(), before, 'nothing written')
  t.same((await flagpost.listEnvironments()).map((e) => e.key), ['development', 'production', 'staging'])

  await flagpost.close()
  await t.rejects(flagpost.listEnvironments(), /closed/, 'a closed instance refuses')
  await t.rejects(flagpost.addEnvironment('qa'), /closed/)
})
