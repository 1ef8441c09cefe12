import t from 'tap'
import type { Container } from '../../src/container.js'
import { SECRET_PATTERN } from '../../src/services/api-key-service.js'
import { json, refused, run, workspace } from './support.js'

interface EnvironmentJson { key: string, name: string, position: number, created_at: string }
interface EnvironmentListJson { environments: EnvironmentJson[], next_cursor: null, default_environment: string }
interface KeyJson { id: string, name: string, role: string, environments: string[], prefix: string, created_at: string, expires_at: string | null, last_used_at: string | null, secret?: string }

const write = { actor: 'test' }

/** The value a container reads for a flag, after catching up with what the CLI wrote. */
async function served (c: Container, environment: string, name: string, userId: string): Promise<unknown> {
  await c.snapshot.catchUp()
  return c.services.flags.evaluate(environment, name, { user_id: userId }).value
}

t.test('list-environments, add-environment and remove-environment', async (t) => {
  const ws = await workspace(t)
  let res = ws.flagpost('list-environments')
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /^KEY +NAME +DEFAULT\ndevelopment +\S.*\nproduction +\S.* +yes\n$/, 'a fresh database: development and production, production the default')

  const before = await ws.revision()
  res = ws.flagpost('add-environment', 'staging', '--name', 'Staging')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'environment staging added (Staging); its flags are served off there until switched on\n')
  t.match(await ws.changes(before), [{ actor: /^cli/, action: 'environment.create' }], 'written with the CLI actor')
  const qa = json<EnvironmentJson>(ws.flagpost('add-environment', 'qa', '--json'))
  t.match(qa, { key: 'qa', name: 'qa', position: Number, created_at: String })
  t.same(Object.keys(qa).sort(), ['created_at', 'key', 'name', 'position'], 'the shape of GET /environments/{env}')
  const listed = json<EnvironmentListJson>(ws.flagpost('list-environments', '--json'))
  t.match(listed, { next_cursor: null, default_environment: 'production' }, 'the shape of GET /environments')
  t.same(listed.environments.map((e) => e.key), ['development', 'production', 'staging', 'qa'])
  t.match(listed.environments[2], { key: 'staging', name: 'Staging' })

  const c = await ws.container()
  await c.services.flags.create('production', { name: 'dashboard' }, write)
  await refused(t, ws, [
    [1, ['add-environment', 'staging'], /Environment "staging" already exists/],
    [1, ['add-environment', 'Bad'], /invalid environment key "Bad": must be 1 to 32 characters/],
    [1, ['add-environment', 'x', '--name', '   '], /--name: must be 1 to 64 characters/],
    [2, ['add-environment'], /missing KEY/],
    // An environment where flags are configured goes only with --force; the default one never.
    [1, ['remove-environment', 'staging'], /Environment "staging" configures 1 flag; delete it with --force /],
    [1, ['remove-environment', 'production', '--force'], /Environment "production" is the default environment/],
    [1, ['remove-environment', 'nope'], /Environment "nope" does not exist/],
    [2, ['remove-environment', 'staging', '-e', 'production'], /--environment does not apply: this command does not address one environment/]
  ])
  t.same(json(ws.flagpost('remove-environment', 'staging', '--force', '--json')), { key: 'staging', removed: true })
  res = ws.flagpost('remove-environment', 'qa', '--force')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'environment qa removed\n')
  t.same((await c.services.environments.list()).map((e) => e.key), ['development', 'production'])
})

t.test('--environment addresses one environment on the flag, override and query commands', async (t) => {
  const ws = await workspace(t)
  const c = await ws.container()
  let res = ws.flagpost('add-feature', 'dashboard', '--default-enabled', '--environment', 'development')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'feature dashboard added (enabled for everyone)\n', 'the same output as without --environment')
  t.equal((await c.services.flags.get('development', 'dashboard')).enabled, true, 'configured as given where it was created')
  t.equal((await c.services.flags.get('production', 'dashboard')).enabled, false, 'served off in the default environment')
  const value = (...args: string[]) => json<{ value: unknown }>(ws.flagpost('evaluate', 'dashboard', '--user-id', 'alice', '--json', ...args)).value
  t.equal(value('-e', 'development'), true)
  t.equal(value(), false, 'without --environment: the default environment')

  // Writes in one environment leave the other as it was.
  t.equal(ws.flagpost('enable', 'dashboard', '--environment=production').status, 0)
  t.equal(ws.flagpost('set-global', 'dashboard', '--disabled', '-e', 'development').status, 0)
  t.equal(await served(c, 'development', 'dashboard', 'alice'), false)
  t.equal(await served(c, 'production', 'dashboard', 'alice'), true, 'production: enabled again, falling through at 100 % as a flag created elsewhere does')
  res = ws.flagpost('set-flag', 'dashboard', '--customer-id', '7', '--enabled', '-e', 'development')
  t.equal(res.status, 0, res.stderr)
  t.equal(ws.flagpost('list-customers-enabled', 'dashboard', '-e', 'development').stdout, 'ID  NAME\n7   -\n')
  t.equal(ws.flagpost('list-customers-enabled', 'dashboard').stdout, 'no customers have an override enabling dashboard\n', 'no override in production')
  t.match(json(ws.flagpost('list-features', '7', '-e', 'development', '--json')), { flags: [{ name: 'dashboard', value: true, rule: 'customer_override' }] })
  // Before the command name as well.
  t.match(json(run(['-e', 'development', 'list-customers', 'dashboard', '--json'], { DATABASE_URL: ws.url })), { customers: [{ id: '7' }] })
  t.match(json(run(['--environment=development', 'list-flags', '--json'], { DATABASE_URL: ws.url })), { flags: [{ name: 'dashboard', targeting_rules: { percentage: 0 } }] })
  t.equal(ws.flagpost('clear-flag', 'dashboard', '--customer-id', '7', '-e', 'development').status, 0)
  t.same((await c.services.subjects.listOverrides('development', 'dashboard', {})).items, [])
  t.match(json(ws.flagpost('rename-feature', 'dashboard', 'board', '-e', 'development', '--json')), { name: 'board', enabled: true, targeting_rules: { percentage: 0 } })
  t.equal((await c.services.flags.get('production', 'board')).enabled, true, 'renamed in every environment')

  // Refused before anything is written: an unknown environment exits 1, a malformed key or misuse exits 2.
  await refused(t, ws, [
    [1, ['set-global', 'board', '--enabled', '-e', 'staging'], /Environment "staging" does not exist\n$/],
    [1, ['add-feature', 'other', '--environment', 'staging'], /Environment "staging" does not exist/],
    [1, ['list-features', '7', '-e', 'staging'], /Environment "staging" does not exist/],
    [2, ['set-flag', 'board', '--user-id', 'bob', '--enabled', '-e', 'Prod'], /--environment "Prod": must be 1 to 32 characters: lower-case letters/],
    [2, ['remove-feature', 'board', '--environment', 'a'.repeat(33)], /--environment "a{33}": must be/],
    [2, ['list-flags', '-e'], /Option '-e, --environment <value>' argument missing/],
    [2, ['add-customer', '1', '--environment', 'development'], /--environment does not apply/]
  ])
  t.match(json(ws.flagpost('remove-feature', 'board', '-e', 'production', '--json')), { name: 'board', removed: true })
  t.same((await c.services.flags.list('development', {})).items, [], 'removed in every environment')

  // The option is in the help of every command that takes it, and in the global help.
  t.match(run(['evaluate', '--help']).stdout, /\n {2}-e, --environment ENV +the environment to address/)
  t.notMatch(run(['add-customer', '--help']).stdout, /--environment/)
  t.match(run(['--help']).stdout, /\n {2}-e, --environment ENV +the environment a flag, override or query command addresses/)
})

t.test('promote', async (t) => {
  const ws = await workspace(t)
  const c = await ws.container()
  await c.services.flags.create('production', { name: 'dashboard', targetingRules: { percentage: 0 } }, write)
  await c.services.flags.create('production', { name: 'other' }, write)
  await c.services.environments.create({ key: 'staging' }, write)
  // In staging: on for everyone but bob; "other" is served off there, as in every new environment.
  await c.services.flags.update('staging', 'dashboard', { enabled: true, targetingRules: { percentage: 100 } }, write)
  await c.services.subjects.setOverride('staging', 'dashboard', 'user', 'bob', { enabled: false }, write)

  let before = await ws.revision()
  let res = ws.flagpost('promote', '--from', 'staging', '--to', 'production', '--flag', 'dashboard', '--dry-run')
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /^dry run: promoting from staging to production would change 1 flag \(nothing was written\):\ndashboard\n {2}targeting_rules: \{.*"percentage":0.*\} → \{.*"percentage":100.*\}\n$/)
  t.match(json(ws.flagpost('promote', '--from', 'staging', '--to', 'production', '--include-overrides', '--dry-run', '--json')), {
    dry_run: true,
    flags: [
      { flag: 'dashboard', changes: { targeting_rules: { from: { percentage: 0 }, to: { percentage: 100 } } }, overrides: { added: 1, removed: 0, changed: 0 } },
      { flag: 'other', changes: { enabled: { from: true, to: false } }, overrides: { added: 0, removed: 0, changed: 0 } }
    ]
  }, 'every flag without --flag')
  t.equal(await ws.revision(), before, 'a dry run writes nothing')

  res = ws.flagpost('promote', '--from', 'staging', '--to', 'production', '--flag', 'dashboard', '--include-overrides')
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /^promoted 1 flag from staging to production:\ndashboard\n {2}targeting_rules: .*\n {2}overrides: 1 added, 0 removed, 0 changed\n$/)
  t.match(await ws.changes(before), [{ actor: /^cli/, action: 'flag.promote' }], 'one change-log row, the CLI actor')
  t.equal(await served(c, 'production', 'dashboard', 'alice'), true, 'production serves what staging did')
  t.equal(await served(c, 'production', 'dashboard', 'bob'), false, 'with its override')
  t.equal(ws.flagpost('promote', '--from', 'staging', '--to', 'production', '--flag', 'dashboard').stdout, 'nothing to promote: production already matches staging\n')
  t.same(json(ws.flagpost('promote', '--from', 'staging', '--to', 'production', '--json')), { dry_run: false, flags: [{ flag: 'other', changes: { enabled: { from: true, to: false } } }] })
  t.equal(await served(c, 'production', 'other', 'alice'), false, 'other: served off in production now')

  before = await ws.revision()
  await refused(t, ws, [
    [2, ['promote', '--from', 'staging'], /--to ENV is required/],
    [2, ['promote', '--from', 'staging', '--to', 'staging'], /--from and --to must be different environments/],
    [2, ['promote', '--from', 'Staging', '--to', 'production'], /--from "Staging": must be 1 to 32 characters/],
    [2, ['promote', 'staging', 'production'], /unexpected argument "staging"/],
    [1, ['promote', '--from', 'nope', '--to', 'production'], /Environment "nope" does not exist/],
    [1, ['promote', '--from', 'staging', '--to', 'production', '--flag', 'missing'], /--flag: no such flag: missing/],
    [1, ['promote', '--from', 'staging', '--to', 'production', '--flag', 'bad name'], /invalid feature name "bad name"/]
  ])
})

t.test('add-key, list-keys and revoke-key', async (t) => {
  const ws = await workspace(t)
  let res = ws.flagpost('list-keys')
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, 'no keys\n')

  const before = await ws.revision()
  res = ws.flagpost('add-key', 'deploy-bot', '--role', 'editor', '--environment', 'development')
  t.equal(res.status, 0, res.stderr)
  const shown = /^key deploy-bot added \(id ([0-9a-f-]{36}), role editor, environments development\)\nsecret: (\S+)\nStore the secret now: it is shown only this once \(only its SHA-256 is stored\)\.\n$/.exec(res.stdout)
  t.ok(shown, 'the key, its secret and the warning that it is shown only now')
  const [, id, secret] = shown ?? []
  t.match(secret, SECRET_PATTERN)
  t.match(await ws.changes(before), [{ actor: /^cli/, action: 'api_key.create' }])

  const created = json<KeyJson>(ws.flagpost('add-key', 'ci', '--role', 'client', '-e', 'production', '--expires-at', '2099-01-31T12:00:00Z', '--json'))
  t.match(created, { id: String, name: 'ci', role: 'client', environments: ['production'], prefix: /^fp_client_/, created_at: String, expires_at: '2099-01-31T12:00:00.000Z', last_used_at: null, secret: SECRET_PATTERN })
  t.ok(created.secret!.startsWith(created.prefix), 'the prefix is the start of the secret')

  // The secrets work; only their digests are stored.
  const c = await ws.container()
  t.match(c.services.apiKeys.authenticate(secret), { actor: 'deploy-bot', role: 'editor', environments: ['development'] })
  t.match(c.services.apiKeys.authenticate(created.secret!), { actor: 'ci', role: 'client', environments: ['production'] })
  await c.services.apiKeys.create({ name: 'ops', role: 'admin' }, write)

  res = ws.flagpost('list-keys')
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /^ID +NAME +ROLE +ENVIRONMENTS +PREFIX +CREATED +LAST USED +EXPIRES\n/)
  t.match(res.stdout, new RegExp(`\\n${id} +deploy-bot +editor +development +fp_editor_\\S+… +\\S+ +- +-\\n`))
  t.match(res.stdout, /\n\S+ +ops +admin +all /)
  const listedJson = ws.flagpost('list-keys', '--json')
  const listed = json<{ api_keys: KeyJson[], next_cursor: null }>(listedJson)
  t.same(listed.api_keys.map((k) => k.name).sort(), ['ci', 'deploy-bot', 'ops'])
  t.same(Object.keys(listed.api_keys[0]).sort(), ['created_at', 'environments', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'role'])
  for (const out of [res.stdout, listedJson.stdout]) t.notOk(out.includes(secret) || out.includes(created.secret!), 'list-keys shows no secret')

  await refused(t, ws, [
    [2, ['add-key', 'x'], /--role is required: one of admin, editor, viewer, client/],
    [2, ['add-key', 'x', '--role', 'root'], /--role must be one of admin, editor, viewer, client, got "root"/],
    [2, ['add-key', 'x', '--role', 'viewer', '-e', 'Prod'], /--environment "Prod": must be 1 to 32 characters/],
    [2, ['add-key', 'x', '--role', 'viewer', '--expires-at', 'tomorrow'], /--expires-at "tomorrow": expected an ISO 8601 date/],
    [1, ['add-key', 'x', '--role', 'viewer', '--expires-at', '2001-01-01'], /--expires-at: must be a time in the future/],
    [1, ['add-key', 'x', '--role', 'client'], /--environment: must name exactly one environment for a client key/],
    [1, ['add-key', 'x', '--role', 'admin', '-e', 'production'], /--environment: must be empty for an admin key/],
    [1, ['add-key', 'x', '--role', 'viewer', '-e', 'staging'], /Environment "staging" does not exist/],
    [1, ['add-key', 'deploy-bot', '--role', 'viewer'], /An API key named "deploy-bot" already exists/],
    [1, ['add-key', 'bad/name', '--role', 'viewer'], /invalid key name "bad\/name": must be 1 to 64 characters/],
    [2, ['revoke-key'], /missing ID/],
    [1, ['revoke-key', 'no-such-id'], /API key "no-such-id" does not exist/]
  ])

  res = ws.flagpost('revoke-key', id)
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, `key ${id} revoked\n`)
  t.same(json(ws.flagpost('revoke-key', created.id, '--json')), { id: created.id, revoked: true })
  t.same((await c.services.apiKeys.list()).map((k) => k.name), ['ops'])
  const fresh = await ws.container()
  t.equal(fresh.services.apiKeys.authenticate(secret), null, 'a revoked key no longer authenticates')
})
