import t from 'tap'
import { domainError, json, usageError, workspace, type CustomerListJson, type FlagListJson } from './support.js'

t.test('list-features and the list-customers family', async (t) => {
  const ws = await workspace(t)
  ws.flagpost('add-feature', 'beta')
  ws.flagpost('add-feature', 'everyone', '--default-enabled')
  for (const id of ['a', 'b', 'c', 'd']) ws.flagpost('add-customer', id, ...(id === 'a' ? ['--name', 'Acme'] : []))
  ws.flagpost('set-flag', 'beta', '--customer-id', 'a', '--enabled')
  ws.flagpost('set-flag', 'beta', '--customer-id', 'b', '--disabled')
  ws.flagpost('set-flag', 'everyone', '--customer-id', 'b', '--disabled')
  const c = await ws.container()
  // The CLI reads and writes the default environment.
  await c.services.flags.update(c.config.defaultEnvironment, 'beta', { targetingRules: { customer_ids: ['c'] } }, { actor: 'test' })

  t.equal(ws.flagpost('list-customers', 'beta').stdout, 'ID  NAME\na   Acme\nc   -\n', 'effective: the override and the id list')
  t.equal(ws.flagpost('list-customers-enabled', 'beta').stdout, 'ID  NAME\na   Acme\n')
  t.equal(ws.flagpost('list-customers-disabled', 'beta').stdout, 'ID  NAME\nb   -\n')
  t.equal(ws.flagpost('list-customers', 'everyone').stdout, 'ID  NAME\na   Acme\nc   -\nd   -\n', 'everyone but the customer switched off')

  t.equal(ws.flagpost('list-features', 'a').stdout, [
    'NAME      VALUE  VARIANT  REASON           RULE',
    'beta      true   on       TARGETING_MATCH  customer_override',
    'everyone  true   on       DEFAULT          fallthrough',
    ''
  ].join('\n'))
  t.equal(ws.flagpost('list-features', 'c').stdout.split('\n')[1], 'beta      true   on       TARGETING_MATCH  customer_ids')
  t.equal(ws.flagpost('list-features', 'b').stdout, 'no features are enabled for customer b\n')
  t.same(json(ws.flagpost('list-features', 'b', '--json')), { flags: [] })
  t.same(json<CustomerListJson>(ws.flagpost('list-customers-disabled', 'everyone', '--json')).customers.map((x) => x.id), ['b'])

  ws.flagpost('disable', 'beta')
  t.equal(ws.flagpost('list-customers', 'beta').stdout, 'no customers have beta\n', 'the kill switch wins over overrides')
  t.equal(ws.flagpost('list-customers-enabled', 'beta').stdout, 'ID  NAME\na   Acme\n', 'explicit overrides are listed as set')

  await domainError(t, ws, ['list-features', 'zzz'], /Customer "zzz" does not exist/)
  for (const command of ['list-customers', 'list-customers-enabled', 'list-customers-disabled']) {
    await domainError(t, ws, [command, 'nope'], /Flag "nope" does not exist/)
    await usageError(t, ws, [command], /missing NAME/)
  }
  await usageError(t, ws, ['list-features'], /missing CUSTOMER_ID/)
})

t.test('lists walk every page', async (t) => {
  const ws = await workspace(t)
  t.equal(ws.flagpost('list-flags').stdout, 'no features\n')
  t.same(json(ws.flagpost('list-flags', '--json')), { flags: [], next_cursor: null })
  ws.flagpost('add-feature', 'dashboard', '--default-enabled', '--description', 'The new dashboard')
  ws.flagpost('add-feature', 'color', '--type', 'string', '--default-value', 'blue')
  ws.flagpost('disable', 'color')
  t.equal(ws.flagpost('list-flags').stdout, [
    'NAME       TYPE     ENABLED      FALLTHROUGH  DEFAULT  DESCRIPTION',
    'color      string   no (killed)  0%           "blue"   -',
    'dashboard  boolean  yes          100%         true     The new dashboard',
    ''
  ].join('\n'))

  // More than one page of the services (1000 a page): the CLI reads them all.
  const c = await ws.container()
  for (let i = 0; i < 1001; i++) {
    const id = String(i).padStart(4, '0')
    await c.services.flags.create(c.config.defaultEnvironment, { name: `bulk-${id}` }, { actor: 'test' })
    await c.services.subjects.addCustomer({ id: `cust-${id}` }, { actor: 'test' })
  }
  const flags = json<FlagListJson>(ws.flagpost('list-flags', '--json'))
  t.equal(flags.flags.length, 1003)
  t.equal(flags.next_cursor, null)
  t.equal(flags.flags[1002].name, 'dashboard', 'by name, to the last one')
  t.equal(ws.flagpost('list-flags').stdout.trimEnd().split('\n').length, 1004, 'the table has every flag too')

  const customers = json<CustomerListJson>(ws.flagpost('list-customers', 'dashboard', '--json')).customers
  t.equal(customers.length, 1001)
  t.equal(customers[1000].id, 'cust-1000')
})

t.test('evaluate', async (t) => {
  const ws = await workspace(t)
  ws.flagpost('add-feature', 'beta')
  ws.flagpost('set-flag', 'beta', '--customer-id', 'acme', '--enabled')
  ws.flagpost('add-user', 'alice', '--customer-id', 'acme')
  const c = await ws.container()
  await c.services.flags.update(c.config.defaultEnvironment, 'beta', {
    targetingRules: { rules: [{ id: 'eu', clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'FR'] }], serve: { variant: 'on' } }] }
  }, { actor: 'test' })

  const res = ws.flagpost('evaluate', 'beta')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'beta: false (variant off, reason DEFAULT, rule fallthrough)\n')
  t.equal(ws.flagpost('evaluate', 'beta', '--customer-id', 'acme').stdout, 'beta: true (variant on, reason TARGETING_MATCH, rule customer_override)\n')
  t.match(json(ws.flagpost('evaluate', 'beta', '--user-id', 'alice', '--json')),
    { name: 'beta', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', rule: 'customer_override', metadata: {} },
    'the customer of a registered user is inferred')
  t.match(json(ws.flagpost('evaluate', 'beta', '--user-id', 'bob', '--attr', 'country=DE', '--json')), { value: true, rule: 'rule:eu' })
  t.match(json(ws.flagpost('evaluate', 'beta', '--attr', 'country=US', '--attr', 'note=a=b', '--json')), { value: false })
  t.match(json(ws.flagpost('evaluate', 'beta', '--attr', 'customer_id=acme', '--json')), { value: true }, 'customer_id as an attribute')

  await domainError(t, ws, ['evaluate', 'nope'], /Flag "nope" does not exist/)
  await usageError(t, ws, ['evaluate', 'beta', '--attr', 'novalue'], /--attr "novalue": expected key=value/)
  await usageError(t, ws, ['evaluate', 'beta', '--attr', '=x'], /--attr "=x": the key must be 1 to 64 characters: letters, digits, "_", "." or "-", starting with a letter or "_"/)
  await usageError(t, ws, ['evaluate', 'beta', '--attr', 'k=1', '--attr', 'k=2'], /--attr k is given twice/)
  await usageError(t, ws, ['evaluate', 'beta', '--user-id', 'a', '--attr', 'user_id=b'], /give user_id once: --user-id or --attr user_id=…/)
  await usageError(t, ws, ['evaluate', 'beta', '--attr'], /Option '--attr <value>' argument missing/)
  await usageError(t, ws, ['evaluate'], /missing NAME/)
})
