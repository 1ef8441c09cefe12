import type { ParseArgsConfig } from 'node:util'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | Array<string | boolean> | undefined>

/** A parsed command line: positionals in order, option values, whether `--json` was given, and `--environment`. */
export interface Input {
  args: string[]
  values: Values
  json: boolean
  /** `--environment ENV` of a command that addresses one environment (checked against ENVIRONMENT_KEY_RULE); absent: the default. */
  environment?: string
}

/** One `flagpost <name>` command: its usage, its options, and what it does. */
export interface Command {
  name: string
  /** Positional placeholders, in order, e.g. `['OLD', 'NEW']`. */
  args: string[]
  /** The options part of the usage line, e.g. `(--customer-id C | --user-id U) --enabled|--disabled`. */
  synopsis?: string
  /** One line for `flagpost --help`. */
  summary: string
  /** The option lines of `flagpost <name> --help` (besides --json and --help). */
  optionHelp?: Array<[string, string]>
  options?: OptionSpec
  /** What `--json` prints; absent when the command takes no `--json`. */
  json?: string
  /** The command addresses one environment: it takes the global `-e, --environment ENV` (default DEFAULT_ENVIRONMENT). */
  scoped?: boolean
  /** Returns the exit code, or nothing for 0. */
  run (input: Input): Promise<number | void>
}

/** The command line is wrong: exit 2 with the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const str = (values: Values, key: string): string | undefined => {
  const v = values[key]
  return typeof v === 'string' ? v : undefined
}

/** `--enabled` xor `--disabled`, as a boolean. */
export function onOff (values: Values): boolean {
  const on = values.enabled === true
  const off = values.disabled === true
  if (on === off) throw new UsageError('give exactly one of --enabled and --disabled')
  return on
}

export type SubjectKind = 'customer' | 'user'

/** `--customer-id C` xor `--user-id U`. */
export function subjectOption (values: Values): { subject: SubjectKind, id: string } {
  const customer = str(values, 'customer-id')
  const user = str(values, 'user-id')
  if ((customer === undefined) === (user === undefined)) throw new UsageError('give exactly one of --customer-id and --user-id')
  return customer !== undefined ? { subject: 'customer', id: customer } : { subject: 'user', id: user! }
}
