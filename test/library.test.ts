import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { ConfigError, createFlagpost, isFlagpostError, type Flagpost } from '../src/index.js'
import { untraced } from './support/process.js'
import { testDatabase, trackHandles } from './support/test-database.js'

const tempDir = (t: { teardown (fn: () => unknown): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-lib-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Open a Flagpost on `databaseUrl`, closed when the test ends (close is idempotent). */
async function open (t: { teardown (fn: () => unknown): void }, databaseUrl: string, extra: { cacheRefreshMs?: number } = {}): Promise<Flagpost> {
  const flagpost = await createFlagpost({ databaseUrl, ...extra })
  t.teardown(() => flagpost.close())
  return flagpost
}

/** The change-log revision of a database, read through a separate container (no poll). */
async function revisionOf (databaseUrl: string): Promise<number> {
  const container = await createContainer(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }), { poll: false })
  try { return await container.repositories.flags.latestRevision() } finally { await container.close() }
}

/** Rejects with a Flagpost error carrying this code (and so a status for the HTTP mapping). */
async function rejectsWith (t: Test, promise: Promise<unknown>, code: string, message: string): Promise<void> {
  try {
    await promise
    t.fail(`${message}: expected ${code}, but it succeeded`)
  } catch (err) {
    t.ok(isFlagpostError(err), `${message}: a Flagpost error`)
    t.equal((err as { code?: string }).code, code, message)
  }
}

t.test('the original README flow, camelCase, on a database of its own', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, url)

  const created = await flagpost.addFeature('new_dashboard')
  t.match(created, { name: 'new_dashboard', type: 'boolean', enabled: true, default_value: true, off_value: false, version: 1 })
  t.equal(created.targeting_rules.percentage, 0, 'add-feature without defaultEnabled: off for everyone')

  // Customers and users: integer ids as the original took them, stored as strings.
  t.match(await flagpost.addCustomer(1, 'Acme'), { id: '1', name: 'Acme' })
  t.match(await flagpost.addCustomer(2, 'Globex'), { id: '2', name: 'Globex' })
  t.match(await flagpost.addCustomer('3'), { id: '3', name: null })
  t.match(await flagpost.addUser(10, 1), { id: '10', customerId: '1' })
  await flagpost.addUser('alice')
  t.equal(flagpost.isEnabled('new_dashboard', { customerId: 2 }), false)
  t.strictSame(await flagpost.listCustomersWithFeature('new_dashboard'), [])

  // Global switch on, then explicit switches per customer and per user.
  t.equal((await flagpost.setGlobalFlag('new_dashboard', true)).targeting_rules.percentage, 100)
  t.match(await flagpost.setFlag('new_dashboard', { customerId: 1 }, false), { flag: 'new_dashboard', subject: 'customer', id: '1', enabled: false, variant: null })
  await flagpost.setFlag('new_dashboard', { customerId: 3 }, true)
  t.match(await flagpost.setFlag('new_dashboard', { userId: 10 }, true), { subject: 'user', id: '10', enabled: true })
  await flagpost.setFlag('new_dashboard', { userId: 'alice' }, false)

  // Rename: the explicit switches follow the feature.
  t.match(await flagpost.renameFeature('new_dashboard', 'dashboard_v2'), { name: 'dashboard_v2' })
  t.throws(() => flagpost.evaluate('new_dashboard', {}), { code: 'FLAGPOST_ERR_FLAG_NOT_FOUND' }, 'the old name is gone')

  // The four queries of the original tool.
  t.strictSame(await flagpost.listCustomersWithFeature('dashboard_v2'), ['2', '3'], 'effective: 1 is switched off')
  t.strictSame(await flagpost.listFeaturesForCustomer(2), ['dashboard_v2'])
  t.strictSame(await flagpost.listFeaturesForCustomer(1), [])
  t.strictSame(await flagpost.listCustomersWithFeatureExplicitlyEnabled('dashboard_v2'), ['3'])
  t.strictSame(await flagpost.listCustomersWithFeatureExplicitlyDisabled('dashboard_v2'), ['1'])

  // Evaluation: a user's switch beats their customer's; the customer is inferred from the registered user.
  t.match(flagpost.evaluate('dashboard_v2', { customerId: 1 }), { value: false, variant: 'off', reason: 'TARGETING_MATCH', rule: 'customer_override' })
  t.match(flagpost.evaluate('dashboard_v2', { userId: 10 }), { value: true, variant: 'on', reason: 'TARGETING_MATCH', rule: 'user_override' })
  t.match(flagpost.evaluate('dashboard_v2', { user_id: 'alice', customer_id: '2' }), { value: false, rule: 'user_override' }, 'snake_case context too')
  t.match(flagpost.evaluate('dashboard_v2', { customerId: 2, country: 'DE' }), { value: true, reason: 'DEFAULT' })
  t.equal(flagpost.isEnabled('dashboard_v2', { userId: 10 }), true)
  t.equal(flagpost.isEnabled('dashboard_v2', { customerId: 1 }), false)
  t.equal(flagpost.isEnabled('no_such_feature', { customerId: 1 }), false, 'an unknown feature is off for isEnabled')

  // Global switch off: only the explicit switch remains; the kill switch beats even that.
  await flagpost.setGlobalFlag('dashboard_v2', false)
  t.strictSame(await flagpost.listCustomersWithFeature('dashboard_v2'), ['3'])
  t.match(await flagpost.disableFeature('dashboard_v2'), { enabled: false })
  t.strictSame(await flagpost.listCustomersWithFeature('dashboard_v2'), [])
  t.match(flagpost.evaluate('dashboard_v2', { customerId: 3 }), { value: false, reason: 'DISABLED' })
  await flagpost.enableFeature('dashboard_v2')
  t.strictSame(await flagpost.listCustomersWithFeature('dashboard_v2'), ['3'])

  // Clearing a switch, removing subjects, removing the feature.
  await flagpost.clearFlag('dashboard_v2', { customerId: 1 })
  t.strictSame(await flagpost.listCustomersWithFeatureExplicitlyDisabled('dashboard_v2'), [])
  await flagpost.removeCustomer(3)
  t.strictSame(await flagpost.listCustomersWithFeatureExplicitlyEnabled('dashboard_v2'), [], 'a removed customer takes its switches along')
  await flagpost.removeUser(10)
  t.match(flagpost.evaluate('dashboard_v2', { userId: 10 }), { value: false, rule: 'fallthrough' }, "a removed user's switch is gone")
  await flagpost.removeFeature('dashboard_v2')
  t.throws(() => flagpost.evaluate('dashboard_v2', {}), { code: 'FLAGPOST_ERR_FLAG_NOT_FOUND' })
  t.strictSame(await flagpost.listFeaturesForCustomer(2), [])

  await flagpost.close()
  await flagpost.close()
  await t.rejects(flagpost.addFeature('after_close'), /closed/, 'a closed instance refuses work')
})

t.test('typed features: values, variants and the default-enabled switch', async (t) => {
  const flagpost = await open(t, (await testDatabase(t)).url)
  const color = await flagpost.addFeature('checkout_button_color', { type: 'string', defaultValue: 'green', offValue: 'blue', defaultEnabled: true, description: 'CTA color' })
  t.match(color, { type: 'string', default_value: 'green', off_value: 'blue', description: 'CTA color' })
  t.equal(color.targeting_rules.percentage, 100)
  t.match(flagpost.evaluate('checkout_button_color', { userId: 'bob' }), { value: 'green', variant: 'on', reason: 'STATIC' })
  await flagpost.setFlag('checkout_button_color', { userId: 'bob' }, true, 'off')
  t.match(flagpost.evaluate('checkout_button_color', { userId: 'bob' }), { value: 'blue', variant: 'off', rule: 'user_override' }, 'an explicit variant')
  t.equal(flagpost.isEnabled('checkout_button_color', { userId: 'bob' }), false, 'the off variant is "not enabled"')
  t.match(await flagpost.addFeature('max_cart_items', { type: 'number', defaultValue: '25' }), { default_value: 25 }, 'coerced like the original')
  t.match(await flagpost.getFeature('max_cart_items'), { name: 'max_cart_items', type: 'number' })
})

t.test('errors: a Flagpost code, nothing written', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost = await open(t, url)
  await flagpost.addFeature('existing')
  await flagpost.addCustomer('acme')
  const before = await revisionOf(url)

  await rejectsWith(t, flagpost.setGlobalFlag('missing', true), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'setGlobalFlag on an unknown feature')
  await rejectsWith(t, flagpost.setFlag('missing', { customerId: 'newco' }, true), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'setFlag on an unknown feature')
  await rejectsWith(t, flagpost.listFeaturesForCustomer('newco'), 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND', '…and it did not register the customer')
  await rejectsWith(t, flagpost.renameFeature('missing', 'other'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'renameFeature on an unknown feature')
  await rejectsWith(t, flagpost.removeFeature('missing'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'removeFeature on an unknown feature')
  await rejectsWith(t, flagpost.enableFeature('missing'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'enableFeature on an unknown feature')
  await rejectsWith(t, flagpost.listCustomersWithFeature('missing'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'listCustomersWithFeature on an unknown feature')
  await rejectsWith(t, flagpost.listCustomersWithFeatureExplicitlyEnabled('missing'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'explicitly enabled, unknown feature')
  await rejectsWith(t, flagpost.listCustomersWithFeatureExplicitlyDisabled('missing'), 'FLAGPOST_ERR_FLAG_NOT_FOUND', 'explicitly disabled, unknown feature')
  await rejectsWith(t, flagpost.addFeature('existing'), 'FLAGPOST_ERR_FLAG_EXISTS', 'addFeature twice')
  await rejectsWith(t, flagpost.addFeature('not a name!'), 'FLAGPOST_ERR_VALIDATION', 'addFeature with a bad name')
  await rejectsWith(t, flagpost.addFeature('cart', { type: 'number', defaultValue: 'lots' }), 'FLAGPOST_ERR_VALIDATION', 'a value not of the type')
  await rejectsWith(t, flagpost.renameFeature('existing', 'no spaces allowed'), 'FLAGPOST_ERR_VALIDATION', 'renameFeature to a bad name')
  await rejectsWith(t, flagpost.addCustomer('acme'), 'FLAGPOST_ERR_CUSTOMER_EXISTS', 'addCustomer twice')
  await rejectsWith(t, flagpost.addCustomer('a/b'), 'FLAGPOST_ERR_VALIDATION', 'an id that is not URL-safe')
  await rejectsWith(t, flagpost.addCustomer(-1), 'FLAGPOST_ERR_VALIDATION', 'a negative integer id')
  await rejectsWith(t, flagpost.removeCustomer('nobody'), 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND', 'removeCustomer of an unknown customer')
  await rejectsWith(t, flagpost.removeUser('nobody'), 'FLAGPOST_ERR_USER_NOT_FOUND', 'removeUser of an unknown user')
  await rejectsWith(t, flagpost.setFlag('existing', {} as never, true), 'FLAGPOST_ERR_VALIDATION', 'setFlag without a subject')
  await rejectsWith(t, flagpost.setFlag('existing', { customerId: 'acme' }, true, 'purple'), 'FLAGPOST_ERR_VALIDATION', 'a variant the feature does not have')
  await rejectsWith(t, flagpost.clearFlag('existing', { customerId: 'acme' }), 'FLAGPOST_ERR_OVERRIDE_NOT_FOUND', 'clearFlag without a switch')
  t.throws(() => flagpost.evaluate('missing', { userId: 'alice' }), { code: 'FLAGPOST_ERR_FLAG_NOT_FOUND', statusCode: 404 })

  t.equal(await revisionOf(url), before, 'no failed call wrote anything')
  t.strictSame(await flagpost.listCustomersWithFeature('existing'), [], 'and the state is unchanged')
})

t.test('configuration errors are ConfigErrors', async (t) => {
  await t.rejects(createFlagpost({ databaseUrl: 'mysql://db/flags' }), ConfigError)
  await t.rejects(createFlagpost({ databaseUrl: ':memory:', redisUrl: 'http://not-redis' }), ConfigError)
  await t.rejects(createFlagpost({ databaseUrl: ':memory:', cacheRefreshMs: 1 }), ConfigError)
})

t.test('two instances on one database see each other\'s writes (as another process would)', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const a = await open(t, url, { cacheRefreshMs: 50 })
  await a.addFeature('shared', { defaultEnabled: true })
  await a.setFlag('shared', { customerId: 'acme' }, false)

  const b = await open(t, url, { cacheRefreshMs: 50 })
  t.equal(b.isEnabled('shared', { customerId: 'acme' }), false, 'a new instance loads what is there')
  t.strictSame(await b.listCustomersWithFeatureExplicitlyDisabled('shared'), ['acme'])

  // B writes; A catches up through its own poll, without being told.
  await b.setFlag('shared', { customerId: 'acme' }, true)
  await b.addFeature('from_b')
  const has = (name: string): boolean => { try { a.evaluate(name); return true } catch { return false } }
  let seen = false
  for (let i = 0; i < 100 && !seen; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    seen = a.isEnabled('shared', { customerId: 'acme' }) && has('from_b')
  }
  t.ok(seen, 'A sees B\'s override and new feature through its poll')
  t.strictSame(await a.listCustomersWithFeatureExplicitlyEnabled('shared'), ['acme'])

  // refresh() catches up at once.
  await a.renameFeature('from_b', 'from_a')
  await b.refresh()
  t.match(b.evaluate('from_a'), { name: 'from_a' })
})

t.test('the queries walk every page (1000 ids a page)', async (t) => {
  const flagpost = await open(t, (await testDatabase(t)).url)
  await flagpost.addFeature('big', { defaultEnabled: true })
  const ids = Array.from({ length: 1002 }, (_, i) => `c${String(i).padStart(4, '0')}`)
  for (const id of ids) await flagpost.addCustomer(id)
  t.strictSame(await flagpost.listCustomersWithFeature('big'), ids, 'every customer, in id order, none twice')
  for (const id of ids.slice(0, 1001)) await flagpost.setFlag('big', { customerId: id }, false)
  t.strictSame(await flagpost.listCustomersWithFeatureExplicitlyDisabled('big'), ids.slice(0, 1001))
  t.strictSame(await flagpost.listCustomersWithFeature('big'), ids.slice(1001))
})

t.test('close() leaves no handles: the database is closed, the poll stops', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const handles = trackHandles(db)
  const url = handles?.url ?? db.url
  // The snapshot reports each catch-up to the logger: polls show up as calls nobody on this instance asked for.
  const calls: string[] = []
  const logger = { debug: (_: object, msg: string) => { calls.push(msg) }, warn: (_: object, msg: string) => { calls.push(`warn: ${msg}`) } }
  const flagpost = await createFlagpost({ databaseUrl: url, cacheRefreshMs: 50, logger })
  const other = await open(t, url)
  await other.addFeature('from_other')
  for (let i = 0; i < 100 && calls.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.strictSame(calls, ['snapshot caught up'], 'the poll picked up the other instance\'s write')
  if (handles !== null) t.ok(await handles.count() > 0, 'the database is open while in use')

  await flagpost.close()
  calls.length = 0
  await other.addFeature('after_close')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.strictSame(calls, [], 'no poll after close() (a live timer would have caught up, or warned on the closed database)')
  await other.close()
  if (handles !== null) t.equal(await handles.count({ settled: true }), 0, 'nothing of the database is open after close()')
})

// The published entry points (package.json `exports`), as a user's `import … from 'flagpost'` resolves them:
// npm test builds dist/ first.
t.test('package exports: flagpost and flagpost/client resolve to the build', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { types: string, default: string }> }
  for (const entry of ['.', './client']) {
    t.ok(readFileSync(new URL(`../${pkg.exports[entry].types}`, import.meta.url), 'utf8').length > 0, `${entry}: ${pkg.exports[entry].types} is built`)
  }
  const lib: string = 'flagpost'
  const client: string = 'flagpost/client'
  const main = await import(lib) as Record<string, unknown>
  t.type(main.createFlagpost, 'function')
  t.type(main.isFlagpostError, 'function')
  t.type((await import(client) as Record<string, unknown>).createFlagpostClient, 'function')
})

t.test('the README "Library" example runs as written', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Library'))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined) throw new Error('README has no ts block under "## Library"')
  t.match(block, /from 'flagpost'/)
  // Only the import differs: a file outside this package imports the build by path. It runs in a fresh
  // folder, so the default database (./data/flagpost.db) is created there.
  const dir = tempDir(t)
  const entry = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href
  writeFileSync(join(dir, 'example.mjs'), block.replaceAll("from 'flagpost'", `from '${entry}'`))
  const { stdout } = await promisify(execFile)(...untraced(process.execPath, ['example.mjs']), { cwd: dir, env: { PATH: process.env.PATH ?? '' } })
  const shown = [...block.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim())
  t.ok(shown.length >= 4, 'the example shows its output')
  t.strictSame(stdout.trim().split('\n'), shown, 'prints exactly what the README shows')
  t.ok(readdirSync(join(dir, 'data')).includes('flagpost.db'), 'the default database file')
})
