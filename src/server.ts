import pino from 'pino'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createContainer } from './container.js'
import { stdoutDestination } from './log-destination.js'

/** Process entry: config → container → app → listen; drains and closes on SIGTERM/SIGINT. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) { process.stderr.write(`${err.message}\n`); process.exit(2) }
    throw err
  }
  // The container logs what happens outside requests (snapshot refreshes, Redis outages).
  const container = await createContainer(config, { logger: pino({ level: config.logLevel }, stdoutDestination()) })
  const app = await buildApp(container)

  const bootstrapKey = await container.services.apiKeys.ensureBootstrapKey()
  if (bootstrapKey !== null) {
    app.log.warn(`No API key configured: generated an admin key for writes, shown only this once: ${bootstrapKey}  ` +
      '(only its SHA-256 hash is stored; set API_KEY=<your key> to use your own)')
  }

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => { app.log.error('shutdown timed out'); process.exit(1) }, 10_000)
    force.unref()
    app.close()
      .then(() => container.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => { app.log.error({ err }, 'shutdown failed'); process.exit(1) })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  await app.listen({ port: config.port, host: config.host })
}

main().catch((err: unknown) => {
  // An error with a `hint` (an unreachable database) is a one-line answer for the operator, not a bug's stack.
  process.stderr.write(`flagpost failed to start: ${err instanceof Error ? ('hint' in err ? err.message : err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
