import t, { type Test } from 'tap'
import type { Container } from '../src/container.js'
import type { Change, Flagpost } from '../src/index.js'
import { toChangeBody } from '../src/services/change-view.js'
import { everyItem } from '../src/services/paging.js'
import { observer, open, rejectsWith } from './support/library.js'
import { testDatabase } from './support/test-database.js'

// History (SPEC §11) through the library: history, changes and revert, answering what the API answers.

/** `dashboard` written in production and staging, a switch, renamed to `dashboard-v2`; a namesake; a customer. */
async function withHistory (t: Test): Promise<{ url: string, flagpost: Flagpost, staging: Flagpost, c: Container }> {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, { databaseUrl: url, actor: 'app' })
  await flagpost.addEnvironment('staging')
  const staging = await open(t, { databaseUrl: url, environment: 'staging', actor: 'stager' })
  await flagpost.addFeature('dashboard', { defaultEnabled: true })
  await flagpost.setGlobalFlag('dashboard', false)
  await staging.refresh()
  await staging.enableFeature('dashboard')
  await flagpost.setFlag('dashboard', { userId: 'u1' }, true)
  await flagpost.renameFeature('dashboard', 'dashboard-v2')
  await flagpost.addFeature('dashboard')
  await flagpost.addCustomer('acme')
  return { url, flagpost, staging, c: await observer(t, url) }
}

const actionsOf = (changes: Change[]): string[] => changes.map((c) => c.action)

t.test('history: a feature\'s changes in one environment, newest first, across a rename', async (t) => {
  const { flagpost, staging, c } = await withHistory(t)
  const history = await flagpost.history('dashboard-v2')
  t.same(actionsOf(history), ['flag.rename', 'override.set', 'flag.update', 'flag.create'], 'the instance\'s environment, from before the rename')
  t.same(history, (await c.services.history.flagHistory('production', 'dashboard-v2', {})).items.map(toChangeBody), 'each entry as GET /flags/{name}/history shows it')
  t.match(history[0], { actor: 'app', environment: 'production', flag: 'dashboard-v2', before: { name: 'dashboard' }, after: { name: 'dashboard-v2' }, changed: ['name'] })
  t.same(history[2].changed, ['targeting_rules.percentage'])
  t.type(history[0].at, 'string', 'snake_case bodies with ISO times, as Flag')

  t.same(actionsOf(await flagpost.history('dashboard-v2', { environment: 'staging' })), ['flag.update'], 'options.environment')
  t.match(await staging.history('dashboard-v2'), [{ action: 'flag.update', actor: 'stager', changed: ['enabled'] }], 'an instance of another environment')
  t.same(actionsOf(await flagpost.history('dashboard')), ['flag.create'], 'the new feature of the old name has its own history')
  t.same(await flagpost.history('dashboard-v2', { limit: 2 }), history.slice(0, 2), 'limit: the newest')
  t.same(await flagpost.history('dashboard-v2', { limit: 99, environment: null } as never), history, 'null options are the defaults')

  await rejectsWith(t, () => flagpost.history('nope'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'an unknown feature')
  await rejectsWith(t, () => flagpost.history('dashboard-v2', { environment: 'nope' }), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'an unknown environment')
})

t.test('changes: the whole log, newest first, filtered', async (t) => {
  const { flagpost, c } = await withHistory(t)
  const all = await flagpost.changes()
  const latest = await c.repositories.flags.latestRevision()
  t.same(all.map((e) => e.revision), Array.from({ length: latest }, (_, i) => latest - i), 'every revision, newest first')
  t.same(all, (await everyItem((page) => c.services.history.list({}, page, { apiKeys: true }))).map(toChangeBody), 'as GET /changes shows each entry')
  t.match(all[0], { action: 'customer.add', environment: null, flag: null })

  const where = (pick: (e: Change) => boolean): number[] => all.filter(pick).map((e) => e.revision)
  const only = async (filter: Parameters<Flagpost['changes']>[0]): Promise<number[]> => (await flagpost.changes(filter)).map((e) => e.revision)
  t.same(await only({ flag: 'dashboard-v2' }), where((e) => e.flag === 'dashboard-v2'), 'flag')
  t.same(await only({ environment: 'staging' }), where((e) => e.environment === 'staging'), 'environment')
  t.same(await only({ actor: 'stager' }), where((e) => e.actor === 'stager'), 'actor')
  t.same(await only({ action: 'flag' }), where((e) => e.action.startsWith('flag.')), 'action: a group')
  t.same(await only({ action: 'flag.update', environment: 'production' }), where((e) => e.action === 'flag.update' && e.environment === 'production'), 'filters combine')
  t.same(await only({ fromRevision: 3, toRevision: 6 }), where((e) => e.revision >= 3 && e.revision <= 6), 'a revision range')
  t.same(await only({ since: new Date(Date.now() - 3_600_000) }), where(() => true), 'since, a Date')
  t.same(await only({ since: '2000-01-01T00:00:00+01:00', until: '2000-01-02T00:00:00Z' }), [], 'since and until, RFC 3339 strings')
  t.same(await only({ until: new Date(Date.now() + 3_600_000) }), where(() => true), 'until, a Date')
  t.same(await only({ environment: 'gone' }), [], 'an environment that does not exist (now) is a filter like any other')
  t.same(await only({ limit: 3 }), where(() => true).slice(0, 3), 'limit: the newest')
  t.same(await only({ flag: undefined, actor: null } as never), where(() => true), 'undefined and null filters are none')
})

t.test('revert: the feature served as it was at a revision; 409 when that is no longer possible', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, { databaseUrl: url, actor: 'app' })
  const c = await observer(t, url)
  const revision = (): Promise<number> => c.repositories.flags.latestRevision()
  await flagpost.addFeature('plan', { type: 'string', defaultValue: 'pro', offValue: 'basic', defaultEnabled: true })
  const created = await revision()
  await flagpost.setGlobalFlag('plan', false)
  await flagpost.disableFeature('plan')
  t.equal(flagpost.evaluate('plan', { userId: 'u' }).value, 'basic')

  const reverted = await flagpost.revert('plan', created)
  t.match(reverted, { name: 'plan', enabled: true, targeting_rules: { percentage: 100 }, version: 4 }, 'the flag, as getFeature shows it')
  t.same(reverted, await flagpost.getFeature('plan'))
  t.equal(flagpost.evaluate('plan', { userId: 'u' }).value, 'pro', 'this instance serves it at once')
  t.match((await flagpost.changes({ limit: 1 }))[0], { action: 'flag.revert', actor: 'app', after: { reverted_to: created } }, 'recorded as the instance\'s actor')
  let before = await revision()
  t.same(await flagpost.revert('plan', created), reverted, 'reverting to the state it is in…')
  t.equal(await revision(), before, '…writes nothing')

  // options.environment: never written in development, so served off there as a new flag is.
  t.match(await flagpost.revert('plan', created, { environment: 'development' }), { enabled: false })

  // A revision another process wrote after this instance last caught up.
  const other = await open(t, { databaseUrl: url, cacheRefreshMs: 3_600_000 })
  await flagpost.setGlobalFlag('plan', false)
  const off = await revision()
  await flagpost.setGlobalFlag('plan', true)
  t.match(await other.revert('plan', off), { targeting_rules: { percentage: 0 } }, 'the revision is after what it had seen, not after the latest')

  // 409: the variant it served then is gone (variants are shared: development stops serving it first).
  await c.snapshot.catchUp()
  await c.services.flags.update('production', 'plan', { variants: { fallback: 'f' }, defaultVariant: 'fallback' }, { actor: 'test' })
  await c.services.flags.update('development', 'plan', { defaultVariant: 'fallback' }, { actor: 'test' })
  await c.services.flags.update('production', 'plan', { variants: { on: null } }, { actor: 'test' })
  before = await revision()
  await rejectsWith(t, () => flagpost.revert('plan', created), 'FLAGPOST_ERR_REVERT_CONFLICT', 'the variant it served is gone')
  await rejectsWith(t, () => flagpost.revert('plan', before + 1), 'FLAGPOST_ERR_VALIDATION', 'after the latest revision')
  await rejectsWith(t, () => flagpost.revert('nope', 1), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'an unknown feature')
  await rejectsWith(t, () => flagpost.revert('plan', 1, { environment: 'nope' }), 'FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'an unknown environment')
  t.equal(await revision(), before, 'no refusal wrote anything')
})

t.test('bad arguments: the validation error naming the argument, nothing written', async (t) => {
  const { flagpost, c } = await withHistory(t)
  const before = await c.repositories.flags.latestRevision()
  const refusals: Array<[() => unknown, string, string | RegExp]> = [
    [() => flagpost.history('dashboard-v2', { environmnet: 'staging' } as never), 'FLAGPOST_ERR_VALIDATION', 'options.environmnet'],
    [() => flagpost.history('dashboard-v2', { limit: 0 }), 'FLAGPOST_ERR_VALIDATION', 'options.limit'],
    [() => flagpost.history('dashboard-v2', { limit: '5' } as never), 'FLAGPOST_ERR_VALIDATION', 'options.limit'],
    [() => flagpost.history('dashboard-v2', { environment: 7 } as never), 'FLAGPOST_ERR_VALIDATION', 'options.environment'],
    [() => flagpost.changes({ fromrevision: 1 } as never), 'FLAGPOST_ERR_VALIDATION', 'filter.fromrevision'],
    [() => flagpost.changes('flag' as never), 'FLAGPOST_ERR_VALIDATION', /^filter$/],
    [() => flagpost.changes({ flag: 'bad name' }), 'FLAGPOST_ERR_VALIDATION', 'filter.flag'],
    [() => flagpost.changes({ environment: 'Staging' }), 'FLAGPOST_ERR_VALIDATION', 'filter.environment'],
    [() => flagpost.changes({ actor: '' }), 'FLAGPOST_ERR_VALIDATION', 'filter.actor'],
    [() => flagpost.changes({ actor: 'x'.repeat(129) }), 'FLAGPOST_ERR_VALIDATION', 'filter.actor'],
    [() => flagpost.changes({ action: 'Flag.Update' }), 'FLAGPOST_ERR_VALIDATION', 'filter.action'],
    [() => flagpost.changes({ fromRevision: 0 }), 'FLAGPOST_ERR_VALIDATION', 'filter.fromRevision'],
    [() => flagpost.changes({ toRevision: Number.NaN }), 'FLAGPOST_ERR_VALIDATION', 'filter.toRevision'],
    [() => flagpost.changes({ toRevision: '3' } as never), 'FLAGPOST_ERR_VALIDATION', 'filter.toRevision'],
    [() => flagpost.changes({ since: new Date('nope') }), 'FLAGPOST_ERR_VALIDATION', 'filter.since'],
    [() => flagpost.changes({ since: 'yesterday' }), 'FLAGPOST_ERR_VALIDATION', 'filter.since'],
    [() => flagpost.changes({ until: '2026-13-45T00:00:00Z' }), 'FLAGPOST_ERR_VALIDATION', 'filter.until'],
    [() => flagpost.changes({ until: 1_700_000_000_000 } as never), 'FLAGPOST_ERR_VALIDATION', 'filter.until'],
    [() => flagpost.changes({ limit: 1.5 }), 'FLAGPOST_ERR_VALIDATION', 'filter.limit'],
    [() => flagpost.revert('dashboard-v2', -1), 'FLAGPOST_ERR_VALIDATION', 'revision'],
    [() => flagpost.revert('dashboard-v2', Number.NaN), 'FLAGPOST_ERR_VALIDATION', 'revision'],
    [() => flagpost.revert('dashboard-v2', 2 ** 60), 'FLAGPOST_ERR_VALIDATION', 'revision'],
    [() => flagpost.revert('dashboard-v2', '1' as never), 'FLAGPOST_ERR_VALIDATION', 'revision'],
    [() => flagpost.revert('dashboard-v2', undefined as never), 'FLAGPOST_ERR_VALIDATION', 'revision'],
    [() => flagpost.revert('dashboard-v2', 1, { env: 'staging' } as never), 'FLAGPOST_ERR_VALIDATION', 'options.env']
  ]
  for (const [call, code, field] of refusals) {
    try {
      await call()
      t.fail(`expected ${code} on ${String(field)}, but it succeeded`)
    } catch (err) {
      t.equal((err as { code?: string }).code, code, (err as Error).message)
      t.match((err as { problems?: Array<{ field: string }> }).problems, [{ field }], `names ${String(field)}`)
    }
  }
  t.equal(await c.repositories.flags.latestRevision(), before, 'nothing written')
  await flagpost.close()
  await t.rejects(flagpost.changes(), /closed/, 'a closed instance refuses')
  await t.rejects(flagpost.revert('dashboard-v2', 1), /closed/)
})
