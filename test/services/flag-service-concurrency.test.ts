import t from 'tap'
import { createFlagSnapshot } from '../../src/cache/flag-snapshot.js'
import { migrateDatabase, openDatabase } from '../../src/db/database.js'
import { ConflictError, FlagExistsError, VersionMismatchError } from '../../src/errors.js'
import type { FlagRepository } from '../../src/repositories/flag-repository.js'
import { createRepositories } from '../../src/repositories/index.js'
import { createFlagService } from '../../src/services/flag-service.js'
import { testDatabase } from '../support/test-database.js'

const silent = { warn () {}, debug () {} }
const WRITER = { actor: 'test' }
const ENV = 'production'

/**
 * Two services on one database (the pass's dialect), as two instances would be; `interleave` lets a test
 * write in between `service`'s next read and its write. `retryBudgetMs` is `service`'s.
 */
async function setup (t: { teardown (fn: () => unknown): void }, { retryBudgetMs }: { retryBudgetMs?: number } = {}) {
  const handle = await openDatabase((await testDatabase(t)).url)
  t.teardown(() => handle.close())
  await migrateDatabase(handle)
  const { flags: repo, environments } = await createRepositories(handle)
  let between: (() => Promise<void>) | undefined
  // The same repository, except that once, right after a read, another writer gets in first.
  const racing: FlagRepository = {
    ...repo,
    async get (environment, name) {
      const flag = await repo.get(environment, name)
      const hook = between
      between = undefined
      if (hook !== undefined) await hook()
      return flag
    }
  }
  const otherSnapshot = createFlagSnapshot({ repo, environments, logger: silent })
  const serviceSnapshot = createFlagSnapshot({ repo: racing, environments, logger: silent })
  // The services check the environment against their snapshot: load it, as a container does.
  await otherSnapshot.load()
  await serviceSnapshot.load()
  const other = createFlagService({ repo, snapshot: otherSnapshot })
  const service = createFlagService({ repo: racing, snapshot: serviceSnapshot, retryBudgetMs })
  return { repo, service, other, interleave: (fn: () => Promise<void>) => { between = fn } }
}

t.test('a write that loses the race is recomputed on the new version: no update is lost', async (t) => {
  const { repo, service, other, interleave } = await setup(t)
  await other.create(ENV, { name: 'f', defaultValue: true }, WRITER)
  interleave(async () => { await other.update(ENV, 'f', { tags: ['from-other'] }, WRITER) })
  const result = await service.update(ENV, 'f', { description: 'from-service' }, WRITER)
  t.equal(result.version, 3, 'applied after the other write')
  const stored = await repo.get(ENV, 'f')
  t.equal(stored?.description, 'from-service')
  t.same(stored?.tags, ['from-other'], 'the other writer\'s change survived')
  t.equal(await repo.latestRevision(), 3, 'one revision per applied write, none for the lost attempt')
})

t.test('with If-Match, the loser of a race gets 412 and changes nothing', async (t) => {
  const { repo, service, other, interleave } = await setup(t)
  await other.create(ENV, { name: 'f', defaultValue: true }, WRITER)
  interleave(async () => { await other.update(ENV, 'f', { tags: ['winner'] }, { ...WRITER, ifMatch: 1 }) })
  await t.rejects(service.update(ENV, 'f', { description: 'loser' }, { ...WRITER, ifMatch: 1 }), VersionMismatchError)
  const stored = await repo.get(ENV, 'f')
  t.equal(stored?.description, '')
  t.same(stored?.tags, ['winner'])
  t.equal(stored?.version, 2)
})

t.test('a delete racing an update: the update is retried and finds the flag gone (404), nothing resurrects', async (t) => {
  const { repo, service, other, interleave } = await setup(t)
  await other.create(ENV, { name: 'f', defaultValue: true }, WRITER)
  interleave(async () => { await other.remove(ENV, 'f', WRITER) })
  await t.rejects(service.update(ENV, 'f', { description: 'too late' }, WRITER), { code: 'FLAGPOST_ERR_FLAG_NOT_FOUND' })
  t.equal(await repo.get(ENV, 'f'), undefined)
})

t.test('concurrent creates of one name: exactly one succeeds', async (t) => {
  const { repo, service, other } = await setup(t)
  const results = await Promise.allSettled([
    service.create(ENV, { name: 'same', defaultValue: 'true' }, WRITER),
    other.create(ENV, { name: 'same', defaultValue: 'false' }, WRITER),
    service.create(ENV, { name: 'same', defaultValue: true }, WRITER)
  ])
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  t.equal(rejected.length, 2)
  t.ok(rejected.every((r) => r.reason instanceof FlagExistsError), 'both losers are told the flag exists')
  t.equal(await repo.latestRevision(), 1)
})

t.test('a write that keeps losing the race gets 409 once its retry budget is spent, and changes nothing', async (t) => {
  const { repo, service, other, interleave } = await setup(t, { retryBudgetMs: 100 })
  await other.create(ENV, { name: 'f', defaultValue: true }, WRITER)
  // Before every one of service's writes, the other instance gets a write in.
  let wins = 0
  const race = async (): Promise<void> => {
    wins++
    await other.update(ENV, 'f', { tags: [`other-${wins}`] }, WRITER)
    interleave(race)
  }
  interleave(race)
  const started = Date.now()
  await t.rejects(service.update(ENV, 'f', { description: 'never' }, WRITER), ConflictError)
  t.ok(Date.now() - started >= 100, 'it kept trying for the whole budget')
  const stored = await repo.get(ENV, 'f')
  t.equal(stored?.description, '', 'the refused write left nothing')
  t.equal(stored?.version, 1 + wins, 'only the winner\'s writes are versions')
  t.equal(await repo.latestRevision(), 1 + wins, 'and only they are revisions')
})

t.test('many concurrent unconditional updates through the HTTP-free service all land', async (t) => {
  const { repo, service, other } = await setup(t)
  await other.create(ENV, { name: 'counter', defaultValue: true }, WRITER)
  const writers = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? service : other)
    .update(ENV, 'counter', { metadata: { [`k${i}`]: i } }, WRITER))
  await Promise.all(writers)
  const stored = await repo.get(ENV, 'counter')
  t.equal(Object.keys(stored?.metadata ?? {}).length, 20, 'every writer\'s key is there')
  t.equal(stored?.version, 21)
})
