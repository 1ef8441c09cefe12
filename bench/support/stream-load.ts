/**
 * Event-stream load for bench:streams: the streams are held by a separate process
 * (support/stream-clients.ts, forked with tsx), so the server under test and the clients never
 * share an event loop, and this process only writes and asks. One request at a time over IPC
 * (structured clone: latencies travel as Float64Array). Times are on the system-wide monotonic
 * clock (`nowMs`), the same in both processes.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Milliseconds on the system-wide monotonic clock (CLOCK_MONOTONIC: the same in every process). */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

/** `count` streams of one kind: the request path and its headers (a key, or none when the path holds a token). */
export interface StreamGroup { kind: string, path: string, headers: Record<string, string>, count: number }

export interface OpenRequest { type: 'open', base: string, groups: StreamGroup[], concurrency: number }
export type ToClients = OpenRequest
  | { type: 'await', revision: number, ackMs: number, timeoutMs: number }
  | { type: 'status' }
  | { type: 'close' }

export interface Opened {
  type: 'opened'
  /** From the first connect until every stream had its `: connected` preamble (or failed). */
  ms: number
  ok: number
  failed: number
  statuses: number[]
  /** Per stream, connect → preamble. */
  handshakeMs: { p50: number, max: number }
}
/** Per stream (in the order of the groups), ms from the write's acknowledgement to the first event at or past its revision; NaN: none in time. */
export interface Arrivals { type: 'arrivals', latencies: Float64Array, missing: number }
export interface ClientStatus {
  type: 'status'
  open: number
  closed: number
  errors: number
  /** Heartbeat comments received, over all streams. */
  heartbeats: number
  /** When each heartbeat round reached the first stream (nowMs). */
  heartbeatRounds: number[]
  /** CPU the load generator has used (user + system), ms. */
  cpuMs: number
}
export type FromClients = Opened | Arrivals | ClientStatus

const CLIENTS = fileURLToPath(new URL('./stream-clients.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const running = new Set<ChildProcess>()
process.on('exit', () => { for (const child of running) child.kill('SIGKILL') })

export interface StreamClients {
  pid: number
  open (base: string, groups: StreamGroup[], concurrency?: number): Promise<Opened>
  /** Wait until every stream has an event at or past `revision` (at most `timeoutMs` after the call). */
  arrivals (revision: number, ackMs: number, timeoutMs: number): Promise<Arrivals>
  status (): Promise<ClientStatus>
  /** Close every stream and end the process. */
  close (): Promise<void>
}

export async function startStreamClients (): Promise<StreamClients> {
  const child = fork(CLIENTS, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: 'inherit' })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve() }))
  const ask = async <T extends FromClients>(message: ToClients, type: T['type']): Promise<T> => new Promise<T>((resolve, reject) => {
    const onMessage = (m: FromClients): void => { if (m.type === type) { done(); resolve(m as T) } }
    const onExit = (): void => { done(); reject(new Error('the stream clients process exited')) }
    const done = (): void => { child.off('message', onMessage); child.off('exit', onExit) }
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.send(message)
  })
  await new Promise<void>((resolve, reject) => { child.once('spawn', resolve); child.once('error', reject) })
  return {
    pid: child.pid!,
    open: async (base, groups, concurrency = 256) => ask<Opened>({ type: 'open', base, groups, concurrency }, 'opened'),
    arrivals: async (revision, ackMs, timeoutMs) => ask<Arrivals>({ type: 'await', revision, ackMs, timeoutMs }, 'arrivals'),
    status: async () => ask<ClientStatus>({ type: 'status' }, 'status'),
    async close () {
      if (child.connected) child.send({ type: 'close' })
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(force)
    }
  }
}

export interface Spread { n: number, min: number, p50: number, p99: number, max: number }

/** Nearest-rank percentiles of the finite values (NaN, a missing arrival, is left out: count those apart). */
export function spread (values: Iterable<number>): Spread {
  const xs = [...values].filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  const at = (p: number): number => xs[Math.max(0, Math.ceil(p * xs.length) - 1)] ?? Number.NaN
  return { n: xs.length, min: xs[0] ?? Number.NaN, p50: at(0.5), p99: at(0.99), max: xs.at(-1) ?? Number.NaN }
}

export const ms = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${x.toFixed(1)} ms`)
