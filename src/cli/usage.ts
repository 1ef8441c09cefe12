import type { Command } from './command.js'

export interface Group { title: string, commands: Command[] }

/** The option line of the global `--environment`, shown by every command that takes it. */
const ENVIRONMENT_OPTION: [string, string] = ['-e, --environment ENV', 'the environment to address (default: DEFAULT_ENVIRONMENT, production unless set)']

const FOOTER = `Run "flagpost <command> --help" for a command's options.
Exit codes: 0 success, 1 error (the reason on stderr), 2 usage or configuration error.
Configuration comes from the environment (DATABASE_URL, API_KEY, PORT, …): see README.md.`

const pad = (rows: Array<[string, string]>): string[] => {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)
}

/** `flagpost --help`: every command with one line about it. */
export function globalUsage (groups: Group[]): string {
  const head = (c: Command): string => [c.name, ...c.args].join(' ')
  const width = Math.max(...groups.flatMap((g) => g.commands.map((c) => head(c).length)))
  const sections = groups.map((g) => [`${g.title}:`, ...g.commands.map((c) => `  ${head(c).padEnd(width)}  ${c.summary}`)].join('\n'))
  return `Usage: flagpost <command> [arguments] [options]\n\n${sections.join('\n\n')}\n\nOptions:\n${pad([
    [ENVIRONMENT_OPTION[0], 'the environment a flag, override or query command addresses (default: DEFAULT_ENVIRONMENT)'],
    ['-h, --help', 'show this help'], ['--version', 'print the version']
  ]).join('\n')}\n\n${FOOTER}`
}

/** The usage line of one command. */
export const usageLine = (command: Command): string =>
  ['Usage: flagpost', command.name, ...command.args, command.synopsis, command.json !== undefined ? '[--json]' : undefined]
    .filter((part) => part !== undefined && part !== '').join(' ')

/** `flagpost <command> --help`. */
export function commandUsage (command: Command): string {
  const options: Array<[string, string]> = [
    ...(command.optionHelp ?? []),
    ...(command.scoped === true ? [ENVIRONMENT_OPTION] : []),
    ...(command.json !== undefined ? [['--json', `print ${command.json}`] as [string, string]] : []),
    ['-h, --help', 'show this help']
  ]
  const summary = command.summary.charAt(0).toUpperCase() + command.summary.slice(1)
  return `${usageLine(command)}\n\n${summary}.\n\nOptions:\n${pad(options).join('\n')}`
}
