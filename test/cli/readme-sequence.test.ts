import t from 'tap'
import { json, workspace, type CustomerListJson } from './support.js'

// The original tool's README, with `flagpost` in place of `python cli.py`, exactly as the issue quotes it.
const README = `
flagpost add-feature dashboard --default-enabled
flagpost add-customer 101
flagpost set-flag dashboard --customer-id 101 --enabled
flagpost list-features 101
flagpost list-customers dashboard
flagpost list-customers-enabled dashboard
flagpost list-customers-disabled dashboard
`
const lines = README.trim().split('\n')

// What a person sees, command by command.
const EXPECTED = [
  'feature dashboard added (enabled for everyone)\n',
  'customer 101 added\n',
  'feature dashboard enabled for customer 101\n',
  'NAME       VALUE  VARIANT  REASON           RULE\n' +
  'dashboard  true   on       TARGETING_MATCH  customer_override\n',
  'ID   NAME\n' +
  '101  -\n',
  'ID   NAME\n' +
  '101  -\n',
  'no customers have an override disabling dashboard\n'
]

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

t.test('the original README sequence runs as written and prints the expected tables', async (t) => {
  const ws = await workspace(t)
  for (const [i, line] of lines.entries()) {
    const [program, ...args] = line.split(' ')
    t.equal(program, 'flagpost')
    const res = ws.flagpost(...args)
    t.equal(res.status, 0, `${line}: ${res.stderr}`)
    t.equal(res.stderr, '', line)
    t.equal(res.stdout, EXPECTED[i], line)
  }

  t.test('the same queries with --json print the API shapes', async (t) => {
    const features = json(ws.flagpost('list-features', '101', '--json'))
    t.same(features, {
      flags: [{ name: 'dashboard', value: true, variant: 'on', reason: 'TARGETING_MATCH', type: 'boolean', version: 1, rule: 'customer_override', metadata: {} }]
    }, 'as GET /customers/101/flags')

    for (const command of ['list-customers', 'list-customers-enabled']) {
      const body = json<CustomerListJson>(ws.flagpost(command, 'dashboard', '--json'))
      t.same(Object.keys(body).sort(), ['customers', 'next_cursor'], command)
      t.equal(body.next_cursor, null, `${command}: every page was read`)
      t.equal(body.customers.length, 1, command)
      t.same({ ...body.customers[0], created_at: 'x' }, { id: '101', name: null, created_at: 'x' }, command)
      t.match(body.customers[0].created_at, ISO)
    }
    t.same(json(ws.flagpost('list-customers-disabled', 'dashboard', '--json')), { customers: [], next_cursor: null })
  })

  t.test('the writes of the sequence with --json print what the API would answer', async (t) => {
    const other = await workspace(t)
    const flag = json<{ created_at: string }>(other.flagpost('add-feature', 'dashboard', '--default-enabled', '--json'))
    t.match(flag, {
      name: 'dashboard',
      type: 'boolean',
      enabled: true,
      default_value: true,
      off_value: false,
      variants: { on: true, off: false },
      default_variant: 'on',
      off_variant: 'off',
      targeting_rules: { percentage: 100, user_ids: [], customer_ids: [], rules: [], rollout: null },
      version: 1
    })
    t.match(flag.created_at, ISO)
    const customer = json<object>(other.flagpost('add-customer', '101', '--json'))
    t.same(Object.keys(customer).sort(), ['created_at', 'id', 'name'])
    t.match(customer, { id: '101', name: null })
    const override = json<object>(other.flagpost('set-flag', 'dashboard', '--customer-id', '101', '--enabled', '--json'))
    t.same(Object.keys(override).sort(), ['enabled', 'flag', 'id', 'subject', 'updated_at', 'variant'])
    t.match(override, { flag: 'dashboard', subject: 'customer', id: '101', enabled: true, variant: null })
  })
})
