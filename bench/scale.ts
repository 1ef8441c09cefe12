/**
 * Scale (issue 6): 10,000 flags and 100,000 overrides (20,000 customers, 50,000 users) against 10
 * flags, each served by a real `node dist/bin/server.js` in the default config (info logging, SQLite):
 * - throughput of GET /evaluate/{name} and OFREP single, the two sizes in alternating rounds, each
 *   served by PROCESSES identical processes, one per round in turn (the last cold starts' servers; two
 *   processes of one build differ by up to 15 %: support/load.ts, `rotating`), every connection
 *   cycling through 10,000 requests over as many flags (see support/dataset.ts);
 * - cold start: spawn → first 200 from /readyz, several times;
 * - the servers' RSS and V8 heap (/metrics) after the load: the largest of each size's processes.
 * The cold starts are on the whole machine; for the load, wrk (where installed) and core pinning as in bench:http.
 * Run: npm run bench:scale   (builds first; DURATION=2, ROUNDS=9 (three per process), CONNECTIONS=32, WARMUP=10 (s per process), FLAGS=10000, COLD_STARTS=3, PROCESSES=3 (at most COLD_STARTS))
 */
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { KINDS, loadRequests, seedDataset, type DatasetSize } from './support/dataset.js'
import { alternate, cpuPerRequest, describeLoad, failureReport, failures, loadOptionsFromEnv, processesFromEnv, ratio, rotating, useWrk, verdict, type Measured } from './support/load.js'
import { pinCores, pinServer } from './support/cores.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { processCpuMs } from './support/cpu-time.js'
import { startServer, withServers, type BenchRun, type ServerProcess } from './support/server-process.js'
import { median } from './support/timing.js'

const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 9, connections: 32 })
const FLAGS = Number(process.env.FLAGS ?? 10_000)
const REQUESTS = 10_000
const TALLY = 2_000
const COLD_STARTS = Number(process.env.COLD_STARTS ?? 3)
const PROCESSES = processesFromEnv(3)
if (PROCESSES > COLD_STARTS) throw new Error(`PROCESSES must be at most COLD_STARTS (${COLD_STARTS})`)
const KEY = 'bench-write-key-0123456789'

await withServers('flagpost-bench-scale-', main)

interface Case {
  label: string
  size: DatasetSize
  /** The servers of the last PROCESSES cold starts, kept up for the load. */
  servers: ServerProcess[]
  /** Per cold start: wall ms to ready, CPU ms of the main thread and of the whole process by then. */
  starts: number[]
  mainCpu: number[]
  allCpu: number[]
  get: autocannon.Request[]
  ofrep: autocannon.Request[]
}

async function main ({ dir, servers }: BenchRun): Promise<void> {
  printRunHeader(`bench:scale: ${describeLoad(OPTIONS)}; ${PROCESSES} processes per size, one per round in turn; load from ${await useWrk()}`)
  const seeded = performance.now()
  const small = { label: `${KINDS} flags`, path: join(dir, 'small.db'), size: await seedDataset(join(dir, 'small.db'), { flags: KINDS, subjects: false }) }
  const large = { label: `${FLAGS.toLocaleString('en-US')} flags`, path: join(dir, 'large.db'), size: await seedDataset(join(dir, 'large.db'), { flags: FLAGS, subjects: true }) }
  console.log(`seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s: ${describe(large.size)}`)

  // Cold starts, alternating the two databases; the last PROCESSES servers of each stay up for the load.
  const cases: Case[] = []
  for (const { label, size } of [small, large]) cases.push({ label, size, ...loadRequests(REQUESTS, size.flags), starts: [], mainCpu: [], allCpu: [], servers: [] })
  for (let i = 0; i < COLD_STARTS; i++) {
    for (const [c, path] of [[cases[0], small.path], [cases[1], large.path]] as const) {
      const server = await startServer({ DATABASE_URL: `file:${path}`, API_KEY: KEY }, join(dir, `${c.size.flags}.log`))
      c.starts.push(server.readyMs)
      if (server.readyCpuMs !== null) { c.mainCpu.push(server.readyCpuMs.mainThread); c.allCpu.push(server.readyCpuMs.process) }
      if (i < COLD_STARTS - PROCESSES) await server.stop()
      else { c.servers.push(server); servers.push(server) }
    }
  }
  const memoryReady = cases.map((c) => largest(c.servers.map((server) => server.memory())))
  // The cold starts had both cores; the load, like bench:http's, has the load generator on one and the server on the other.
  console.log(pinCores())
  for (const c of cases) for (const server of c.servers) pinServer(server.pid)
  for (const c of cases) for (const server of c.servers) console.log(`${c.label}, pid ${server.pid}: ${await tally(c, server)}`)

  const target = (c: Case, kind: 'get' | 'ofrep') => rotating(`${kind} ${c.label}`, c.servers, c[kind], processCpuMs)
  const results = await alternate([target(cases[0], 'get'), target(cases[1], 'get'), target(cases[0], 'ofrep'), target(cases[1], 'ofrep')], OPTIONS)
  const memoryLoaded = cases.map((c) => largest(c.servers.map((server) => server.memory())))
  const heapLoaded = await Promise.all(cases.map(async (c) => (await Promise.all(c.servers.map(heapOf))).join('; ')))

  const [s, l] = cases
  const m = (kind: string, c: Case): Measured => results.get(`${kind} ${c.label}`)!
  const int = (n: number): string => Math.round(n).toLocaleString('en-US')
  const rps = (x: Measured): string => `${int(x.median.requests.average)} (best ${int(x.best.requests.average)})`
  const lat = (x: Measured): string => `${x.median.latency.p50} / ${x.median.latency.p99}`
  const errs = (x: Measured): number => x.rounds.reduce((n, r) => n + failures(r), 0)
  const met = (ok: boolean): string => (ok ? '**met**' : '**not met**')
  const mb = (x: { rssMb: number, peakMb: number } | null, peak = false): string => (x === null ? 'n/a' : `${x.rssMb.toFixed(0)} MB${peak ? ` (peak ${x.peakMb.toFixed(0)} MB)` : ''}`)
  const startCell = (xs: number[]): string => `${median(xs).toFixed(0)} ms (max ${Math.max(...xs).toFixed(0)})`

  console.log(`\n| measure | ${s.label} | ${l.label} + ${l.size.overrides.toLocaleString('en-US')} overrides | ${l.label} ÷ ${s.label} (median of the rounds, range), target |`)
  console.log('| --- | ---: | ---: | --- |')
  for (const [kind, name] of [['get', '`GET /evaluate/{name}`'], ['ofrep', 'OFREP `POST /ofrep/v1/evaluate/flags/{key}`']]) {
    const r = ratio(m(kind, l), m(kind, s))
    console.log(`| ${name} req/s, median round (best) | ${rps(m(kind, s))} | ${rps(m(kind, l))} | ${r.rps.text} by req/s; ${verdict(r, 90)} |`)
    console.log(`| ${name} server CPU µs / request | ${cpuPerRequest(m(kind, s))} | ${cpuPerRequest(m(kind, l))} | ${r.cpu.text} by CPU |`)
    console.log(`| ${name} p50 / p99 ms (median round); errors + non-2xx | ${lat(m(kind, s))}; ${errs(m(kind, s))} | ${lat(m(kind, l))}; ${errs(m(kind, l))} | |`)
  }
  console.log(`| cold start: spawn → /readyz 200, median of ${COLD_STARTS} | ${startCell(s.starts)} | ${startCell(l.starts)} | ≤ 3 s, every start: ${met(Math.max(...l.starts) <= 3000)} |`)
  if (l.mainCpu.length > 0) {
    const cpuCell = (c: Case): string => `${median(c.mainCpu).toFixed(0)} ms (all threads ${median(c.allCpu).toFixed(0)})`
    console.log(`| CPU the server used until ready, main thread (what the cold start is on an idle core), median | ${cpuCell(s)} | ${cpuCell(l)} | ≤ 3 s ${met(Math.max(...l.mainCpu) <= 3000)} |`)
  }
  console.log(`| RSS when ready (the largest process) | ${mb(memoryReady[0])} | ${mb(memoryReady[1])} | |`)
  const loaded = memoryLoaded[1]
  console.log(`| RSS after the load (the largest process; peak: the largest VmHWM) | ${mb(memoryLoaded[0], true)} | ${mb(loaded, true)} | ≤ 300 MB ${loaded === null ? 'n/a' : met(loaded.rssMb <= 300)} |`)
  console.log(`| V8 heap after the load, each process: total / old generation used (from /metrics) | ${heapLoaded[0]} | ${heapLoaded[1]} | |`)
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
  printRunFooter()
}

/** A server's memory reading (`ServerProcess.memory`): null where /proc could not be read. */
type Memory = ReturnType<ServerProcess['memory']>
/** The largest RSS and the largest peak of a size's processes (the RSS target holds for every one), or null when one could not be read. */
function largest (readings: Memory[]): Memory {
  if (readings.some((r) => r === null)) return null
  const read = readings as Array<NonNullable<Memory>>
  return { rssMb: Math.max(...read.map((r) => r.rssMb)), peakMb: Math.max(...read.map((r) => r.peakMb)) }
}

/** The V8 heap's size and its old generation's use, in MB, from the server's /metrics. */
async function heapOf (server: ServerProcess): Promise<string> {
  const text = await (await fetch(`${server.base}/metrics`)).text()
  const mb = (pattern: RegExp): string => {
    const value = pattern.exec(text)?.[1]
    return value === undefined ? 'n/a' : `${(Number(value) / 2 ** 20).toFixed(0)} MB`
  }
  return `${mb(/^flagpost_nodejs_heap_size_total_bytes (\S+)$/m)} / ${mb(/^flagpost_nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)$/m)}`
}

function describe (size: DatasetSize): string {
  return `${size.flags.toLocaleString('en-US')} flags, ${size.overrides.toLocaleString('en-US')} overrides ` +
    `(${size.customers.toLocaleString('en-US')} customers, ${size.users.toLocaleString('en-US')} users)`
}

/**
 * The first TALLY requests of the mix, GET and OFREP, 8 at a time (every kind of flag 200 times):
 * all must answer 200; what the GETs served, by reason and rule. The load's own non-2xx are counted by autocannon.
 */
async function tally (c: Case, server: ServerProcess): Promise<string> {
  const counts = new Map<string, number>()
  const send = async (r: autocannon.Request): Promise<Response> => {
    const res = await fetch(`${server.base}${r.path!}`, { method: r.method, headers: r.headers as Record<string, string> | undefined, body: r.body as string | undefined })
    if (res.status !== 200) throw new Error(`${r.method} ${r.path}: ${res.status} ${await res.text()}`)
    return res
  }
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < TALLY; i = next++) {
      const { reason, rule } = await (await send(c.get[i])).json() as { reason: string, rule: string }
      const key = `${reason} (${rule.startsWith('rule:') ? 'rule' : rule})`
      counts.set(key, (counts.get(key) ?? 0) + 1)
      await (await send(c.ofrep[i])).arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return `the first ${TALLY.toLocaleString('en-US')} GET and OFREP requests of the mix answer 200; the GETs served ` +
    [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')
}
