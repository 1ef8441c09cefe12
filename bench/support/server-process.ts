/**
 * A real server process for the benches: `node dist/bin/server.js` (what `npm start` runs, so build
 * first), timed from spawn until `/readyz` answers 200, its memory read from /proc, its log in a
 * file (the default config logs every request at info: writing it is part of serving).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/support/process.js'
import type { BareRoute } from './bare-server.js'
import { exitedServer, serverAffinity, startedPinned } from './cores.js'
import { mainThreadCpuMs, processCpuMs } from './cpu-time.js'

const SERVER = fileURLToPath(new URL('../../dist/bin/server.js', import.meta.url))
const BARE_SERVER = fileURLToPath(new URL('./bare-server.ts', import.meta.url))
/** The node options `npm start` runs the server with (package.json config.node_options): every server here gets them, the bare baseline too. */
const START_NODE_OPTIONS = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { config: { node_options: string } }).config.node_options.split(' ')
const READY_TIMEOUT_MS = 30_000
const running = new Set<ChildProcess>()
// Never leave a server behind, whatever ends the bench.
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })

export interface ServerProcess {
  pid: number
  base: string
  /** Milliseconds from spawn until the first 200 from /readyz. */
  readyMs: number
  /**
   * CPU time (user + system) the process had used by then, in ms: all its threads, and its main
   * thread alone; null where /proc is missing. Unlike `readyMs` they hardly move with other work on
   * the machine, and on an idle core `readyMs` is about `mainThread` (plus I/O waits).
   */
  readyCpuMs: { process: number, mainThread: number } | null
  /** Resident set now and its peak (VmHWM), in MB; null where /proc is missing. */
  memory (): { rssMb: number, peakMb: number } | null
  stop (): Promise<void>
}

/** GET on a fresh connection; the status, or 0 when nothing answers yet. */
export function statusOf (url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0) })
    req.on('error', () => resolve(0))
    req.on('timeout', () => { req.destroy(); resolve(0) })
    req.end()
  })
}

/**
 * Start a server with exactly `env` (plus PATH, HOST, PORT); its stdout and stderr go to `logFile`;
 * pinned to a core when the bench pinned cores (support/cores.ts).
 * `nodeArgs` go to node before the script (`--cpu-prof` and the like, which NODE_OPTIONS refuses), after npm start's options.
 */
export async function startServer (env: Record<string, string>, logFile: string, nodeArgs: string[] = [], script = SERVER): Promise<ServerProcess> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const log = openSync(logFile, 'a')
  const started = performance.now()
  const cpus = serverAffinity()
  // taskset execs node in its own process: the pid is the server's.
  const node = [...START_NODE_OPTIONS, ...nodeArgs, script]
  const [command, args] = cpus === null ? [process.execPath, node] : ['taskset', ['-c', cpus, process.execPath, ...node]]
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', log, log]
  })
  closeSync(log)
  if (child.pid !== undefined) startedPinned(child.pid)
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); if (child.pid !== undefined) exitedServer(child.pid); resolve() }))
  let readyMs = -1
  while (child.exitCode === null && child.signalCode === null && performance.now() - started < READY_TIMEOUT_MS) {
    if (await statusOf(`${base}/readyz`) === 200) { readyMs = performance.now() - started; break }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const all = processCpuMs(child.pid!)
  const main = mainThreadCpuMs(child.pid!)
  const cpuAtReady = all === null || main === null ? null : { process: all, mainThread: main }
  if (readyMs < 0) {
    child.kill('SIGKILL')
    await exited
    throw new Error(`the server did not become ready (see ${logFile}):\n${readFileSync(logFile, 'utf8').slice(-2000)}`)
  }
  return {
    pid: child.pid!,
    base,
    readyMs,
    readyCpuMs: cpuAtReady,
    memory () {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
        return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
      } catch { return null }
    },
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(force)
    }
  }
}

/** `n` servers started one after the other by `start(i)`: the processes of one target (see load.ts, `rotating`). */
export async function startProcesses (n: number, start: (i: number) => Promise<ServerProcess>): Promise<ServerProcess[]> {
  const all: ServerProcess[] = []
  for (let i = 0; i < n; i++) all.push(await start(i))
  return all
}

/**
 * The bare Fastify baseline (support/bare-server.ts) in a process of its own, answering `routes`:
 * `dir` holds its route file and its log; `nodeArgs` as for startServer.
 */
export async function startBareServer (routes: BareRoute[], dir: string, label = 'bare', nodeArgs: string[] = []): Promise<ServerProcess> {
  const file = `${dir}/${label}-routes.json`
  writeFileSync(file, JSON.stringify(routes))
  return startServer({ BARE_ROUTES: file }, `${dir}/${label}.log`, ['--import', 'tsx', ...nodeArgs], BARE_SERVER)
}

/** A bench run's temporary directory and the servers it starts. */
export interface BenchRun { dir: string, servers: ServerProcess[] }

/** Run `body` with a new temporary directory; the servers it adds to `servers` are stopped and the directory removed however it ends. */
export async function withServers (prefix: string, body: (run: BenchRun) => Promise<void>): Promise<void> {
  const run: BenchRun = { dir: mkdtempSync(join(tmpdir(), prefix)), servers: [] }
  try {
    await body(run)
  } finally {
    for (const server of run.servers) await server.stop()
    rmSync(run.dir, { recursive: true, force: true })
  }
}
