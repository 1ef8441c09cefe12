import { everyItem } from '../../services/paging.js'
import { FLAG_TYPES, type FlagType } from '../../engine/types.js'
import type { StoredFlag } from '../../repositories/flag-repository.js'
import type { NewFlag } from '../../services/flag-commands.js'
import { toFlagBody } from '../../services/flag-view.js'
import { checkDescription, checkFlagName } from '../checks.js'
import { onOff, str, UsageError, type Command } from '../command.js'
import { emit, orDash, printLine, printTable, showValue } from '../output.js'
import { withSession } from '../session.js'

const ON_OFF: Array<[string, string]> = [['--enabled', 'on for everyone: the fallthrough serves the default value to 100 %'], ['--disabled', 'off for everyone: 0 %']]

/** What a flag serves to contexts no override, id list or rule matches. */
function fallthrough (flag: StoredFlag): string {
  const { percentage, rollout } = flag.targetingRules
  if (rollout !== null) return Object.entries(rollout).map(([variant, weight]) => `${variant}:${weight}`).join(' ')
  return `${percentage ?? 0}%`
}

const addFeature: Command = {
  name: 'add-feature',
  args: ['NAME'],
  synopsis: '[--default-enabled] [--type T --default-value V] [--description D]',
  summary: 'create a feature flag (off for everyone unless --default-enabled)',
  optionHelp: [
    ['--default-enabled', 'on for everyone (fallthrough 100 %); without it the flag is off for everyone (0 %)'],
    ['--type T', 'boolean (the default), string, number or json'],
    ['--default-value V', 'the value served when the flag is on; required for string, number and json flags ("12.5" and JSON text are parsed)'],
    ['--description D', 'what the flag is for']
  ],
  options: { 'default-enabled': { type: 'boolean' }, type: { type: 'string' }, 'default-value': { type: 'string' }, description: { type: 'string' } },
  json: 'the created flag, as GET /flags/{name} returns it',
  scoped: true,
  async run ({ args: [name], values, json, environment }) {
    const type = str(values, 'type') ?? 'boolean'
    if (!(FLAG_TYPES as readonly string[]).includes(type)) throw new UsageError(`--type must be one of ${FLAG_TYPES.join(', ')}, got ${JSON.stringify(type)}`)
    const defaultValue = str(values, 'default-value')
    if (type !== 'boolean' && defaultValue === undefined) throw new UsageError(`--type ${type} needs --default-value`)
    const description = str(values, 'description')
    const on = values['default-enabled'] === true
    const body: NewFlag = {
      name: checkFlagName(name),
      type: type as FlagType,
      targetingRules: { percentage: on ? 100 : 0 },
      ...(defaultValue !== undefined ? { defaultValue } : {}),
      ...(description !== undefined ? { description: checkDescription(description) } : {})
    }
    const flag = await withSession((s) => s.flags.create(s.environment, body, s.write), { environment })
    emit(json, toFlagBody(flag), () => {
      const served = flag.type === 'boolean'
        ? `${on ? 'enabled' : 'disabled'} for everyone`
        : `${flag.type}; serves ${showValue(flag.variants[on ? flag.defaultVariant : flag.offVariant])} to everyone`
      printLine(`feature ${flag.name} added (${served})`)
    })
  }
}

const removeFeature: Command = {
  name: 'remove-feature',
  args: ['NAME'],
  summary: 'delete a feature flag and its overrides',
  json: '{"name": NAME, "removed": true}',
  scoped: true,
  async run ({ args: [name], json, environment }) {
    await withSession((s) => s.flags.remove(s.environment, name, s.write), { environment })
    emit(json, { name, removed: true }, () => printLine(`feature ${name} removed`))
  }
}

const renameFeature: Command = {
  name: 'rename-feature',
  args: ['OLD', 'NEW'],
  summary: 'rename a feature flag (its overrides follow)',
  json: 'the renamed flag',
  scoped: true,
  async run ({ args: [from, to], json, environment }) {
    checkFlagName(to)
    const flag = await withSession((s) => s.flags.rename(s.environment, from, to, s.write), { environment })
    emit(json, toFlagBody(flag), () => printLine(`feature ${from} renamed to ${flag.name}`))
  }
}

const setGlobal: Command = {
  name: 'set-global',
  args: ['NAME'],
  synopsis: '--enabled|--disabled',
  summary: 'switch a flag on or off for everyone (fallthrough 100 % / 0 %; overrides still win)',
  optionHelp: ON_OFF,
  options: { enabled: { type: 'boolean' }, disabled: { type: 'boolean' } },
  json: 'the updated flag',
  scoped: true,
  async run ({ args: [name], values, json, environment }) {
    const on = onOff(values)
    const flag = await withSession((s) => s.flags.update(s.environment, name, { targetingRules: { percentage: on ? 100 : 0 } }, s.write), { environment })
    emit(json, toFlagBody(flag), () =>
      printLine(`feature ${name} ${on ? 'enabled' : 'disabled'} for everyone (overrides still apply${flag.enabled ? '' : '; the kill switch is on: run enable'})`))
  }
}

const killSwitch = (name: string, enabled: boolean): Command => ({
  name,
  args: ['NAME'],
  summary: enabled
    ? 'release the kill switch: the flag serves by its targeting again'
    : 'kill switch: the flag serves its off value to everyone, overrides included',
  json: 'the updated flag',
  scoped: true,
  async run ({ args: [flagName], json, environment }) {
    const flag = await withSession((s) => s.flags.update(s.environment, flagName, { enabled }, s.write), { environment })
    emit(json, toFlagBody(flag), () => printLine(enabled
      ? `feature ${flagName} enabled (serving by its targeting)`
      : `feature ${flagName} disabled (kill switch: everyone gets ${showValue(flag.variants[flag.offVariant])}, overrides included)`))
  }
})

const listFlags: Command = {
  name: 'list-flags',
  args: [],
  summary: 'list every feature flag',
  json: '{"flags": [flag…], "next_cursor": null}, as GET /flags returns it (every page)',
  scoped: true,
  async run ({ json, environment }) {
    const flags = await withSession((s) => everyItem((query) => s.flags.list(s.environment, query)), { environment })
    emit(json, { flags: flags.map(toFlagBody), next_cursor: null }, () => {
      if (flags.length === 0) { printLine('no features'); return }
      printTable(['NAME', 'TYPE', 'ENABLED', 'FALLTHROUGH', 'DEFAULT', 'DESCRIPTION'], flags.map((f) => [
        f.name, f.type, f.enabled ? 'yes' : 'no (killed)', fallthrough(f), showValue(f.variants[f.defaultVariant]), orDash(f.description)
      ]))
    })
  }
}

export const featureCommands = [addFeature, removeFeature, renameFeature, setGlobal, killSwitch('enable', true), killSwitch('disable', false), listFlags]
