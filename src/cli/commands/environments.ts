import { ValidationError } from '../../errors.js'
import { ENVIRONMENT_KEY_RULE } from '../../schemas/names.js'
import type { PromotedFlag } from '../../services/environment-service.js'
import { toEnvironmentBody } from '../../services/environment-view.js'
import { checkFlagName } from '../checks.js'
import { str, UsageError, type Command, type Values } from '../command.js'
import { emit, printLine, printTable, showValue } from '../output.js'
import { withSession } from '../session.js'

/** An option naming an existing environment (`--from`, `--to`): the key rule, else a usage error. */
function environmentOption (values: Values, option: string): string {
  const key = str(values, option)
  if (key === undefined) throw new UsageError(`--${option} ENV is required`)
  if (!ENVIRONMENT_KEY_RULE.test(key)) throw new UsageError(`--${option} ${JSON.stringify(key)}: ${ENVIRONMENT_KEY_RULE.message}`)
  return key
}

const listEnvironments: Command = {
  name: 'list-environments',
  args: [],
  summary: 'list the environments, in order, marking the default one (DEFAULT_ENVIRONMENT)',
  json: '{"environments": [environment…], "next_cursor": null, "default_environment": KEY}, as GET /environments returns it',
  async run ({ json }) {
    const [environments, defaultKey] = await withSession(async (s) => [await s.environments.list(), s.defaultEnvironment] as const)
    emit(json, { environments: environments.map(toEnvironmentBody), next_cursor: null, default_environment: defaultKey }, () => {
      printTable(['KEY', 'NAME', 'DEFAULT'], environments.map((e) => [e.key, e.name, e.key === defaultKey ? 'yes' : '']))
    })
  }
}

const addEnvironment: Command = {
  name: 'add-environment',
  args: ['KEY'],
  synopsis: '[--name N]',
  summary: 'create an environment: every flag is configured there as in the default environment, served off',
  optionHelp: [['--name N', 'a display name (default: the key)']],
  options: { name: { type: 'string' } },
  json: 'the environment, as GET /environments/{env} returns it',
  async run ({ args: [key], values, json }) {
    if (!ENVIRONMENT_KEY_RULE.test(key)) throw new ValidationError(`invalid environment key ${JSON.stringify(key)}: ${ENVIRONMENT_KEY_RULE.message}`)
    const name = str(values, 'name')
    if (name !== undefined && (name.trim() === '' || name.length > 64)) throw new ValidationError('--name: must be 1 to 64 characters, not only spaces')
    const environment = await withSession((s) => s.environments.create({ key, ...(name !== undefined ? { name } : {}) }, s.write))
    emit(json, toEnvironmentBody(environment), () => printLine(
      `environment ${environment.key} added${environment.name === environment.key ? '' : ` (${environment.name})`}; its flags are served off there until switched on`))
  }
}

const removeEnvironment: Command = {
  name: 'remove-environment',
  args: ['KEY'],
  synopsis: '[--force]',
  summary: 'delete an environment (not the default one); with flags configured there only with --force',
  optionHelp: [['--force', 'delete the flags\' configurations and overrides in it too']],
  options: { force: { type: 'boolean' } },
  json: '{"key": KEY, "removed": true}',
  async run ({ args: [key], values, json }) {
    try {
      await withSession((s) => s.environments.remove(key, { force: values.force === true }, s.write))
    } catch (err) {
      // The service speaks the API's query parameter; on the command line it is an option.
      if (err instanceof Error && err.message.includes('force=true')) err.message = err.message.replace('force=true', '--force')
      throw err
    }
    emit(json, { key, removed: true }, () => printLine(`environment ${key} removed`))
  }
}

/** One flag's change, as people read it: each field from → to, and the override counts. */
function describe (entry: PromotedFlag): string[] {
  const lines = [entry.flag]
  for (const [field, { from, to }] of Object.entries(entry.changes)) lines.push(`  ${field}: ${showValue(from)} → ${showValue(to)}`)
  if (entry.overrides !== undefined) {
    const { added, removed, changed } = entry.overrides
    lines.push(`  overrides: ${added} added, ${removed} removed, ${changed} changed`)
  }
  return lines
}

const promote: Command = {
  name: 'promote',
  args: [],
  synopsis: '--from ENV --to ENV [--flag NAME]… [--include-overrides] [--dry-run]',
  summary: 'copy flags\' configuration from one environment to another, in one transaction',
  optionHelp: [
    ['--from ENV', 'the environment to copy from'],
    ['--to ENV', 'the environment to copy into'],
    ['--flag NAME', 'only this flag; repeat for more (default: every flag)'],
    ['--include-overrides', 'also make the target\'s overrides of each flag exactly the source\'s'],
    ['--dry-run', 'only show what would change; nothing is written']
  ],
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    flag: { type: 'string', multiple: true },
    'include-overrides': { type: 'boolean' },
    'dry-run': { type: 'boolean' }
  },
  json: '{"dry_run": BOOLEAN, "flags": [{flag, changes, overrides?}…]}, as POST /environments/{env}/promote returns it',
  async run ({ values, json }) {
    const from = environmentOption(values, 'from')
    const to = environmentOption(values, 'to')
    if (from === to) throw new UsageError('--from and --to must be different environments')
    const flags = values.flag as string[] | undefined
    for (const name of flags ?? []) checkFlagName(name)
    const command = {
      from,
      ...(flags !== undefined ? { flags: [...new Set(flags)] } : {}),
      includeOverrides: values['include-overrides'] === true,
      dryRun: values['dry-run'] === true
    }
    const result = await withSession((s) => s.environments.promote(to, command, s.write))
    emit(json, { dry_run: result.dryRun, flags: result.flags }, () => {
      const count = `${result.flags.length} flag${result.flags.length === 1 ? '' : 's'}`
      if (result.flags.length === 0) {
        printLine(`${result.dryRun ? 'dry run: ' : ''}nothing to promote: ${to} already matches ${from}`)
        return
      }
      printLine(result.dryRun
        ? `dry run: promoting from ${from} to ${to} would change ${count} (nothing was written):`
        : `promoted ${count} from ${from} to ${to}:`)
      for (const entry of result.flags) for (const line of describe(entry)) printLine(line)
    })
  }
}

export const environmentCommands = [listEnvironments, addEnvironment, removeEnvironment, promote]
