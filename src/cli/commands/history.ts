import type { ChangeEntry } from '../../repositories/change-log-repository.js'
import { historyInputProblem, type HistoryInput } from '../../schemas/history-input.js'
import { ENVIRONMENT_KEY_RULE } from '../../schemas/names.js'
import { toChangeBody } from '../../services/change-view.js'
import type { ChangeFilter } from '../../services/history-service.js'
import { everyItem } from '../../services/paging.js'
import { toFlagBody } from '../../services/flag-view.js'
import { checkFlagName } from '../checks.js'
import { str, UsageError, type Command, type Values } from '../command.js'
import { emit, orDash, printLine, printTable } from '../output.js'
import { withSession } from '../session.js'

const LIMIT: [string, string] = ['--limit N', 'only the N newest (default: every one)']

/** A whole number as written in digits (`12`; not `1e1`, `0x0c` or ` 12`), else NaN. */
const digits = (raw: string): number => /^\d+$/.test(raw) ? Number(raw) : Number.NaN

/** An option checked by its rule of GET /changes (schemas/history-input.ts), or undefined when not given. */
function checked<T> (values: Values, option: string, field: HistoryInput, parse: (raw: string) => T): T | undefined {
  const raw = str(values, option)
  if (raw === undefined) return undefined
  const value = parse(raw)
  const problem = historyInputProblem(field, value)
  if (problem !== undefined) throw new UsageError(`--${option} ${JSON.stringify(raw)}: ${problem}`)
  return value
}

/** `--limit N`: a positive integer, or undefined for every entry. */
function limitOption (values: Values): number | undefined {
  const raw = str(values, 'limit')
  if (raw === undefined) return undefined
  const limit = digits(raw)
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`--limit ${JSON.stringify(raw)}: must be a positive integer`)
  return limit
}

/**
 * Entries as `--json` prints them (the shape of GET /changes, every page read) or as a table; the whole
 * log's table also says where each change was made and to which flag, as one flag's history need not.
 */
function show (json: boolean, entries: ChangeEntry[], where: boolean): void {
  const changes = entries.map(toChangeBody)
  emit(json, { changes, next_cursor: null }, () => {
    if (changes.length === 0) { printLine('no changes'); return }
    printTable(['REVISION', 'AT', 'ACTOR', 'ACTION', ...(where ? ['ENVIRONMENT', 'FLAG'] : []), 'CHANGED'], changes.map((c) => [
      String(c.revision), c.at, c.actor, c.action, ...(where ? [orDash(c.environment), orDash(c.flag)] : []), orDash(c.changed.join(', '))
    ]))
  })
}

const history: Command = {
  name: 'history',
  args: ['NAME'],
  synopsis: '[--limit N]',
  summary: 'a flag\'s changes in the environment, newest first (across renames; its overrides\' changes too)',
  optionHelp: [LIMIT],
  options: { limit: { type: 'string' } },
  json: '{"changes": [change…], "next_cursor": null}, as GET /flags/{name}/history returns it (every page)',
  scoped: true,
  async run ({ args: [name], values, json, environment }) {
    const limit = limitOption(values)
    const entries = await withSession((s) => everyItem((page) => s.history.flagHistory(s.environment, name, page), 1000, limit), { environment })
    show(json, entries, false)
  }
}

const changes: Command = {
  name: 'changes',
  args: [],
  synopsis: '[--flag NAME] [--environment ENV] [--actor A] [--action X] [--from-revision N] [--to-revision N] [--since ISO] [--until ISO] [--limit N]',
  summary: 'the change log, newest first: who changed what, when, before and after; every environment unless filtered',
  optionHelp: [
    ['--flag NAME', 'only changes to this flag (by its name after each change)'],
    // A filter, not the environment a command addresses: without it every environment's changes show,
    // and an environment removed since still names its changes (so it need not exist now).
    ['-e, --environment ENV', 'only changes made in ENV (default: every environment, and global changes)'],
    ['--actor A', 'only changes made by A (an API key\'s name, cli:<user>, library, system…)'],
    ['--action X', 'only this action (flag.update) or group of actions (flag)'],
    ['--from-revision N', 'only revisions N and after'],
    ['--to-revision N', 'only revisions N and before'],
    ['--since ISO', 'only changes at or after this time (RFC 3339, e.g. 2030-01-31T12:00:00Z)'],
    ['--until ISO', 'only changes before this time'],
    LIMIT
  ],
  options: {
    flag: { type: 'string' },
    environment: { type: 'string', short: 'e' },
    actor: { type: 'string' },
    action: { type: 'string' },
    'from-revision': { type: 'string' },
    'to-revision': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' }
  },
  json: '{"changes": [change…], "next_cursor": null}, as GET /changes returns it (every page)',
  async run ({ values, json }) {
    const flag = str(values, 'flag')
    if (flag !== undefined) checkFlagName(flag)
    const environment = str(values, 'environment')
    if (environment !== undefined && !ENVIRONMENT_KEY_RULE.test(environment)) {
      throw new UsageError(`--environment ${JSON.stringify(environment)}: ${ENVIRONMENT_KEY_RULE.message}`)
    }
    const same = (raw: string): string => raw
    const since = checked(values, 'since', 'since', same)
    const until = checked(values, 'until', 'until', same)
    const filter: ChangeFilter = {
      flag,
      environment,
      actor: checked(values, 'actor', 'actor', same),
      action: checked(values, 'action', 'action', same),
      fromRevision: checked(values, 'from-revision', 'fromRevision', digits),
      toRevision: checked(values, 'to-revision', 'toRevision', digits),
      since: since === undefined ? undefined : new Date(since),
      until: until === undefined ? undefined : new Date(until)
    }
    const limit = limitOption(values)
    // Local operators see everything, key changes included, as an admin key does.
    const entries = await withSession((s) => everyItem((page) => s.history.list(filter, page, { apiKeys: true }), 1000, limit))
    show(json, entries, true)
  }
}

const revert: Command = {
  name: 'revert',
  args: ['NAME', 'REVISION'],
  summary: 'serve a flag in the environment as it was there at a revision (on/off, default and off variant, targeting): a new, recorded change',
  json: 'the flag as it is now served, as GET /flags/{name} returns it',
  scoped: true,
  async run ({ args: [name, raw], json, environment }) {
    const revision = digits(raw)
    const problem = historyInputProblem('revision', revision)
    if (problem !== undefined) throw new UsageError(`REVISION ${JSON.stringify(raw)}: ${problem}`)
    const [flag, where] = await withSession(async (s) => [await s.history.revert(s.environment, name, revision, s.write), s.environment] as const, { environment })
    emit(json, toFlagBody(flag), () => printLine(`${flag.name} reverted to revision ${revision} in ${where} (version ${flag.version})`))
  }
}

export const historyCommands = [history, changes, revert]
