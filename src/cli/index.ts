#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config.js'
import { openSqlite } from '../db/client.js'
import { migrateSqlite } from '../db/migrate.js'

const USAGE = `Usage: flagpost <command> [options]

Commands:
  serve      run the HTTP service (same as npm start; configured by the environment)
  migrate    apply the database migrations to DATABASE_URL and exit

Options:
  -h, --help   show this help

Configuration comes from the environment (PORT, DATABASE_URL, API_KEY, …): see README.md.`

/** The flagpost command line: exit 0 on success, 1 on an error, 2 on a usage or configuration error. */
async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } })
  } catch (err) {
    process.stderr.write(`flagpost: ${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  const [command, ...rest] = parsed.positionals
  if (parsed.values.help === true || command === 'help') { process.stdout.write(`${USAGE}\n`); return 0 }
  if (command === undefined) { process.stderr.write(`${USAGE}\n`); return 2 }
  if (rest.length > 0) { process.stderr.write(`flagpost ${command}: unexpected argument "${rest[0]}"\n`); return 2 }

  switch (command) {
    case 'serve':
      await import('../server.js')
      return -1 // the server keeps the process alive and exits on its own signal handling
    case 'migrate': {
      const config = loadConfig()
      const handle = openSqlite(config.databaseUrl)
      try { migrateSqlite(handle) } finally { handle.close() }
      process.stdout.write(`migrations applied to ${config.databaseUrl}\n`)
      return 0
    }
    default:
      process.stderr.write(`flagpost: unknown command "${command}"\n\n${USAGE}\n`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code },
  (err: unknown) => {
    process.stderr.write(`flagpost: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`)
    process.exitCode = err instanceof ConfigError ? 2 : 1
  }
)
