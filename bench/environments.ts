/**
 * Environments (SPEC §8: "10 environments × 1,000 flags: evaluate throughput = 1 × 1,000 (same run);
 * memory linear in environments"). 1,000 flags (support/dataset.ts, no subjects) in SQLite files
 * given 1, 2, 5 and 10 environments through the API of a running server (the seeded database has
 * `development` and `production`, the default: 1 deletes `development`, 5 and 10 add env-2 … env-4 /
 * env-9, each created with every flag configured as in the default environment, served off); that
 * server is then stopped, and every measured server is a fresh `node dist/bin/server.js` (default config,
 * log to a file) loading the database from cold.
 * - throughput of `GET /evaluate/{name}` in the default environment, every connection cycling through
 *   10,000 requests over the 1,000 flags: the 1-environment and the 10-environment servers in
 *   alternating rounds, the ratio taken round by round (support/load.ts); each side served by
 *   PROCESSES identical processes, one per round in turn (support/load.ts, `rotating`: one process a
 *   side made the ratio two processes' luck, 63–114 % over the rounds of one run);
 * - memory per environment: a server with 1, 2, 5 and 10 environments, one at a time, each after
 *   every flag has been evaluated once in every environment and MEMORY_WARMUP seconds of load over
 *   the same requests; then RSS and V8 heap used from its
 *   /metrics after a forced full GC (the server exposes none: it runs with `--expose-gc` and a
 *   preloaded SIGUSR2 handler that calls `gc()`), the median of several reads; a least-squares
 *   line through the four points gives MB per environment, and its residuals say whether it is linear.
 * Run: npm run bench:environments   (builds first; DURATION=2, ROUNDS=9 (three per process), CONNECTIONS=32, WARMUP=10 (s per process),
 * PROCESSES=3, FLAGS=1000, MEMORY_WARMUP=3 s of load per memory server, MEMORY_READS=5)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { flagName, loadRequests, requestContexts, seedDataset } from './support/dataset.js'
import {
  alternate, cpuPerRequest, describeLoad, failureReport, failures, loadOptionsFromEnv, processesFromEnv, ratio, rotating, rps, runLoad, verdict, type LoadTarget, type Measured
} from './support/load.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { processCpuMs } from './support/cpu-time.js'
import { startProcesses, startServer, type ServerProcess } from './support/server-process.js'
import { median } from './support/timing.js'

const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 9, connections: 32 })
/** Processes per side of the throughput ratio. */
const PROCESSES = processesFromEnv(3)
const FLAGS = Number(process.env.FLAGS ?? 1_000)
const MEMORY_WARMUP = Number(process.env.MEMORY_WARMUP ?? 3)
const MEMORY_READS = Number(process.env.MEMORY_READS ?? 5)
const REQUESTS = 10_000
const COUNTS = [1, 2, 5, 10] as const
const KEY = 'bench-admin-key-0123456789'
/** What the default environment of a seeded database is called (DEFAULT_ENVIRONMENT unset). */
const DEFAULT = 'production'
/** A forced full GC on SIGUSR2, preloaded into the memory servers (no route of the server collects garbage). */
const GC_ARGS = ['--expose-gc', '--import', 'data:text/javascript,process.on("SIGUSR2",()=>{globalThis.gc();globalThis.gc()})']
const GC_SETTLE_MS = 300
/** Share of the 1-environment throughput below which the target "= 1×" is not met (what bench:scale allows for 10k flags). */
const PARITY = 90

const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-environments-'))
const servers = new Set<ServerProcess>()
try {
  await main()
} finally {
  for (const server of servers) await server.stop()
  rmSync(dir, { recursive: true, force: true })
}

interface Database { count: number, path: string, environments: string[] }

async function main (): Promise<void> {
  printRunHeader(`bench:environments: ${FLAGS.toLocaleString('en-US')} flags; ${describeLoad(OPTIONS)}; ${PROCESSES} processes a side, one per round in turn; ` +
    `memory: ${MEMORY_WARMUP} s of load then the median of ${MEMORY_READS} reads after a forced GC, per server`)
  const prepared = performance.now()
  const databases: Database[] = []
  for (const count of COUNTS) databases.push(await prepare(count))
  console.log(`seeded and configured in ${((performance.now() - prepared) / 1000).toFixed(1)} s: ` +
    databases.map((d) => `${d.count} (${d.environments.join(', ')})`).join('; '))

  const [one, ten] = [databases[0], databases[databases.length - 1]]
  const throughput = await measureThroughput(one, ten)
  const memory: Memory[] = []
  for (const db of databases) memory.push(await measureMemory(db))

  printThroughput(throughput, one, ten)
  printMemory(memory)
  printRunFooter()
}

async function start (db: Database, name: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  const server = await startServer({ DATABASE_URL: `file:${db.path}`, API_KEY: KEY }, join(dir, `${name}.log`), nodeArgs)
  servers.add(server)
  return server
}

async function stop (server: ServerProcess): Promise<void> {
  await server.stop()
  servers.delete(server)
}

/** A request to a server with the admin key; throws unless it answers `expected`. */
async function api (server: ServerProcess, method: string, path: string, expected: number, body?: unknown): Promise<unknown> {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { 'x-api-key': KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} (expected ${expected}) ${text}`)
  return text === '' ? null : JSON.parse(text)
}

async function environmentsOf (server: ServerProcess): Promise<{ keys: string[], defaultKey: string }> {
  const list = await api(server, 'GET', '/environments', 200) as { environments: Array<{ key: string }>, default_environment: string }
  return { keys: list.environments.map((e) => e.key), defaultKey: list.default_environment }
}

/**
 * A database of FLAGS flags with `count` environments, set up through the API of a server that is
 * stopped afterwards: 1 deletes `development`; more add env-2 … env-(count − 1) to the seeded two.
 */
async function prepare (count: number): Promise<Database> {
  const path = join(dir, `${count}-environments.db`)
  await seedDataset(path, { flags: FLAGS, subjects: false })
  const db: Database = { count, path, environments: [] }
  const server = await start(db, `setup-${count}`)
  try {
    const seeded = await environmentsOf(server)
    if (seeded.defaultKey !== DEFAULT || seeded.keys.join() !== 'development,production') {
      throw new Error(`a seeded database has environments ${seeded.keys.join(', ')} (default ${seeded.defaultKey}); expected development, production (default)`)
    }
    if (count === 1) await api(server, 'DELETE', '/environments/development?force=true', 204)
    for (let i = 2; i < count; i++) await api(server, 'POST', '/environments', 201, { key: `env-${i}` })
    db.environments = (await environmentsOf(server)).keys
    if (db.environments.length !== count) throw new Error(`${count} environments wanted, the server lists ${db.environments.join(', ')}`)
  } finally {
    await stop(server)
  }
  return db
}

/** Checks a cold server: it lists the database's environments, and every environment serves a flag. */
async function check (server: ServerProcess, db: Database): Promise<void> {
  const listed = await environmentsOf(server)
  if (listed.keys.join() !== db.environments.join() || listed.defaultKey !== DEFAULT) {
    throw new Error(`the server lists ${listed.keys.join(', ')} (default ${listed.defaultKey}); the database has ${db.environments.join(', ')}`)
  }
  await api(server, 'GET', `/evaluate/${flagName(0)}`, 200)
  for (const env of db.environments) await api(server, 'GET', `/environments/${env}/evaluate/${flagName(FLAGS - 1)}`, 200)
}

async function measureThroughput (one: Database, ten: Database): Promise<Map<string, Measured>> {
  // GET /evaluate/{name} in the default environment: 10,000 contexts over the FLAGS flags.
  const defaultRequests = loadRequests(REQUESTS, FLAGS).get
  const targets: LoadTarget[] = []
  for (const db of [one, ten]) {
    const side = await startProcesses(PROCESSES, async (i) => start(db, `load-${db.count}-${i}`))
    for (const server of side) await check(server, db)
    targets.push(rotating(label(db.count), side, defaultRequests, processCpuMs))
  }
  const results = await alternate(targets, OPTIONS)
  for (const server of [...servers]) await stop(server)
  return results
}

function label (count: number): string { return `${count} environment${count === 1 ? '' : 's'}` }

interface Memory {
  count: number
  /** Medians of the reads, in MB, and their range. */
  rss: number
  rssRange: [number, number]
  heap: number
  heapRange: [number, number]
  warmupRequests: number
  warmupFailures: number
}

/**
 * A cold server on `db`: every flag evaluated once in every environment (prefixed paths, the default
 * environment's too), MEMORY_WARMUP seconds of load over the same requests, then MEMORY_READS reads
 * of its /metrics, each after a forced GC.
 */
async function measureMemory (db: Database): Promise<Memory> {
  const server = await start(db, `memory-${db.count}`, GC_ARGS)
  try {
    await check(server, db)
    const contexts = requestContexts(FLAGS, FLAGS)
    const requests: autocannon.Request[] = db.environments.flatMap((env) => contexts.map(({ context }, i) =>
      ({ method: 'GET', path: `/environments/${env}/evaluate/${flagName(i)}?${new URLSearchParams(context as Record<string, string>)}` })))
    await everyOnce(server, requests)
    const warm = await runLoad({ label: `memory ${db.count}`, base: () => server.base, requests, cpuMs: () => null }, { duration: MEMORY_WARMUP, connections: OPTIONS.connections })
    const rss: number[] = []
    const heap: number[] = []
    for (let i = 0; i < MEMORY_READS; i++) {
      process.kill(server.pid, 'SIGUSR2')
      await new Promise((resolve) => setTimeout(resolve, GC_SETTLE_MS))
      const text = await (await fetch(`${server.base}/metrics`)).text()
      rss.push(metricMb(text, 'flagpost_process_resident_memory_bytes'))
      heap.push(metricMb(text, 'flagpost_nodejs_heap_size_used_bytes'))
    }
    return {
      count: db.count,
      rss: median(rss),
      rssRange: [Math.min(...rss), Math.max(...rss)],
      heap: median(heap),
      heapRange: [Math.min(...heap), Math.max(...heap)],
      warmupRequests: warm.requests.total,
      warmupFailures: failures(warm)
    }
  } finally {
    await stop(server)
  }
}

/** Every request once, 8 at a time, each must answer 200: whatever a server keeps per flag and environment evaluated exists, however slow the machine. */
async function everyOnce (server: ServerProcess, requests: autocannon.Request[]): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < requests.length; i = next++) {
      const res = await fetch(`${server.base}${requests[i].path!}`)
      if (res.status !== 200) throw new Error(`GET ${requests[i].path}: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

function metricMb (text: string, name: string): number {
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]
  if (value === undefined) throw new Error(`/metrics has no ${name}`)
  return Number(value) / 2 ** 20
}

/** Least squares y = a + b·x, with R² and each point's residual. */
function fit (xs: readonly number[], ys: readonly number[]): { slope: number, intercept: number, r2: number, residuals: number[] } {
  const n = xs.length
  const mx = xs.reduce((s, x) => s + x, 0) / n
  const my = ys.reduce((s, y) => s + y, 0) / n
  const sxy = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0)
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0)
  const slope = sxy / sxx
  const intercept = my - slope * mx
  const residuals = xs.map((x, i) => ys[i] - (intercept + slope * x))
  const ssr = residuals.reduce((s, r) => s + r * r, 0)
  const sst = ys.reduce((s, y) => s + (y - my) ** 2, 0)
  return { slope, intercept, r2: sst === 0 ? 1 : 1 - ssr / sst, residuals }
}

function int (n: number): string { return Math.round(n).toLocaleString('en-US') }

function printThroughput (results: Map<string, Measured>, one: Database, ten: Database): void {
  const a = results.get(label(one.count))!
  const b = results.get(label(ten.count))!
  console.log(`\n| round (order) | ${a.target.label} req/s | ${b.target.label} req/s | ${b.target.label} ÷ ${a.target.label} by req/s | by server CPU / request |`)
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (let i = 0; i < a.rounds.length; i++) {
    const byCpu = (100 * a.cpuPerRequest[i]) / b.cpuPerRequest[i]
    console.log(`| ${i + 1} (${i % 2 === 0 ? '1 → 10' : '10 → 1'}) | ${int(rps(a.rounds[i]))} | ${int(rps(b.rounds[i]))} | ` +
      `${((100 * rps(b.rounds[i])) / rps(a.rounds[i])).toFixed(1)} % | ${Number.isNaN(byCpu) ? 'n/a' : `${byCpu.toFixed(1)} %`} |`)
  }

  const r = ratio(b, a)
  const sorted = (m: Measured): number[] => m.rounds.map(rps).sort((x, y) => x - y)
  const spread = (m: Measured): string => { const s = sorted(m); return `${int(s[s.length >> 1])} (${int(s[0])}–${int(s[s.length - 1])})` }
  const lat = (m: Measured): string => `${m.median.latency.p50} / ${m.median.latency.p99}`
  const errs = (m: Measured): number => m.rounds.reduce((n, x) => n + failures(x), 0)
  const spans = (x: { min: number, max: number }): string => (Number.isNaN(x.min) ? 'n/a' : x.min <= 100 && x.max >= 100 ? 'yes' : 'no')
  console.log(`\n| \`GET /evaluate/{name}\`, ${FLAGS.toLocaleString('en-US')} flags, default environment | ${a.target.label} | ${b.target.label} | ${b.target.label} ÷ ${a.target.label} (median of the rounds, range), target = 1× |`)
  console.log('| --- | ---: | ---: | --- |')
  console.log(`| req/s, median round (min–max) | ${spread(a)} | ${spread(b)} | ${r.rps.text} by req/s; 100 % within the range: ${spans(r.rps)} |`)
  console.log(`| server CPU µs / request, median | ${cpuPerRequest(a)} | ${cpuPerRequest(b)} | ${r.cpu.text} by CPU; 100 % within the range: ${spans(r.cpu)} |`)
  console.log(`| p50 / p99 ms (median round); errors + non-2xx | ${lat(a)}; ${errs(a)} | ${lat(b)}; ${errs(b)} | ${verdict(r, PARITY)} |`)
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
}

function printMemory (memory: Memory[]): void {
  const xs = memory.map((m) => m.count)
  const rss = fit(xs, memory.map((m) => m.rss))
  const heap = fit(xs, memory.map((m) => m.heap))
  const mb = (x: number): string => x.toFixed(1)
  const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`
  console.log(`\n| environments × ${FLAGS.toLocaleString('en-US')} flags | RSS MB, median (min–max) | RSS residual from the line | V8 heap used MB, median (min–max) | heap residual from the line | warm-up: 1 pass over flags × environments + requests of the load (errors + non-2xx) |`)
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |')
  memory.forEach((m, i) => {
    console.log(`| ${m.count} | ${mb(m.rss)} (${mb(m.rssRange[0])}–${mb(m.rssRange[1])}) | ${signed(rss.residuals[i])} | ` +
      `${mb(m.heap)} (${mb(m.heapRange[0])}–${mb(m.heapRange[1])}) | ${signed(heap.residuals[i])} | ${int(m.count * FLAGS)} + ${int(m.warmupRequests)} (${m.warmupFailures}) |`)
  })
  const steps = (pick: (m: Memory) => number): string => memory.slice(1)
    .map((m, i) => `${memory[i].count}→${m.count}: ${((pick(m) - pick(memory[i])) / (m.count - memory[i].count)).toFixed(2)}`).join(', ')
  const line = (name: string, f: ReturnType<typeof fit>, pick: (m: Memory) => number): string =>
    `| ${name} | **${f.slope.toFixed(2)}** | ${mb(f.intercept)} | ${f.r2.toFixed(4)} | ${Math.max(...f.residuals.map(Math.abs)).toFixed(1)} | ${steps(pick)} |`
  console.log('\n| least squares through the 4 points | MB per environment | MB at 0 environments | R² | largest residual MB | MB per environment, step by step |')
  console.log('| --- | ---: | ---: | ---: | ---: | --- |')
  console.log(line('RSS', rss, (m) => m.rss))
  console.log(line('V8 heap used', heap, (m) => m.heap))
}
