/**
 * HTTP load, shared by the HTTP benches: from wrk (support/wrk.ts), a process of its own, when
 * `useWrk` chose it, else from autocannon in a worker thread, never on the event loop of a server in
 * the same process. Targets are measured in rounds, each target once per round, the order reversed
 * every other round (ABBA), so that drift on a shared machine hits all of them alike; comparisons are
 * made round by round.
 */
import autocannon from 'autocannon'
import { underLoad } from './cores.js'
import { runWrk, wrkAvailable } from './wrk.js'

export interface LoadOptions {
  /** Seconds per round and target. */
  duration: number
  rounds: number
  connections: number
  /** Seconds of unrecorded load per process of each target before the first round (JIT, connection setup). */
  warmup: number
  /** Seconds of unrecorded load on a target's process right before each of its recorded runs (SETTLE_S). */
  settle: number
}

export interface LoadTarget {
  label: string
  /** `http://host:port` of the server under load. */
  base: () => string
  /** Cycled through by every connection, in order. */
  requests: autocannon.Request[]
  /** Cumulative CPU ms of what serves the target (support/cpu-time.ts), or null when unknown. */
  cpuMs: () => number | null
  /** The process that serves the target now: given, it has the servers' core to itself while loaded (support/cores.ts, `underLoad`). */
  pid?: () => number
  /**
   * When the target is served by several identical processes in turn (`rotating`): how many, and
   * the move to the next one, made after each run. `base` and `cpuMs` follow it.
   */
  processes?: number
  rotate?: () => void
  /** The requests of the unrecorded run before each recorded one, where they must not be the recorded run's (contexts that must not ask twice). */
  settleRequests?: () => autocannon.Request[]
}

/** One target's load for one round, whichever generator made it. */
export interface Round {
  requests: { average: number, total: number }
  /** ms */
  latency: { p50: number, p99: number }
  errors: number
  timeouts: number
  non2xx: number
  /** Answers by status (autocannon only; wrk counts only what was not 2xx or 3xx). */
  statusCodeStats?: Record<string, { count?: number }>
}

export interface Measured {
  target: LoadTarget
  rounds: Round[]
  /** Server CPU µs per completed request, per round (NaN when unknown). */
  cpuPerRequest: number[]
  /** The round with the median throughput: what the tables report. */
  median: Round
  best: Round
}

/**
 * Seconds of load each server process gets before its rounds. V8 is still compiling a Flagpost process's
 * request path for the first 8–12 s of load (`--trace-opt`: 312 functions optimized in the first 4 s of a
 * `GET` load, 84 in the next 4, none after; throughput rose 22 % meanwhile), and a bare Fastify process, with
 * less code, is done sooner: a shorter warm-up measures the warm-up, against the baseline.
 */
const WARMUP_S = 10
/**
 * Seconds of load a target's process gets, unrecorded, right before each recorded run. Between its runs a
 * process sits idle while the other targets run (about a minute in bench:bulk: ten targets, three processes
 * for some), and V8 shrinks an idle process's heap: 2-s runs of OFREP bulk after 60 s idle served 15–35 % fewer
 * requests than after 2–10 s (2026-12-04, bench/README). A round is meant to measure a process under load.
 */
const SETTLE_S = 1

/** A bench's defaults, overridden by DURATION, ROUNDS, CONNECTIONS, WARMUP (default WARMUP_S) and SETTLE (default SETTLE_S). */
export const loadOptionsFromEnv = (defaults: Omit<LoadOptions, 'warmup' | 'settle'>): LoadOptions => ({
  duration: Number(process.env.DURATION ?? defaults.duration),
  rounds: Number(process.env.ROUNDS ?? defaults.rounds),
  connections: Number(process.env.CONNECTIONS ?? defaults.connections),
  warmup: Number(process.env.WARMUP ?? WARMUP_S),
  settle: Number(process.env.SETTLE ?? SETTLE_S)
})

export const describeLoad = ({ connections, rounds, duration, warmup, settle }: LoadOptions): string =>
  `${connections} connections, ${rounds} rounds × ${duration} s per target (order reversed every other round) after ${warmup} s of warm-up each` +
  (settle > 0 ? `, each run after ${settle} s of unrecorded load on its process` : '')

let generator: 'autocannon' | 'wrk' = 'autocannon'

/**
 * Make the load with wrk from now on, where it is installed and LOADGEN is not `autocannon`; says
 * which generator it is. wrk reads answers for a fraction of autocannon's CPU, which matters when the
 * answers are tens of KiB and the generator shares the machine with the server.
 */
export async function useWrk (): Promise<string> {
  if (process.env.LOADGEN === 'autocannon') return 'autocannon (LOADGEN=autocannon)'
  if (!await wrkAvailable()) return 'autocannon (wrk is not installed: apt-get install wrk)'
  generator = 'wrk'
  return 'wrk, a process of its own'
}

/** Load `target`, its server given core 1 alone when the target names it (`underLoad`). */
export async function runLoad (target: LoadTarget, options: Pick<LoadOptions, 'duration' | 'connections'>): Promise<Round> {
  if (target.pid !== undefined) underLoad([target.pid()])
  return generate(target, options)
}

/** The load itself, wherever the servers are placed now. */
async function generate (target: LoadTarget, { duration, connections }: Pick<LoadOptions, 'duration' | 'connections'>): Promise<Round> {
  if (generator === 'wrk') {
    const w = await runWrk(target.base(), target.requests, { seconds: duration, connections })
    return { requests: { average: w.requests / w.seconds, total: w.requests }, latency: { p50: w.p50, p99: w.p99 }, errors: w.errors, timeouts: w.timeouts, non2xx: w.non2xx }
  }
  return autocannon({ url: target.base(), connections, duration, workers: 1, requests: target.requests })
}

/** One recorded run: the result and the server's CPU µs per completed request. */
export async function measuredRun (target: LoadTarget, options: LoadOptions): Promise<[Round, number]> {
  const before = target.cpuMs()
  const result = await runLoad(target, options)
  const after = target.cpuMs()
  return [result, before === null || after === null ? Number.NaN : ((after - before) * 1000) / result.requests.total]
}

export const rps = (r: Round): number => r.requests.average

export async function alternate (targets: LoadTarget[], options: LoadOptions): Promise<Map<string, Measured>> {
  if (options.warmup > 0) {
    for (const target of targets) {
      for (let i = 0; i < (target.processes ?? 1); i++) { await runLoad(target, { ...options, duration: options.warmup }); target.rotate?.() }
    }
  }
  const rounds = new Map<string, Array<[Round, number]>>(targets.map((t) => [t.label, []]))
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) {
      if (options.settle > 0) await runLoad({ ...target, requests: target.settleRequests?.() ?? target.requests }, { ...options, duration: options.settle })
      rounds.get(target.label)!.push(await measuredRun(target, options))
      target.rotate?.()
    }
  }
  return new Map(targets.map((target) => {
    const results = rounds.get(target.label)!.map(([r]) => r)
    const sorted = [...results].sort((a, b) => rps(a) - rps(b))
    return [target.label, {
      target, rounds: results, cpuPerRequest: rounds.get(target.label)!.map(([, cpu]) => cpu), median: sorted[sorted.length >> 1], best: sorted[sorted.length - 1]
    }]
  }))
}

/**
 * A target served by several identical server processes, one per round in turn: two processes of the
 * same build, started alike, differ in throughput by up to 15 % for as long as they run (on this VM,
 * measured 2026-12-02: 75 % and 88 % of the bare process for two Flagpost processes on one database), so a
 * figure from one process is partly that process's luck. `cpuMs(pid)` is the CPU of one process.
 */
export function rotating (label: string, servers: Array<{ base: string, pid: number }>, requests: autocannon.Request[], cpuMs: (pid: number) => number | null): LoadTarget {
  let i = 0
  return {
    label,
    requests,
    base: () => servers[i].base,
    cpuMs: () => cpuMs(servers[i].pid),
    pid: () => servers[i].pid,
    processes: servers.length,
    rotate: () => { i = (i + 1) % servers.length }
  }
}

/** PROCESSES from the environment (`fallback` when it is unset): how many identical processes a target's rounds go round (`rotating`). */
export function processesFromEnv (fallback: number): number {
  const n = Number(process.env.PROCESSES ?? fallback)
  if (!Number.isInteger(n) || n < 1) throw new Error(`PROCESSES must be a whole number from 1, not ${process.env.PROCESSES}`)
  return n
}

/** autocannon counts a timeout as an error too. */
export const failures = (r: Round): number => r.errors + r.non2xx

/** What failed, over all rounds of each target, or '' when nothing did: socket errors, timeouts, statuses other than 2xx. */
export function failureReport (results: Map<string, Measured>): string {
  const lines: string[] = []
  for (const [label, m] of results) {
    const sum = (f: (r: Round) => number): number => m.rounds.reduce((n, r) => n + f(r), 0)
    if (sum(failures) === 0) continue
    const codes = new Map<string, number>()
    for (const r of m.rounds) {
      for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) if (!code.startsWith('2')) codes.set(code, (codes.get(code) ?? 0) + (count ?? 0))
    }
    lines.push(`${label}: ${sum((r) => r.errors)} socket errors (${sum((r) => r.timeouts)} of them timeouts), ${sum((r) => r.non2xx)} non-2xx` +
      (codes.size > 0 ? ` (${[...codes].map(([c, n]) => `${c}: ${n}`).join(', ')})` : '') +
      ` out of ${sum((r) => r.requests.total).toLocaleString('en-US')} requests`)
  }
  return lines.length === 0 ? '' : `failures: ${lines.join('; ')}`
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Throughput over the rounds, `min / median / max` req/s. */
export const rpsSpread = (m: Measured): string => {
  const sorted = m.rounds.map(rps).sort((a, b) => a - b)
  return `${int(sorted[0])} / ${int(sorted[sorted.length >> 1])} / ${int(sorted[sorted.length - 1])}`
}

const medianOf = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/** The server's CPU µs per request, median over the rounds. */
export const cpuPerRequest = (m: Measured): string => {
  const us = medianOf(m.cpuPerRequest)
  return Number.isNaN(us) ? 'n/a' : us.toFixed(1)
}

export const LOAD_HEADER = '| target | req/s, median round | req/s, best round | p50 / p99 ms (median round) | server CPU µs / request | errors + non-2xx |\n' +
  '| --- | ---: | ---: | ---: | ---: | ---: |'

export const loadRow = (label: string, m: Measured): string =>
  `| ${label} | ${int(rps(m.median))} | ${int(rps(m.best))} | ${m.median.latency.p50} / ${m.median.latency.p99} | ${cpuPerRequest(m)} | ${m.rounds.reduce((n, r) => n + failures(r), 0)} |`

export interface Ratio { median: number, min: number, max: number, text: string }

function summary (perRound: number[]): Ratio {
  const sorted = perRound.filter((x) => !Number.isNaN(x)).sort((x, y) => x - y)
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, text: 'n/a' }
  const median = sorted[sorted.length >> 1]
  const min = sorted[0]
  const max = sorted[sorted.length - 1]
  return { median, min, max, text: `${median.toFixed(1)} % (${min.toFixed(0)}–${max.toFixed(0)} %)` }
}

/**
 * `a`'s throughput as a share of `b`'s, round by round (each round ran both within seconds of each
 * other), two ways: measured req/s, and the inverse ratio of server CPU per request, which is what
 * req/s would be with a core to itself each. Each as the median of the rounds, with their range.
 */
export function ratio (a: Measured, b: Measured): { rps: Ratio, cpu: Ratio } {
  return {
    rps: summary(a.rounds.map((r, i) => (100 * rps(r)) / rps(b.rounds[i]))),
    cpu: summary(a.cpuPerRequest.map((cpu, i) => (100 * b.cpuPerRequest[i]) / cpu))
  }
}

/** "met" / "not met" for a ratio target, by req/s and by CPU per request. */
export function verdict (r: { rps: Ratio, cpu: Ratio }, target: number): string {
  const word = (x: number): string => (Number.isNaN(x) ? 'n/a' : x >= target ? '**met**' : '**not met**')
  return `≥ ${target} %: ${word(r.rps.median)} by req/s, ${word(r.cpu.median)} by CPU`
}

/**
 * Two targets loaded at once, one generator each, for `rounds` rounds of `duration` s: the first's
 * req/s ÷ the second's, per round. With both servers pinned to one core (support/cores.ts), the
 * scheduler shares that core between them, so each round's ratio is the ratio of their speeds whatever
 * the machine's own speed does meanwhile (here one process's CPU per request moved between 17.6 and 52 µs
 * within half an hour, and by 10–30 % within a minute).
 * Fair between two processes of one build only: two different programs evict each other from the core's
 * caches unequally (bench/README.md, "The process-to-process spread").
 */
export async function sharedCoreRatios (a: LoadTarget, b: LoadTarget, { rounds, duration, connections }: Omit<LoadOptions, 'warmup' | 'settle'>): Promise<number[]> {
  const ratios: number[] = []
  // Both on the servers' core at once (when they name their processes), placed once for every round.
  if (a.pid !== undefined && b.pid !== undefined) underLoad([a.pid(), b.pid()])
  for (let round = 0; round < rounds; round++) {
    const [x, y] = await Promise.all([generate(a, { duration, connections }), generate(b, { duration, connections })])
    if (failures(x) + failures(y) > 0) throw new Error(`shared-core round ${round + 1}: ${failures(x)} and ${failures(y)} failed requests`)
    ratios.push(rps(x) / rps(y))
  }
  return ratios
}
