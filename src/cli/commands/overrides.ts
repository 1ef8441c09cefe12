import { toOverrideBody } from '../../services/subject-view.js'
import { VARIANT_NAME_PATTERN } from '../../schemas/flags.js'
import { ValidationError } from '../../errors.js'
import { checkSubjectId } from '../checks.js'
import { onOff, str, subjectOption, type Command } from '../command.js'
import { emit, printLine } from '../output.js'
import { withSession } from '../session.js'

const VARIANT = new RegExp(VARIANT_NAME_PATTERN)
const WHO: Array<[string, string]> = [['--customer-id C', 'the customer (registered if unknown)'], ['--user-id U', 'the user (registered if unknown)']]

const setFlag: Command = {
  name: 'set-flag',
  args: ['NAME'],
  synopsis: '(--customer-id C | --user-id U) --enabled|--disabled [--variant V]',
  summary: 'switch a flag on or off for one customer or user (an explicit override)',
  optionHelp: [
    ...WHO,
    ['--enabled', 'serve the default value (or --variant) to this subject'],
    ['--disabled', 'serve the off value (or --variant) to this subject'],
    ['--variant V', 'serve this one of the flag\'s variants instead']
  ],
  options: {
    'customer-id': { type: 'string' },
    'user-id': { type: 'string' },
    enabled: { type: 'boolean' },
    disabled: { type: 'boolean' },
    variant: { type: 'string' }
  },
  json: 'the override, as PUT /flags/{name}/overrides/… returns it',
  scoped: true,
  async run ({ args: [name], values, json, environment }) {
    const { subject, id } = subjectOption(values)
    const enabled = onOff(values)
    const variant = str(values, 'variant')
    checkSubjectId(subject, id)
    if (variant !== undefined && !VARIANT.test(variant)) throw new ValidationError(`--variant: ${JSON.stringify(variant)} is not a variant name`)
    const override = await withSession((s) => s.subjects.setOverride(s.environment, name, subject, id, { enabled, ...(variant !== undefined ? { variant } : {}) }, s.write), { environment })
    emit(json, toOverrideBody(override), () => printLine(
      `feature ${name} ${enabled ? 'enabled' : 'disabled'} for ${subject} ${id}${override.variant === null ? '' : ` (variant ${override.variant})`}`))
  }
}

const clearFlag: Command = {
  name: 'clear-flag',
  args: ['NAME'],
  synopsis: '(--customer-id C | --user-id U)',
  summary: 'remove a flag\'s override for one customer or user (its targeting applies again)',
  optionHelp: WHO,
  options: { 'customer-id': { type: 'string' }, 'user-id': { type: 'string' } },
  json: '{"flag": NAME, "subject": "customer"|"user", "id": ID, "cleared": true}',
  scoped: true,
  async run ({ args: [name], values, json, environment }) {
    const { subject, id } = subjectOption(values)
    await withSession((s) => s.subjects.clearOverride(s.environment, name, subject, id, s.write), { environment })
    emit(json, { flag: name, subject, id, cleared: true }, () => printLine(`override of ${name} for ${subject} ${id} cleared`))
  }
}

export const overrideCommands = [setFlag, clearFlag]
