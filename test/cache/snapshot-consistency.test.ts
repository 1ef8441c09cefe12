import t, { type Test } from 'tap'
import { createFlagSnapshot, type FlagSnapshot } from '../../src/cache/flag-snapshot.js'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import { testDatabase } from '../support/test-database.js'

/**
 * An instance only ever serves a state the database had at one revision. Here a second instance
 * commits in the middle of a catch-up's (or a full load's) reads: an override on `y`, then a new
 * value of `x`. Serving the new `x` without the override written before it is a state no revision
 * had; the snapshot must serve both or neither, at the revision that has exactly that.
 */
const WRITER = { actor: 'test' }
/** The default environment: where a fresh database's flags are served. */
const P = 'production'
const silent = { warn () {}, debug () {} }

async function setup (t: Test): Promise<{ observer: Container, writer: Container }> {
  const db = await testDatabase(t, { shared: true })
  const open = async (): Promise<Container> => {
    const c = await createContainer(loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent' }), { poll: false })
    t.teardown(() => c.close())
    return c
  }
  const writer = await open()
  await writer.services.flags.create(P, { name: 'x', type: 'string', defaultValue: 'v1' }, WRITER)
  await writer.services.flags.create(P, { name: 'y', type: 'boolean', defaultValue: false }, WRITER)
  return { observer: await open(), writer }
}

/** The two writes that must be seen together or not at all. */
async function interleave (writer: Container): Promise<void> {
  await writer.services.subjects.setOverride(P, 'y', 'user', 'u', { enabled: true }, WRITER)
  await writer.services.flags.update(P, 'x', { defaultValue: 'v2' }, WRITER)
}

/** Serves `x` = v2 exactly when it serves the override on `y`, and its revision is the database's then. */
function consistent (t: Test, snapshot: FlagSnapshot, revisions: { before: number, after: number }): void {
  const x = snapshot.get(P, 'x')!.definition.variants.on
  const y = snapshot.get(P, 'y')!
  const overridden = y.userOverrides?.has('u') ?? false
  t.equal(x === 'v2', overridden, `x=${String(x)} with the override ${overridden ? 'present' : 'missing'}`)
  t.equal(snapshot.revision, x === 'v2' ? revisions.after : revisions.before, 'at the revision that had exactly that')
}

t.test('a catch-up during which other writes commit serves a state of one revision', async (t) => {
  const { observer, writer } = await setup(t)
  const repos = observer.repositories
  let fired = false
  // A snapshot over the observer's repositories whose flag read lets the writer commit first.
  const flags = {
    ...repos.flags,
    async getMany (names: string[]) {
      if (!fired) { fired = true; await interleave(writer) }
      return await repos.flags.getMany(names)
    }
  }
  const snapshot = createFlagSnapshot({ repo: flags, environments: repos.environments, logger: silent, subjects: repos.subjects })
  await snapshot.load()
  await writer.services.flags.update(P, 'x', { description: 'touched' }, WRITER)
  const before = await repos.flags.latestRevision()
  await snapshot.catchUp()
  t.ok(fired, 'the writes landed in the middle of the catch-up')
  consistent(t, snapshot, { before, after: await repos.flags.latestRevision() })
})

t.test('a full load during which other writes commit serves a state of one revision', async (t) => {
  const { observer, writer } = await setup(t)
  const repos = observer.repositories
  const before = await repos.flags.latestRevision()
  let fired = false
  // Overrides are read first, then flags: the writes land in between.
  const flags = {
    ...repos.flags,
    async all () {
      if (!fired) { fired = true; await interleave(writer) }
      return await repos.flags.all()
    }
  }
  const snapshot = createFlagSnapshot({ repo: flags, environments: repos.environments, logger: silent, subjects: repos.subjects })
  await snapshot.load()
  t.ok(fired)
  consistent(t, snapshot, { before, after: await repos.flags.latestRevision() })
})

t.test('a catch-up gives up, keeping the last state, when every read is overtaken; the next one succeeds', async (t) => {
  const { observer, writer } = await setup(t)
  const repos = observer.repositories
  let overtake = true
  let n = 0
  const flags = {
    ...repos.flags,
    async getMany (names: string[]) {
      if (overtake) await writer.services.flags.update(P, 'x', { description: `d${++n}` }, WRITER)
      return await repos.flags.getMany(names)
    }
  }
  const snapshot = createFlagSnapshot({ repo: flags, environments: repos.environments, logger: silent, subjects: repos.subjects })
  await snapshot.load()
  const loaded = snapshot.revision
  await writer.services.flags.update(P, 'x', { defaultValue: 'v2' }, WRITER)
  await t.rejects(snapshot.catchUp(), /changed during each/)
  t.equal(snapshot.revision, loaded, 'nothing half-read was served')
  t.equal(snapshot.get(P, 'x')!.definition.variants.on, 'v1')
  t.equal(snapshot.health.failing, true)
  overtake = false
  await snapshot.catchUp()
  t.equal(snapshot.get(P, 'x')!.definition.variants.on, 'v2')
  t.equal(snapshot.revision, await repos.flags.latestRevision())
  t.equal(snapshot.health.failing, false)
})

t.test('an incremental catch-up that keeps failing falls back to a full reload after three attempts', async (t) => {
  const { observer, writer } = await setup(t)
  const repos = observer.repositories
  // Only the incremental path reads users by id; the full load pages through them instead.
  const subjects = { ...repos.subjects, getUsers: async () => { throw new Error('injected') } }
  const snapshot = createFlagSnapshot({ repo: repos.flags, environments: repos.environments, logger: silent, subjects })
  await snapshot.load()
  await writer.services.subjects.addUser({ id: 'u1', customerId: 'c1' }, WRITER)
  for (let i = 1; i <= 3; i++) {
    await t.rejects(snapshot.catchUp(), /injected/)
    t.equal(snapshot.health.failures, i)
  }
  await snapshot.catchUp()
  t.equal(snapshot.customerOf('u1'), 'c1', 'the full reload served the change')
  t.equal(snapshot.health.failing, false)
})
