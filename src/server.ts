import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import pino from 'pino'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { createContainer } from './container.js'
import { stdoutDestination } from './log-destination.js'
import { keepTickShape } from './tick-shape.js'

/**
 * The most a SIGTERM/SIGINT drain may take before the process gives up and exits 1. Whatever stops it must
 * wait longer before its SIGKILL: docker-compose.yml's stop_grace_period is 15 s (the Dockerfile says so too).
 */
const SHUTDOWN_BOUND_MS = 10_000

/** Process entry: config → container → app → listen; drains and closes on SIGTERM/SIGINT. */
async function main (): Promise<void> {
  // Before anything queues work: a full collection with no nextTick entry alive would slow every later one (tick-shape.ts).
  keepTickShape()
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

  // Graceful shutdown for pooled keep-alive clients (nginx, envoy, Node agents): stop accepting, answer
  // every request already on a connection with `Connection: close` so no pool reuses the socket, close
  // idle sockets at once, then the container. Fastify's close() alone would wait for sockets that were
  // busy when it started: they go idle after their answer and stay open until the client's or the
  // keep-alive timeout (72 s), past the bound.
  //
  // Connections are tracked, not requests: a keep-alive connection carries thousands of requests, and
  // a listener per request was a tenth of what this service adds to an evaluation. A connection's
  // response in progress is the one Node has assigned it (`_httpMessage`, null between requests).
  let closing = false
  const connections = new Set<Socket>()
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  const reapIdle = (): void => { setImmediate(() => app.server.closeIdleConnections()) }
  const closeAfter = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('connection', 'close')
    // A response already under way cannot say so: its socket is closed once it is idle.
    res.once('close', reapIdle)
  }
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    const started = performance.now()
    const inFlight = [...connections].map((socket) => (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage).filter((res) => res != null)
    app.log.info({ signal, inFlight: inFlight.length, boundMs: SHUTDOWN_BOUND_MS }, `shutting down: draining in-flight requests (at most ${SHUTDOWN_BOUND_MS} ms)`)
    for (const res of inFlight) closeAfter(res)
    // What still arrives on open connections is answered, then its connection closed. Prepended, so it
    // runs before Fastify's own listener can answer (and send headers) synchronously.
    app.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => closeAfter(res))
    const force = setTimeout(() => {
      app.log.error({ connections: connections.size }, `shutdown timed out after ${SHUTDOWN_BOUND_MS} ms`)
      process.exit(1)
    }, SHUTDOWN_BOUND_MS)
    force.unref()
    app.close()
      .then(() => container.close())
      .then(() => {
        app.log.info({ signal, ms: Math.round(performance.now() - started) }, 'shut down: requests answered, connections and database closed')
        process.exit(0)
      })
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
