import { userInfo } from 'node:os'
import t from 'tap'
import { start } from '../support/process.js'
import { until } from '../support/until.js'
import { json, run, workspace, type Workspace } from './support.js'

t.test('a running server sees the CLI\'s writes through its revision poll', async (t) => {
  const ws = await workspace(t)
  const server = await start({ DATABASE_URL: ws.url, CACHE_REFRESH_MS: '100', API_KEY: 'test-write-key-0123456789', LOG_LEVEL: 'warn' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const get = async (path: string): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${server.base}${path}`)
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }
  t.equal((await get('/evaluate/dashboard')).status, 404, server.output())

  t.equal(ws.flagpost('add-feature', 'dashboard').status, 0)
  await t.resolves(until(async () => (await get('/evaluate/dashboard?customer_id=101')).status === 200, 10_000, 25), 'the new flag is served')
  t.match((await get('/evaluate/dashboard?customer_id=101')).body, { value: false })

  t.equal(ws.flagpost('set-flag', 'dashboard', '--customer-id', '101', '--enabled').status, 0)
  await t.resolves(until(async () => (await get('/evaluate/dashboard?customer_id=101')).body.value === true, 10_000, 25), 'the override is served')
  t.match((await get('/evaluate/dashboard?customer_id=101')).body, { reason: 'TARGETING_MATCH', rule: 'customer_override' })
  t.match((await get('/customers/101')).body, { id: '101', name: null }, 'the customer the CLI registered')
  t.match((await get('/flags/dashboard/customers?state=explicitly_enabled')).body, { customers: [{ id: '101' }] })

  t.equal(ws.flagpost('add-user', 'alice', '--customer-id', '101').status, 0)
  await t.resolves(until(async () => (await get('/evaluate/dashboard?user_id=alice')).body.value === true, 10_000, 25), 'the user\'s customer is inferred')

  t.equal(ws.flagpost('disable', 'dashboard').status, 0)
  await t.resolves(until(async () => (await get('/evaluate/dashboard?customer_id=101')).body.reason === 'DISABLED', 10_000, 25), 'the kill switch is served')

  t.equal(ws.flagpost('rename-feature', 'dashboard', 'board').status, 0)
  await t.resolves(until(async () => (await get('/evaluate/dashboard')).status === 404 && (await get('/evaluate/board')).status === 200, 10_000, 25), 'the rename is served')
  t.equal(ws.flagpost('remove-feature', 'board').status, 0)
  await t.resolves(until(async () => (await get('/evaluate/board')).status === 404, 10_000, 25), 'the removal is served')
})

t.test('a server container on the same database, and a second CLI process, see the writes', async (t) => {
  const ws = await workspace(t)
  const server = await ws.container({ poll: true, cacheRefreshMs: 50 })
  // The CLI writes to the default environment.
  const env = server.config.defaultEnvironment
  ws.flagpost('add-feature', 'dashboard', '--default-enabled')
  ws.flagpost('set-flag', 'dashboard', '--customer-id', '101', '--disabled')
  await t.resolves(until(() => server.snapshot.get(env, 'dashboard') !== undefined &&
    server.services.flags.evaluate(env, 'dashboard', { customer_id: '101' }).value === false, 10_000, 25), 'the container caught up by polling')
  t.match(server.services.flags.evaluate(env, 'dashboard', { customer_id: '102' }), { value: true })
  t.same((await server.services.subjects.listCustomersForFlag(env, 'dashboard', { state: 'explicitly_disabled' })).items.map((c) => c.id), ['101'])

  // And the other way round: what the container writes, the next CLI process reads.
  await server.services.subjects.addCustomer({ id: '102', name: 'Beta Corp' }, { actor: 'test' })
  t.equal(ws.flagpost('list-customers', 'dashboard').stdout, 'ID   NAME\n102  Beta Corp\n')
})

t.test('every CLI write is in the change log as cli:<os user>', async (t) => {
  const ws = await workspace(t)
  ws.flagpost('add-feature', 'dashboard')
  ws.flagpost('add-customer', '101')
  ws.flagpost('set-flag', 'dashboard', '--customer-id', '101', '--enabled')
  ws.flagpost('set-global', 'dashboard', '--enabled')
  ws.flagpost('clear-flag', 'dashboard', '--customer-id', '101')
  ws.flagpost('remove-customer', '101')
  ws.flagpost('remove-feature', 'dashboard')
  let expected = 'cli'
  try { expected = `cli:${userInfo().username}` } catch {}
  const rows = await ws.changes()
  t.equal(rows.length, 7, 'one revision per write')
  for (const row of rows) t.equal(row.actor, expected, row.action)
  t.equal(await ws.revision(), rows[6].id)
})

t.test('bad input exits non-zero and changes nothing', async (t) => {
  const ws: Workspace = await workspace(t)
  ws.flagpost('add-feature', 'dashboard', '--default-enabled')
  ws.flagpost('add-customer', '101')
  ws.flagpost('set-flag', 'dashboard', '--customer-id', '101', '--enabled')
  const revision = await ws.revision()
  const state = () => [ws.flagpost('list-flags', '--json').stdout, ws.flagpost('list-customers-enabled', 'dashboard', '--json').stdout]
  const before = state()

  const cases: Array<[string[], number, RegExp]> = [
    [['set-flag', 'dashbord', '--customer-id', '101', '--enabled'], 1, /^flagpost: Flag "dashbord" does not exist\n$/],
    [['list-features', '999'], 1, /^flagpost: Customer "999" does not exist\n$/],
    [['remove-customer', '999'], 1, /^flagpost: Customer "999" does not exist\n$/],
    [['add-feature', 'my dashboard'], 1, /^flagpost: invalid feature name "my dashboard"/],
    [['rename-feature', 'dashboard', 'my dashboard'], 1, /^flagpost: invalid feature name "my dashboard"/],
    [['set-flag', 'dashboard', '--customer-id', '101'], 2, /^flagpost set-flag: give exactly one of --enabled and --disabled/],
    [['set-flag', 'dashboard'], 2, /^flagpost set-flag: give exactly one of --customer-id and --user-id/],
    [['add-customer'], 2, /^flagpost add-customer: missing ID/],
    [['evaluate', 'dashboard', '--attr', 'novalue'], 2, /^flagpost evaluate: --attr "novalue": expected key=value/]
  ]
  for (const [args, status, reason] of cases) {
    const res = ws.flagpost(...args)
    t.equal(res.status, status, args.join(' '))
    t.match(res.stderr, reason, args.join(' '))
    t.equal(res.stdout, '', args.join(' '))
  }
  t.equal(await ws.revision(), revision, 'no revision was written')
  t.same(state(), before, 'flags and overrides are as they were')
  t.match(json(ws.flagpost('evaluate', 'dashboard', '--customer-id', '101', '--json')), { value: true, rule: 'customer_override' })
})

t.test('configuration problems exit 2, list the problem without its secret, and touch nothing', async (t) => {
  const res = run(['add-feature', 'x'], { DATABASE_URL: 'mysql://u:secret@db/x' })
  t.equal(res.status, 2)
  t.match(res.stderr, /^flagpost: Invalid configuration:\n {2}- DATABASE_URL/)
  t.notMatch(res.stderr, /secret/)
  t.equal(res.stdout, '')
})
