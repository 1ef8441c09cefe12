#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { UsageError, type Command, type Input, type OptionSpec } from './command.js'
import { ENVIRONMENT_KEY_RULE } from '../schemas/names.js'
import { customerCommands } from './commands/customers.js'
import { environmentCommands } from './commands/environments.js'
import { featureCommands } from './commands/features.js'
import { historyCommands } from './commands/history.js'
import { keyCommands } from './commands/keys.js'
import { overrideCommands } from './commands/overrides.js'
import { queryCommands } from './commands/queries.js'
import { KEEP_RUNNING, systemCommands } from './commands/system.js'
import { failure } from './failure.js'
import { closest } from './suggest.js'
import { commandUsage, globalUsage, type Group } from './usage.js'

const GROUPS: Group[] = [
  { title: 'Features', commands: featureCommands },
  { title: 'Customers and users', commands: customerCommands },
  { title: 'Per-customer and per-user switches', commands: overrideCommands },
  { title: 'Queries', commands: queryCommands },
  { title: 'Environments', commands: environmentCommands },
  { title: 'History', commands: historyCommands },
  { title: 'API keys', commands: keyCommands },
  { title: 'Service', commands: systemCommands }
]
const COMMANDS = new Map<string, Command>(GROUPS.flatMap((g) => g.commands.map((c) => [c.name, c] as const)))
const USAGE = globalUsage(GROUPS)

const out = (text: string): void => { process.stdout.write(`${text}\n`) }
const fail = (text: string): void => { process.stderr.write(`${text}\n`) }

/** `-h`/`--help` anywhere before a `--` asks for help, whatever else is on the line. */
const wantsHelp = (argv: string[]): boolean => {
  const end = argv.indexOf('--')
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '-h' || a === '--help')
}

// node:util's messages end with advice about `--` that reads oddly after our own prefix.
const parseMessage = (err: unknown): string => (err as Error).message.replace(/\. To specify a positional argument[\s\S]*$/, '')

function parse (command: Command, argv: string[]): Input {
  const options: OptionSpec = {
    ...command.options,
    ...(command.scoped === true ? { environment: { type: 'string', short: 'e' } } : {}),
    ...(command.json !== undefined ? { json: { type: 'boolean' } } : {})
  }
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    const message = parseMessage(err)
    // Customers, users, environments and keys are the same in every environment: say so.
    if (/^Unknown option '(-e|--environment)'$/.test(message)) throw new UsageError('--environment does not apply: this command does not address one environment')
    throw new UsageError(message)
  }
  const { positionals, values } = parsed
  if (positionals.length < command.args.length) throw new UsageError(`missing ${command.args.slice(positionals.length).join(' ')}`)
  if (positionals.length > command.args.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[command.args.length])}`)
  const environment = command.scoped === true && typeof values.environment === 'string' ? values.environment : undefined
  if (environment !== undefined && !ENVIRONMENT_KEY_RULE.test(environment)) {
    throw new UsageError(`--environment ${JSON.stringify(environment)}: ${ENVIRONMENT_KEY_RULE.message}`)
  }
  return { args: positionals, values, json: values.json === true, ...(environment !== undefined ? { environment } : {}) }
}

/**
 * `flagpost -e ENV <command> …` / `flagpost --environment[=]ENV <command> …`: the global option before
 * the command is moved after it, where the command's own parsing checks it.
 */
function leadingEnvironment (argv: string[]): string[] {
  const isCommand = (word: string | undefined): word is string => word !== undefined && COMMANDS.has(word)
  const [first, second, third, ...rest] = argv
  if ((first === '-e' || first === '--environment') && second !== undefined && isCommand(third)) return [third, '--environment', second, ...rest]
  if (first?.startsWith('--environment=') === true && isCommand(second)) return [second, first, ...(third === undefined ? [] : [third]), ...rest]
  return argv
}

function unknownCommand (name: string): number {
  const guess = closest(name, [...COMMANDS.keys()])
  fail(`flagpost: unknown command ${JSON.stringify(name)}${guess === undefined ? '' : ` (did you mean ${guess}?)`}\nRun "flagpost --help" for the commands.`)
  return 2
}

/** The flagpost command line: exit 0 on success, 1 on an error, 2 on a usage or configuration error. */
async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = leadingEnvironment(argv)
  if (name === undefined) { fail(USAGE); return 2 }
  if (name === '-h' || name === '--help') { out(USAGE); return 0 }
  if (name === '--version') { out(version()); return 0 }
  if (name === 'help') {
    if (rest.length === 0) { out(USAGE); return 0 }
    const command = COMMANDS.get(rest[0])
    if (command === undefined) return unknownCommand(rest[0])
    out(commandUsage(command))
    return 0
  }
  if (name.startsWith('-')) { fail(`flagpost: Unknown option '${name}'\nRun "flagpost --help" for the commands and options.`); return 2 }
  const command = COMMANDS.get(name)
  if (command === undefined) return unknownCommand(name)
  if (wantsHelp(rest)) { out(commandUsage(command)); return 0 }
  try {
    return (await command.run(parse(command, rest))) ?? 0
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    fail(`flagpost ${name}: ${err.message}\n\n${commandUsage(command)}`)
    return 2
  }
}

function version (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

// `flagpost list-customers x | head -1`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  fail(`flagpost: cannot write the output: ${err.message}`)
  process.exit(1)
})

main(process.argv.slice(2)).then(
  (code) => { if (code !== KEEP_RUNNING) process.exitCode = code },
  (err: unknown) => {
    const { message, code } = failure(err)
    fail(`flagpost: ${message}`)
    process.exitCode = code
  }
)
