import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { createFlagpost } from '../src/index.js'
import { workspace } from './cli/support.js'
import { WRITE_KEY } from './helper.js'

/**
 * Issue 4's "done when": HTTP, the CLI and the library agree on one database. Each writes part of
 * the original tool's story on the same database (a SQLite file, or a Postgres schema on the Postgres
 * pass) and the other two read it back.
 */
t.test('HTTP, CLI and library agree on the same database', async (t) => {
  const ws = await workspace(t)
  const lib = await createFlagpost({ databaseUrl: ws.url, cacheRefreshMs: 50 })
  t.teardown(() => lib.close())

  // Library: a feature off by default, a customer switched on explicitly.
  await lib.addFeature('dashboard')
  await lib.addCustomer(101)
  await lib.setFlag('dashboard', { customerId: 101 }, true)

  // CLI reads what the library wrote, then writes its own part.
  const features = ws.flagpost('list-features', '101', '--json')
  t.equal(features.status, 0, features.stderr)
  t.same(JSON.parse(features.stdout).flags.map((f: { name: string }) => f.name), ['dashboard'])
  t.equal(ws.flagpost('add-user', 'u2', '--customer-id', '101').status, 0)
  t.equal(ws.flagpost('add-customer', '202').status, 0)
  t.equal(ws.flagpost('set-flag', 'dashboard', '--customer-id', '202', '--disabled').status, 0)
  t.equal(ws.flagpost('set-flag', 'dashboard', '--user-id', 'u1', '--enabled').status, 0)

  // HTTP, as a server on the same database, sees both.
  const container = await createContainer(loadConfig({ DATABASE_URL: ws.url, API_KEY: WRITE_KEY, LOG_LEVEL: 'silent' }), { poll: false })
  const app = await buildApp(container)
  t.teardown(async () => { await app.close(); await container.close() })
  const get = async (url: string) => (await app.inject({ url })).json()
  t.same((await get('/customers/101/flags')).flags.map((f: { name: string }) => f.name), ['dashboard'])
  t.same((await get('/flags/dashboard/customers?state=enabled')).customers.map((c: { id: string }) => c.id), ['101'])
  t.same((await get('/flags/dashboard/customers?state=explicitly_disabled')).customers.map((c: { id: string }) => c.id), ['202'])
  t.match(await get('/evaluate/dashboard?user_id=u2'), { value: true, rule: 'customer_override' }, "u2's customer 101 is inferred")
  t.match(await get('/evaluate/dashboard?user_id=u1'), { value: true, rule: 'user_override' })
  t.match(await get('/evaluate/dashboard?user_id=u3'), { value: false, rule: 'fallthrough' })

  // The library sees the CLI's writes, through the same queries the original tool had.
  await lib.refresh()
  t.same(await lib.listCustomersWithFeature('dashboard'), ['101'])
  t.same(await lib.listFeaturesForCustomer(101), ['dashboard'])
  t.same(await lib.listCustomersWithFeatureExplicitlyEnabled('dashboard'), ['101'])
  t.same(await lib.listCustomersWithFeatureExplicitlyDisabled('dashboard'), ['202'])
  t.equal(lib.isEnabled('dashboard', { userId: 'u1' }), true)

  // An HTTP write (global switch on) shows up in the CLI and the library.
  const res = await app.inject({ method: 'PUT', url: '/flags/dashboard', headers: { 'x-api-key': WRITE_KEY }, payload: { targeting_rules: { percentage: 100 } } })
  t.equal(res.statusCode, 200, res.body)
  const everyone = ws.flagpost('list-customers', 'dashboard', '--json')
  t.same(JSON.parse(everyone.stdout).customers.map((c: { id: string }) => c.id), ['101'], '202 is switched off explicitly, so only 101')
  await lib.refresh()
  t.equal(lib.isEnabled('dashboard', { userId: 'nobody' }), true, 'the global switch is on for everyone else')
  t.equal(lib.isEnabled('dashboard', { customerId: 202 }), false, 'explicit switches still win')
})
