import type { Command } from '../command.js'
import { printLine } from '../output.js'

/** Keep the process alive: the server exits by its own signal handling. */
export const KEEP_RUNNING = -1

const serve: Command = {
  name: 'serve',
  args: [],
  summary: 'run the HTTP service (what npm start runs; configured by the environment)',
  async run () {
    await import('../../server.js')
    return KEEP_RUNNING
  }
}

const migrate: Command = {
  name: 'migrate',
  args: [],
  summary: 'apply the database migrations to DATABASE_URL and exit',
  async run () {
    const [{ loadConfig, withoutCredentials }, { openDatabase, migrateDatabase }] = await Promise.all([
      import('../../config.js'), import('../../db/database.js')
    ])
    const config = loadConfig()
    const handle = await openDatabase(config.databaseUrl)
    try { await migrateDatabase(handle) } finally { await handle.close() }
    printLine(`migrations applied to ${withoutCredentials(config.databaseUrl)}`)
  }
}

export const systemCommands = [serve, migrate]
