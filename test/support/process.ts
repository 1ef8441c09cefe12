import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Helpers for tests that run the real server process (dist/bin/server.js, as `npm start` does). */
// The built entry point, exactly what `npm start` runs (npm test builds first).
const SERVER = fileURLToPath(new URL('../../dist/bin/server.js', import.meta.url))

/**
 * `file args…` as a user's shell runs it, for spawn/execFile: [file, args] of `env -u NODE_OPTIONS file args…`.
 * tap puts its processinfo loader into NODE_OPTIONS of every process a test spawns (process-on-spawn), to
 * record which modules each loads and their coverage. In a Flagpost process that loader costs over a second
 * of CPU per start (`flagpost list-flags`: 2.9 s of CPU against 1.2) and slows every module it loads, and
 * the CLI suites start the binary hundreds of times. env execs, so the child's pid is the program's own and
 * signals a test sends reach it.
 */
export const untraced = (file: string, args: string[]): [string, string[]] => ['/usr/bin/env', ['-u', 'NODE_OPTIONS', file, ...args]]

export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export interface Running {
  child: ChildProcess
  output: () => string
  base: string
  exited: Promise<number | null>
  /** It answered /healthz (or logged that it listens) before start() returned. */
  ready: boolean
}

/** Start the server with exactly `env` (plus PATH, HOST, PORT, LOG_LEVEL info); `nodeArgs` go to node before the script. */
export async function start (env: Record<string, string>, nodeArgs: string[] = []): Promise<Running> {
  const port = await freePort()
  // Only what the test chooses: no inherited DATABASE_URL/API_KEY from the developer's shell or CI.
  const child = spawn(...untraced(process.execPath, [...nodeArgs, SERVER]), {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const base = `http://127.0.0.1:${port}`
  // Until it listens, exits, or 30 s pass (a loaded machine can take that long to boot and migrate). It
  // says so at LOG_LEVEL info (and then everything it logged before is in output()); a quieter level
  // hides that line, so then it is ready when /healthz answers.
  const logsListening = !['warn', 'error', 'fatal', 'silent'].includes(env.LOG_LEVEL ?? 'info')
  const isReady = async (): Promise<boolean> => logsListening
    ? out.includes('Server listening')
    : fetch(`${base}/healthz`).then((res) => res.ok, () => false)
  let ready = await isReady()
  for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    ready = await isReady()
  }
  return { child, output: () => out, base, exited, ready }
}

export const dataDir = (t: { teardown (fn: () => unknown): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
