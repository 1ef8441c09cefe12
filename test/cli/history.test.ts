import t from 'tap'
import type { Container } from '../../src/container.js'
import { toChangeBody, type ChangeBody } from '../../src/services/change-view.js'
import { everyItem } from '../../src/services/paging.js'
import { toFlagBody } from '../../src/services/flag-view.js'
import { domainError, json, refused, workspace, type Workspace } from './support.js'

// History (SPEC §11) on the command line: history, changes and revert, over the services the API uses.

interface ChangeListJson { changes: ChangeBody[], next_cursor: null }

const write = { actor: 'test' }
const CHANGE_FIELDS = ['action', 'actor', 'after', 'at', 'before', 'changed', 'environment', 'flag', 'revision']

/** The actions of a table's rows, top to bottom (the fourth column of `history`, `changes`). */
const actions = (stdout: string): string[] => stdout.trim().split('\n').slice(1).map((row) => row.split(/ {2,}/)[3])

/**
 * `checkout` written in production (once through the CLI, for its actor) and development, an override,
 * renamed to `checkout-v2`; then a new `checkout` (a namesake with a history of its own), a customer (a
 * global change) and an API key. Written through a container: each command line costs a process.
 */
async function withHistory (ws: Workspace): Promise<Container> {
  const c = await ws.container()
  await c.services.flags.create('production', { name: 'checkout', targetingRules: { percentage: 100 } }, write)
  const res = ws.flagpost('set-global', 'checkout', '--disabled')
  if (res.status !== 0) throw new Error(`set-global: ${res.stderr}`)
  await c.snapshot.catchUp()
  await c.services.flags.update('development', 'checkout', { enabled: true }, write)
  await c.services.subjects.setOverride('production', 'checkout', 'user', 'u1', { enabled: true }, write)
  await c.services.flags.rename('production', 'checkout', 'checkout-v2', write)
  await c.services.flags.create('production', { name: 'checkout' }, write)
  await c.services.subjects.addCustomer({ id: 'acme' }, write)
  await c.services.apiKeys.create({ name: 'ops', role: 'viewer', environments: [], expiresAt: null }, write)
  return c
}

t.test('history: a flag\'s changes in one environment, newest first, across a rename', async (t) => {
  const ws = await workspace(t)
  const c = await withHistory(ws)

  const res = ws.flagpost('history', 'checkout-v2')
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /^REVISION +AT +ACTOR +ACTION +CHANGED\n/)
  t.same(actions(res.stdout), ['flag.rename', 'override.set', 'flag.update', 'flag.create'], 'production only, from before the rename')
  t.match(res.stdout, /\n\d+ +\S+Z +cli:?\S* +flag\.update +targeting_rules\.percentage\n/, 'what changed, fields joined by ", "')
  t.match(res.stdout, /flag\.rename +name\n/)
  t.match(res.stdout, /override\.set +flag, subject, id, enabled, variant\n/)

  const printed = json<ChangeListJson>(ws.flagpost('history', 'checkout-v2', '--json'))
  t.same(Object.keys(printed).sort(), ['changes', 'next_cursor'], 'the shape of GET /flags/{name}/history')
  t.equal(printed.next_cursor, null, 'every page read')
  t.same(Object.keys(printed.changes[0]).sort(), CHANGE_FIELDS)
  const served = (await c.services.history.flagHistory('production', 'checkout-v2', {})).items.map(toChangeBody)
  t.same(printed.changes, served, 'each entry exactly as toChangeBody gives it')
  t.match(printed.changes[0], { action: 'flag.rename', flag: 'checkout-v2', environment: 'production', actor: 'test', before: { name: 'checkout' }, after: { name: 'checkout-v2' } })

  t.same(actions(ws.flagpost('history', 'checkout-v2', '-e', 'development').stdout), ['flag.update'], 'the environment option: its changes there')
  t.same(actions(ws.flagpost('-e', 'development', 'history', 'checkout-v2').stdout), ['flag.update'], 'the global option before the command')
  t.same(actions(ws.flagpost('history', 'checkout').stdout), ['flag.create'], 'the new flag of the old name has its own history')
  const limited = json<ChangeListJson>(ws.flagpost('history', 'checkout-v2', '--limit', '2', '--json'))
  t.same(limited.changes, served.slice(0, 2), '--limit: the newest')
  t.equal(limited.next_cursor, null)

  await refused(t, ws, [
    [1, ['history', 'nope'], /Flag "nope" does not exist/],
    [1, ['history', 'checkout-v2', '-e', 'nope'], /Environment "nope" does not exist/],
    [2, ['history'], /missing NAME/],
    [2, ['history', 'checkout-v2', '--limit', '0'], /--limit "0": must be a positive integer/],
    [2, ['history', 'checkout-v2', '--limit', '1e2'], /--limit "1e2": must be a positive integer/]
  ])
})

t.test('changes: the whole log, newest first, filtered', async (t) => {
  const ws = await workspace(t)
  const c = await withHistory(ws)
  const latest = await ws.revision()

  const all = json<ChangeListJson>(ws.flagpost('changes', '--json'))
  t.equal(all.next_cursor, null)
  t.same(all.changes.map((e) => e.revision), Array.from({ length: latest }, (_, i) => latest - i), 'every revision, newest first')
  t.same(all.changes, (await everyItem((page) => c.services.history.list({}, page, { apiKeys: true }))).map(toChangeBody), 'as toChangeBody gives each entry')
  t.ok(all.changes.some((e) => e.action === 'api_key.create'), 'key changes too: a local operator sees what an admin does')

  let res = ws.flagpost('changes')
  t.equal(res.status, 0, res.stderr)
  t.match(res.stdout, /^REVISION +AT +ACTOR +ACTION +ENVIRONMENT +FLAG +CHANGED\n/, 'the whole log says where and to which flag')
  t.match(res.stdout, /\n\d+ +\S+Z +test +customer\.add +- +- +id, name\n/, 'a global change: no environment, no flag')

  const only = (...args: string[]): number[] => {
    const out = ws.flagpost('changes', ...args, '--json')
    if (out.status !== 0) throw new Error(`changes ${args.join(' ')}: ${out.stderr}`)
    return json<ChangeListJson>(out).changes.map((e) => e.revision)
  }
  const where = (pick: (e: ChangeBody) => boolean): number[] => all.changes.filter(pick).map((e) => e.revision)
  t.same(only('--flag', 'checkout-v2'), where((e) => e.flag === 'checkout-v2'), '--flag')
  t.same(only('-e', 'development'), where((e) => e.environment === 'development'), '-e filters by environment')
  t.same(only('--actor', 'test', '--action', 'flag'), where((e) => e.actor === 'test' && e.action.startsWith('flag.')), '--actor; --action: a group')
  t.same(only('--action', 'flag.update', '--environment=production'), where((e) => e.action === 'flag.update' && e.environment === 'production'), '--action: one')
  t.same(only('--from-revision', '3', '--to-revision', '7', '--limit', '2'), where((e) => e.revision >= 3 && e.revision <= 7).slice(0, 2), 'a revision range; --limit: the newest')
  t.same(only('--since', new Date(Date.now() - 3_600_000).toISOString(), '--until', '2999-01-01T00:00:00+02:00'), where(() => true), '--since and --until')
  t.same(only('--until', '2000-01-01T00:00:00Z'), [], '--until: before it')
  t.same(only('-e', 'gone'), [], 'an environment that does not exist (now) is a filter like any other')
  t.same(json<ChangeListJson>(ws.flagpost('-e', 'development', 'changes', '--json')).changes.map((e) => e.revision), where((e) => e.environment === 'development'),
    'the global -e before the command filters too')
  res = ws.flagpost('changes', '--since', '2999-01-01T00:00:00+02:00')
  t.equal(res.stdout, 'no changes\n')

  await refused(t, ws, [
    [2, ['changes', '--action', 'FLAG'], /--action "FLAG": must be an action \(flag\.update\) or a group/],
    [2, ['changes', '--action', 'flag.update.x'], /--action "flag\.update\.x"/],
    [2, ['changes', '--from-revision', '0'], /--from-revision "0": must be a positive integer/],
    [2, ['changes', '--to-revision=-1'], /--to-revision "-1": must be a positive integer/],
    [2, ['changes', '--to-revision', '9007199254740993'], /--to-revision "9007199254740993": must be a positive integer/],
    [2, ['changes', '--since', 'yesterday'], /--since "yesterday": must be an RFC 3339 date-time/],
    [2, ['changes', '--since', '2026-01-31'], /--since "2026-01-31": must be an RFC 3339 date-time/],
    [2, ['changes', '--until', '2026-13-45T00:00:00Z'], /--until "2026-13-45T00:00:00Z": must be an RFC 3339 date-time/],
    [2, ['changes', '--actor='], /--actor "": must be 1 to 128 characters/],
    [2, ['changes', '--limit', 'all'], /--limit "all": must be a positive integer/],
    [2, ['changes', '-e', 'Prod'], /--environment "Prod": must be 1 to 32 characters/],
    [2, ['changes', 'checkout'], /unexpected argument "checkout"/],
    [1, ['changes', '--flag', 'bad name'], /invalid feature name "bad name"/]
  ])
})

t.test('revert: the flag served as it was at a revision, as a new recorded change', async (t) => {
  const ws = await workspace(t)
  const c = await ws.container()
  await c.services.flags.create('production', { name: 'banner', type: 'string', variants: { red: 'R', blue: 'B', green: 'G' }, defaultVariant: 'red', offVariant: 'blue' }, write)
  const good = await ws.revision()
  await c.services.flags.update('production', 'banner', { defaultVariant: 'green', targetingRules: { user_ids: ['vip'], percentage: 10 } }, write)
  t.equal(ws.flagpost('disable', 'banner').status, 0)
  t.equal(ws.flagpost('-e', 'development', 'enable', 'banner').status, 0)

  let before = await ws.revision()
  let res = ws.flagpost('revert', 'banner', String(good))
  t.equal(res.status, 0, res.stderr)
  t.equal(res.stdout, `banner reverted to revision ${good} in production (version 5)\n`)
  t.match(await ws.changes(before), [{ actor: /^cli/, action: 'flag.revert' }], 'one change-log row, the CLI actor')
  await c.snapshot.catchUp()
  t.equal(c.services.flags.evaluate('production', 'banner', { user_id: 'vip' }).value, 'R', 'served as at that revision')
  t.match(await c.services.flags.get('development', 'banner'), { enabled: true }, 'development untouched')

  // In another environment: never written there before `good`, so served off there, as every new flag is.
  res = ws.flagpost('revert', 'banner', String(good), '-e', 'development', '--json')
  t.equal(res.status, 0, res.stderr)
  const body = json<Record<string, unknown>>(res)
  t.same(body, toFlagBody(await c.services.flags.get('development', 'banner')), 'the shape of GET /flags/{name}')
  t.match(body, { name: 'banner', enabled: false, default_variant: 'red', version: 6 })

  // Reverting to the state it is in writes nothing.
  before = await ws.revision()
  res = ws.flagpost('revert', 'banner', String(good))
  t.equal(res.status, 0, res.stderr)
  t.equal(await ws.revision(), before, 'no new revision')

  await refused(t, ws, [
    [2, ['revert', 'banner', 'abc'], /REVISION "abc": must be a positive integer/],
    [2, ['revert', 'banner', '0'], /REVISION "0": must be a positive integer/],
    [2, ['revert', 'banner', '1.5'], /REVISION "1.5": must be a positive integer/],
    [2, ['revert', 'banner', '--', '-1'], /REVISION "-1": must be a positive integer/],
    [2, ['revert', 'banner'], /missing REVISION/],
    [1, ['revert', 'banner', String(before + 10)], new RegExp(`REVISION: is after the latest revision \\(${before}\\)`)],
    [1, ['revert', 'nope', '1'], /Flag "nope" does not exist/],
    [1, ['revert', 'banner', '1', '-e', 'nope'], /Environment "nope" does not exist/]
  ])
})

t.test('revert is refused (409: exit 1, its message) when the variants or type no longer allow it, or the flag did not exist then', async (t) => {
  const ws = await workspace(t)
  const c = await ws.container()
  await c.services.flags.create('production', { name: 'plan', type: 'string', variants: { basic: 'b', pro: 'p', plus: '+' }, defaultVariant: 'pro', offVariant: 'basic' }, write)
  const proDefault = await ws.revision()
  // Variants are shared by every environment: development stops serving `pro` too before it goes.
  await c.services.flags.update('production', 'plan', { defaultVariant: 'plus' }, write)
  await c.services.flags.update('development', 'plan', { defaultVariant: 'plus' }, write)
  await c.services.flags.update('production', 'plan', { variants: { pro: null } }, write)
  const res = await domainError(t, ws, ['revert', 'plan', String(proDefault), '--json'], /.*variants it has now \(basic, plus\)/)
  t.equal(res.stderr.split('\n').length, 2, 'one line, with --json too')

  const stringRevision = await ws.revision()
  await c.services.flags.update('production', 'plan', { type: 'number', variants: { basic: 1, plus: 2 } }, write)
  await domainError(t, ws, ['revert', 'plan', String(stringRevision)], /.*was a string flag .* is a number flag now/)

  await c.services.flags.remove('production', 'plan', write)
  await c.services.flags.create('production', { name: 'plan' }, write)
  await domainError(t, ws, ['revert', 'plan', String(proDefault)], /.*created at revision/)
})
