/**
 * Bulk evaluation (issue 17): every flag for one context, the request a web provider (OFREP bulk) or
 * a backend warming its cache (`POST /evaluate`) makes, on a real `node dist/server.js` in the default
 * configuration (info logging to a file, SQLite), the load generator (autocannon) in this process and
 * the server in its own.
 * 1. 350 flags (Unleash Edge's "large dataset"): OFREP `POST /ofrep/v1/evaluate/flags` and
 *    `POST /evaluate` against a bare Fastify process answering the same bodies (support/bare-server.ts),
 *    alternating rounds; req/s against Unleash Edge's 6,900 req/s per CPU.
 * 2. Cost growth: the same OFREP bulk request on servers holding 10, 100, 1,000 and 10,000 flags,
 *    alternating rounds: server CPU per request and per flag.
 * Every request carries one of CONTEXTS contexts (users, countries, versions, e-mails: support/dataset.ts).
 * Run: npm run bench:bulk   (builds first; DURATION=2, ROUNDS=7, CONNECTIONS=32, WARMUP=10 (s per process), FLAGS=350,
 * SIZES=10,100,1000,10000, CONTEXTS=100, PARTS=bulk,growth)
 */
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { requestContexts, seedDataset } from './support/dataset.js'
import { alternate, cpuPerRequest, describeLoad, failureReport, loadOptionsFromEnv, useWrk, loadRow, LOAD_HEADER, ratio, rpsSpread, type LoadTarget, type Measured } from './support/load.js'
import { pinCores } from './support/cores.js'
import { printRunFooter, printRunHeader, sampleLoad } from './support/machine.js'
import { processCpuMs } from './support/cpu-time.js'
import { startBareServer, startServer, withServers, type BenchRun, type ServerProcess } from './support/server-process.js'
import { median } from './support/timing.js'

const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 7, connections: 32 })
const FLAGS = Number(process.env.FLAGS ?? 350)
const SIZES = (process.env.SIZES ?? '10,100,1000,10000').split(',').map(Number)
const CONTEXTS = Number(process.env.CONTEXTS ?? 100)
const PARTS = (process.env.PARTS ?? 'bulk,growth').split(',')
const KEY = 'bench-write-key-0123456789'
/** Unleash Edge's published figure: `/api/frontend`, 350 features, one CPU. */
const EDGE_RPS = 6_900

await withServers('flagpost-bench-bulk-', main)

/** The two bulk requests for each context: OFREP (targetingKey) and POST /evaluate (user_id). */
function bulkRequests (): { ofrep: autocannon.Request[], evaluate: autocannon.Request[] } {
  const contexts = requestContexts(CONTEXTS, 1).map(({ context }) => context)
  const post = (path: string, body: unknown): autocannon.Request => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return {
    ofrep: contexts.map(({ user_id: targetingKey, ...rest }) => post('/ofrep/v1/evaluate/flags', { context: { targetingKey, ...rest } })),
    evaluate: contexts.map((context) => post('/evaluate', { context }))
  }
}

/** A Flagpost server over a new SQLite file with `flags` flags of the dataset's ten kinds. */
async function flagpostWith ({ dir, servers }: BenchRun, flags: number): Promise<ServerProcess> {
  const db = join(dir, `${flags}.db`)
  await seedDataset(db, { flags, subjects: false })
  const server = await startServer({ DATABASE_URL: `file:${db}`, API_KEY: KEY }, join(dir, `${flags}.log`))
  servers.push(server)
  return server
}

/** What the server answers to `request`: a 200, or the bench stops. */
async function answer (server: ServerProcess, request: autocannon.Request): Promise<string> {
  const res = await fetch(`${server.base}${request.path!}`, { method: request.method, headers: request.headers as Record<string, string>, body: request.body as string })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${request.method} ${request.path}: ${res.status} ${text.slice(0, 500)}`)
  return text
}

function target (label: string, server: ServerProcess, requests: autocannon.Request[]): LoadTarget {
  return { label, base: () => server.base, requests, cpuMs: () => processCpuMs(server.pid) }
}

async function main (run: BenchRun): Promise<void> {
  printRunHeader(`bench:bulk: ${describeLoad(OPTIONS)}; load from ${await useWrk()}; ${pinCores()}; ${CONTEXTS} contexts`)
  const requests = bulkRequests()
  if (PARTS.includes('bulk')) await bulk(run, requests)
  if (PARTS.includes('growth')) await growth(run, requests.ofrep)
  printRunFooter()
}

async function bulk (run: BenchRun, requests: ReturnType<typeof bulkRequests>): Promise<void> {
  const flagpost = await flagpostWith(run, FLAGS)
  const ofrepBody = await answer(flagpost, requests.ofrep[0])
  const evaluateBody = await answer(flagpost, requests.evaluate[0])
  const bare = await startBareServer([
    { method: 'POST', url: '/ofrep/v1/evaluate/flags', body: JSON.parse(ofrepBody) },
    { method: 'POST', url: '/evaluate', body: JSON.parse(evaluateBody) }
  ], run.dir)
  run.servers.push(bare)
  const kib = (s: string): string => `${(Buffer.byteLength(s) / 1024).toFixed(1)} KiB`
  console.log(`\n${FLAGS} flags: the OFREP bulk answer is ${kib(ofrepBody)}, POST /evaluate's ${kib(evaluateBody)} (first context)`)

  const load = sampleLoad()
  const results = await alternate([
    target('bare OFREP bulk', bare, [requests.ofrep[0]]),
    target('flagpost OFREP bulk', flagpost, requests.ofrep),
    target('bare POST /evaluate', bare, [requests.evaluate[0]]),
    target('flagpost POST /evaluate', flagpost, requests.evaluate)
  ], OPTIONS)
  const during = load()
  const labels: Record<string, string> = {
    'bare OFREP bulk': 'bare Fastify process, the same OFREP body',
    'flagpost OFREP bulk': `Flagpost OFREP \`POST /ofrep/v1/evaluate/flags\`, ${FLAGS} flags`,
    'bare POST /evaluate': 'bare Fastify process, the same `POST /evaluate` body',
    'flagpost POST /evaluate': `Flagpost \`POST /evaluate\`, ${FLAGS} flags`
  }
  console.log(`\n${LOAD_HEADER}`)
  for (const [label, m] of results) console.log(loadRow(labels[label], m))

  console.log(`\n| figure | req/s min / median / max over ${OPTIONS.rounds} rounds | ÷ bare, same rounds: by req/s; by CPU | target |\n| --- | ---: | ---: | --- |`)
  for (const [flagpostLabel, bareLabel] of [['flagpost OFREP bulk', 'bare OFREP bulk'], ['flagpost POST /evaluate', 'bare POST /evaluate']]) {
    const m = results.get(flagpostLabel)!
    const r = ratio(m, results.get(bareLabel)!)
    const medianRps = m.median.requests.average
    console.log(`| ${labels[flagpostLabel]} | ${rpsSpread(m)} | ${r.rps.text}; ${r.cpu.text} | ≥ ${EDGE_RPS.toLocaleString('en-US')} req/s: ${medianRps >= EDGE_RPS ? '**met**' : '**not met**'} |`)
  }
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
  console.log(`\n${during}`)
  for (const server of [flagpost, bare]) await server.stop()
}

async function growth (run: BenchRun, ofrep: autocannon.Request[]): Promise<void> {
  const sized: Array<{ flags: number, server: ServerProcess }> = []
  for (const flags of SIZES) sized.push({ flags, server: await flagpostWith(run, flags) })
  for (const { flags, server } of sized) {
    const flagsAnswered = (JSON.parse(await answer(server, ofrep[0])) as { flags: unknown[] }).flags.length
    if (flagsAnswered !== flags) throw new Error(`${flags} flags: the bulk answer has ${flagsAnswered}`)
  }
  const load = sampleLoad()
  const results = await alternate(sized.map(({ flags, server }) => target(`${flags}`, server, ofrep)), OPTIONS)
  const during = load()
  const cpuOf = (m: Measured): number => median(m.cpuPerRequest)
  const base = cpuOf(results.get(`${SIZES[0]}`)!)
  console.log(`\n| flags | req/s min / median / max | server CPU µs / request (median) | µs per flag | µs per flag beyond the ${SIZES[0]}-flag request |\n| ---: | ---: | ---: | ---: | ---: |`)
  for (const { flags } of sized) {
    const m = results.get(`${flags}`)!
    const cpu = cpuOf(m)
    const beyond = flags === SIZES[0] ? '' : ((cpu - base) / (flags - SIZES[0])).toFixed(3)
    console.log(`| ${flags.toLocaleString('en-US')} | ${rpsSpread(m)} | ${cpuPerRequest(m)} | ${(cpu / flags).toFixed(3)} | ${beyond} |`)
  }
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
  console.log(`\n${during}`)
}
