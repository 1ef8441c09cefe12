import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { testDatabase } from '../support/test-database.js'

/**
 * /readyz answers for what this instance serves: ready means its snapshot is loaded and has reached
 * the database's latest revision; a catch-up that keeps failing is "not ready", with the reason, in
 * /metrics too, and logged once when it starts failing and once when it recovers.
 */
const WRITER = { actor: 'test' }

async function instance (t: Test, url: string) {
  const lines: Array<{ level: string, msg: string }> = []
  const logger = {
    warn: (_obj: object, msg: string) => { lines.push({ level: 'warn', msg }) },
    info: (_obj: object, msg: string) => { lines.push({ level: 'info', msg }) },
    debug: () => {}
  }
  // A poll far longer than the test: only /readyz (or a write) makes this instance catch up.
  const container = await createContainer(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: '600000', API_KEY: 'k'.repeat(24) }), { logger })
  t.teardown(() => container.close())
  const app = await buildApp(container)
  t.teardown(() => app.close())
  return { container, app, lines }
}

t.test('an instance behind the database catches up before it says ready', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const a = await instance(t, db.url)
  const b = await instance(t, db.url)
  const env = b.container.config.defaultEnvironment
  await b.container.services.flags.create(env, { name: 'fresh', type: 'boolean', defaultValue: true }, WRITER)
  t.equal(a.container.snapshot.get(env, 'fresh'), undefined, 'the other instance has not polled yet')
  const res = await a.app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { status: 'ready', revision: 1, checks: { snapshot: 'ok', database: 'ok' } })
  t.equal((await a.app.inject({ url: '/evaluate/fresh?user_id=u' })).statusCode, 200, 'and ready means it serves the latest write')
})

t.test('a catch-up that keeps failing: 503 with the reason, a metric, one log line per change of state', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const a = await instance(t, db.url)
  const b = await instance(t, db.url)
  const subjects = a.container.repositories.subjects
  const { getUsers, userCustomerPage } = subjects
  // Both ways of reading users fail: the incremental catch-up, and the full reload it falls back to.
  subjects.getUsers = subjects.userCustomerPage = async () => { throw new Error('injected: users cannot be read') }

  await b.container.services.subjects.addUser({ id: 'u1', customerId: 'c1' }, WRITER)
  for (let i = 0; i < 3; i++) {
    const res = await a.app.inject({ url: '/readyz' })
    t.equal(res.statusCode, 503, res.body)
    t.match(res.json(), { status: 'not ready', revision: 0, checks: { snapshot: /^catch-up failing: injected: users cannot be read/, database: 'ok' } })
  }
  await a.container.snapshot.catchUp().catch(() => {})
  const metrics = await a.app.inject({ url: '/metrics' })
  t.match(metrics.body, /^flagpost_snapshot_catchup_failing 1$/m)
  t.match(metrics.body, /^flagpost_ready 0$/m)
  t.same(a.lines.filter((l) => /catch-up/.test(l.msg)).map((l) => l.level), ['warn'], 'one line when it started failing, not one per attempt')

  Object.assign(subjects, { getUsers, userCustomerPage })
  const res = await a.app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 200, res.body)
  t.equal(a.container.snapshot.customerOf('u1'), 'c1')
  t.same(a.lines.filter((l) => /catch-up/.test(l.msg)).map((l) => l.level), ['warn', 'info'], 'and one when it recovered')
  t.match((await a.app.inject({ url: '/metrics' })).body, /^flagpost_snapshot_catchup_failing 0$/m)
})

t.test('a write whose catch-up fails is still answered as committed, and the next catch-up serves it', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const a = await instance(t, db.url)
  const subjects = a.container.repositories.subjects
  const getUsers = subjects.getUsers
  subjects.getUsers = async () => { throw new Error('injected') }
  const res = await a.app.inject({ method: 'POST', url: '/users', headers: { 'x-api-key': 'k'.repeat(24) }, payload: { id: 'u1', customer_id: 'c1' } })
  t.equal(res.statusCode, 201, 'committed is answered as committed, never a 500')
  t.equal(a.container.snapshot.health.failing, true)
  subjects.getUsers = getUsers
  await a.container.snapshot.catchUp()
  t.equal(a.container.snapshot.customerOf('u1'), 'c1')
})
