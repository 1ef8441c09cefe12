import t from 'tap'
import { domainError, json, usageError, workspace } from './support.js'

t.test('add-feature', async (t) => {
  const ws = await workspace(t)
  let res = ws.flagpost('add-feature', 'dashboard')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'feature dashboard added (disabled for everyone)\n')

  res = ws.flagpost('add-feature', 'color', '--type', 'string', '--default-value', 'blue', '--default-enabled', '--description', 'Button colour', '--json')
  t.equal(res.status, 0, res.stderr)
  t.match(json(res), {
    name: 'color',
    type: 'string',
    description: 'Button colour',
    enabled: true,
    default_value: 'blue',
    off_value: '',
    targeting_rules: { percentage: 100 },
    version: 1
  })
  res = ws.flagpost('add-feature', 'cart_limit', '--type', 'number', '--default-value', '25')
  t.equal(res.stdout, 'feature cart_limit added (number; serves 0 to everyone)\n', 'a typed flag says what it serves')
  res = ws.flagpost('add-feature', 'pricing', '--type', 'json', '--default-value', '{"currency":"EUR"}', '--default-enabled')
  t.equal(res.stdout, 'feature pricing added (json; serves {"currency":"EUR"} to everyone)\n')

  const c = await ws.container()
  // The CLI writes to the default environment.
  const env = c.config.defaultEnvironment
  const dashboard = await c.services.flags.get(env, 'dashboard')
  t.equal(dashboard.type, 'boolean')
  t.equal(dashboard.targetingRules.percentage, 0, 'without --default-enabled: 0 %')
  t.equal(c.services.flags.evaluate(env, 'dashboard', { user_id: 'anyone' }).value, false)
  t.equal(c.services.flags.evaluate(env, 'color', { user_id: 'anyone' }).value, 'blue')
  t.equal((await c.services.flags.get(env, 'cart_limit')).variants.on, 25, '"25" is coerced to a number')
  t.same(c.services.flags.evaluate(env, 'pricing', {}).value, { currency: 'EUR' })

  await domainError(t, ws, ['add-feature', 'dashboard'], /Flag "dashboard" already exists/)
  await domainError(t, ws, ['add-feature', 'my flag'], /invalid feature name "my flag"/)
  await domainError(t, ws, ['add-feature', '--', '-x'], /invalid feature name "-x"/)
  await usageError(t, ws, ['add-feature', '-x'], /Unknown option '-x'/)
  await domainError(t, ws, ['add-feature', 'n', '--type', 'number', '--default-value', 'abc'], /--default-value: must be a finite number or a numeric string\n$/)
  await domainError(t, ws, ['add-feature', 'b', '--default-value', 'maybe'], /--default-value: must be a boolean/)
  await domainError(t, ws, ['add-feature', 'd', '--description', 'x'.repeat(1001)], /--description: at most 1000 characters/)
  await usageError(t, ws, ['add-feature', 'n', '--type', 'float'], /--type must be one of boolean, string, number, json, got "float"/)
  await usageError(t, ws, ['add-feature', 'n', '--type', 'string'], /--type string needs --default-value/)
  await usageError(t, ws, ['add-feature'], /missing NAME/)
})

t.test('remove-feature and rename-feature', async (t) => {
  const ws = await workspace(t)
  ws.flagpost('add-feature', 'dashboard', '--default-enabled')
  ws.flagpost('add-feature', 'other')
  ws.flagpost('set-flag', 'dashboard', '--customer-id', '101', '--disabled')

  let res = ws.flagpost('rename-feature', 'dashboard', 'board')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'feature dashboard renamed to board\n')
  t.equal(ws.flagpost('list-customers-disabled', 'board').stdout, 'ID   NAME\n101  -\n', 'the override followed the rename')
  await domainError(t, ws, ['rename-feature', 'dashboard', 'x'], /Flag "dashboard" does not exist/)
  await domainError(t, ws, ['rename-feature', 'board', 'other'], /Flag "other" already exists/)
  await domainError(t, ws, ['rename-feature', 'board', 'has space'], /invalid feature name "has space"/)
  await usageError(t, ws, ['rename-feature', 'board'], /missing NEW/)
  t.match(json(ws.flagpost('rename-feature', 'board', 'dash', '--json')), { name: 'dash', version: 3 })

  res = ws.flagpost('remove-feature', 'dash')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'feature dash removed\n')
  t.same(json(ws.flagpost('remove-feature', 'other', '--json')), { name: 'other', removed: true })
  await domainError(t, ws, ['remove-feature', 'dash'], /Flag "dash" does not exist/)
  t.equal(ws.flagpost('list-flags').stdout, 'no features\n')
})

t.test('set-global, enable and disable', async (t) => {
  const ws = await workspace(t)
  ws.flagpost('add-feature', 'dashboard')
  ws.flagpost('set-flag', 'dashboard', '--user-id', 'bob', '--disabled')
  const evaluate = (user: string) => json(ws.flagpost('evaluate', 'dashboard', '--user-id', user, '--json'))

  let res = ws.flagpost('set-global', 'dashboard', '--enabled')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'feature dashboard enabled for everyone (overrides still apply)\n')
  t.match(evaluate('alice'), { value: true, reason: 'DEFAULT' })
  t.match(evaluate('bob'), { value: false, reason: 'TARGETING_MATCH', rule: 'user_override' }, 'the override still wins')

  res = ws.flagpost('disable', 'dashboard')
  t.equal(res.stdout, 'feature dashboard disabled (kill switch: everyone gets false, overrides included)\n')
  t.match(evaluate('alice'), { value: false, reason: 'DISABLED' })
  res = ws.flagpost('set-global', 'dashboard', '--enabled', '--json')
  t.match(json(res), { enabled: false, targeting_rules: { percentage: 100 } }, 'an unchanged write keeps the version')
  t.equal(ws.flagpost('set-global', 'dashboard', '--enabled').stdout,
    'feature dashboard enabled for everyone (overrides still apply; the kill switch is on: run enable)\n')
  res = ws.flagpost('enable', 'dashboard', '--json')
  t.match(json(res), { name: 'dashboard', enabled: true })
  t.match(evaluate('alice'), { value: true })

  res = ws.flagpost('set-global', 'dashboard', '--disabled')
  t.equal(res.stdout, 'feature dashboard disabled for everyone (overrides still apply)\n')
  t.match(evaluate('alice'), { value: false, reason: 'DEFAULT' })
  t.equal(ws.flagpost('enable', 'dashboard').stdout, 'feature dashboard enabled (serving by its targeting)\n')

  await domainError(t, ws, ['set-global', 'nope', '--enabled'], /Flag "nope" does not exist/)
  await domainError(t, ws, ['enable', 'nope'], /Flag "nope" does not exist/)
  await domainError(t, ws, ['disable', 'nope'], /Flag "nope" does not exist/)
  await usageError(t, ws, ['set-global', 'dashboard'], /give exactly one of --enabled and --disabled/)
  await usageError(t, ws, ['set-global', 'dashboard', '--enabled', '--disabled'], /give exactly one of --enabled and --disabled/)
  await usageError(t, ws, ['enable'], /missing NAME/)
})
