/**
 * Bulk evaluation (issue 17): every flag for one context, the request a web provider (OFREP bulk) or
 * a backend warming its cache (`POST /evaluate`) makes, on a real `node dist/bin/server.js` in the default
 * configuration (info logging to a file, SQLite), the load from wrk (support/load.ts), each server in
 * a process of its own.
 * 1. 350 flags (Unleash Edge's "large dataset"): OFREP `POST /ofrep/v1/evaluate/flags` and
 *    `POST /evaluate`, on the default configuration (answers kept per context) and on a server of the
 *    same file that keeps none (`BULK_CACHE_MB=0`), against a bare Fastify process answering the same
 *    bodies (support/bare-server.ts; serialized per request, and as bytes made once), alternating
 *    rounds; req/s against Unleash Edge's 6,900 req/s per CPU. Contexts that ask again (CONTEXTS of
 *    them, cycled: a web provider's poll) and, for OFREP, contexts that do not (NEW_CONTEXTS, the
 *    next 8,192 per run, so none asks again while the server remembers it), these on PROCESSES servers
 *    of each kind of their own (default and `BULK_CACHE_MB=0`), one per round in turn.
 * 2. Cost growth: the same OFREP bulk request on servers holding 10, 100, 1,000 and 10,000 flags that
 *    keep no answers, PROCESSES of each size one per round in turn, alternating rounds: server CPU per
 *    request and per flag.
 * Contexts: users, countries, versions, e-mails (support/dataset.ts).
 * Run: npm run bench:bulk   (builds first; DURATION=2, ROUNDS=7, CONNECTIONS=32, WARMUP=10 (s per process), FLAGS=350,
 * SIZES=10,100,1000,10000, CONTEXTS=100, NEW_CONTEXTS=40960, PROCESSES=3, PARTS=bulk,growth)
 */
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { bulkRequests, seedDataset } from './support/dataset.js'
import { alternate, cpuPerRequest, rotating, describeLoad, failureReport, loadOptionsFromEnv, processesFromEnv, useWrk, loadRow, LOAD_HEADER, ratio, rpsSpread, type LoadTarget, type Measured } from './support/load.js'
import { pinCores } from './support/cores.js'
import { printRunFooter, printRunHeader, sampleLoad } from './support/machine.js'
import { processCpuMs } from './support/cpu-time.js'
import { startBareServer, startProcesses, startServer, withServers, type BenchRun, type ServerProcess } from './support/server-process.js'
import { median } from './support/timing.js'

const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 7, connections: 32 })
const FLAGS = Number(process.env.FLAGS ?? 350)
const SIZES = (process.env.SIZES ?? '10,100,1000,10000').split(',').map(Number)
const CONTEXTS = Number(process.env.CONTEXTS ?? 100)
/**
 * What one run (warm-up or round) of those requests cycles through: far more contexts than the server
 * remembers between two asks (about as many as its budget holds answers: ~380 at 350 flags), and each
 * run takes the next slice, so a context comes back only after the server has forgotten it.
 */
const SLICE = 8192
/** Contexts for the requests that do not ask again (at most 50,000: the dataset's users), taken SLICE at a time. */
const NEW_CONTEXTS = Number(process.env.NEW_CONTEXTS ?? 5 * SLICE)
const PARTS = (process.env.PARTS ?? 'bulk,growth').split(',')
/** Processes per side for the contexts that do not ask again, and per size for the growth (one per round in turn). */
const PROCESSES = processesFromEnv(3)
const KEY = 'bench-write-key-0123456789'
/** Unleash Edge's published figure: `/api/frontend`, 350 features, one CPU. */
const EDGE_RPS = 6_900

await withServers('flagpost-bench-bulk-', main)

/** The SQLite file of a run's servers holding `flags` flags. */
function dbOf ({ dir }: BenchRun, flags: number): string { return join(dir, `${flags}.db`) }

/** A Flagpost server over a new SQLite file with `flags` flags of the dataset's ten kinds (`env` added to its environment). */
async function flagpostWith (run: BenchRun, flags: number, env: Record<string, string> = {}): Promise<ServerProcess> {
  const db = dbOf(run, flags)
  await seedDataset(db, { flags, subjects: false })
  return flagpostOn(run.servers, run.dir, db, `${flags}`, env)
}

/** A Flagpost server over an existing SQLite file. */
async function flagpostOn (servers: ServerProcess[], dir: string, db: string, label: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer({ DATABASE_URL: `file:${db}`, API_KEY: KEY, ...env }, join(dir, `${label}.log`))
  servers.push(server)
  return server
}

/** PROCESSES Flagpost servers over the existing SQLite file of `flags` flags, for a target served by them in turn (`rotating`). */
async function processesOn (run: BenchRun, flags: number, label: string, env: Record<string, string>): Promise<ServerProcess[]> {
  return startProcesses(PROCESSES, async (i) => flagpostOn(run.servers, run.dir, dbOf(run, flags), `${label}-${i}`, env))
}

/** What the server answers to `request`: a 200, or the bench stops. */
async function answer (server: ServerProcess, request: autocannon.Request): Promise<string> {
  const res = await fetch(`${server.base}${request.path!}`, { method: request.method, headers: request.headers as Record<string, string>, body: request.body as string })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${request.method} ${request.path}: ${res.status} ${text.slice(0, 500)}`)
  return text
}

function target (label: string, server: ServerProcess, requests: autocannon.Request[]): LoadTarget {
  return { label, base: () => server.base, requests, cpuMs: () => processCpuMs(server.pid), pid: () => server.pid }
}

/** A target served by `servers` in turn (`rotating`) whose every run takes the next SLICE of `requests` (whose length is a multiple of it). */
function neverAgain (label: string, servers: ServerProcess[], requests: autocannon.Request[]): LoadTarget {
  if (requests.length % SLICE !== 0 || requests.length < 3 * SLICE) throw new Error(`NEW_CONTEXTS must be a multiple of ${SLICE}, at least ${3 * SLICE}`)
  let start = 0
  const slicing = rotating(label, servers, requests.slice(0, SLICE), processCpuMs)
  const nextProcess = slicing.rotate!
  slicing.rotate = () => {
    nextProcess()
    start = (start + SLICE) % requests.length
    slicing.requests = requests.slice(start, start + SLICE)
  }
  // The run that settles a process before its recorded one takes the next slice, which the next process
  // is recorded on: its own cache never sees those contexts twice in a row.
  slicing.settleRequests = () => requests.slice((start + SLICE) % requests.length, (start + SLICE) % requests.length + SLICE)
  return slicing
}

async function main (run: BenchRun): Promise<void> {
  printRunHeader(`bench:bulk: ${describeLoad(OPTIONS)}; load from ${await useWrk()}; ${pinCores()}; ${CONTEXTS} contexts asking again, ${NEW_CONTEXTS.toLocaleString('en-US')} that do not`)
  if (PARTS.includes('bulk')) await bulk(run)
  if (PARTS.includes('growth')) await growth(run, bulkRequests(CONTEXTS).ofrep)
  printRunFooter()
}

/**
 * 350 flags: both bulk routes on the default configuration (answers kept per context, BULK_CACHE_MB)
 * and on a second server of the same file that keeps none, for CONTEXTS contexts that ask again (a
 * web provider's poll) and, for OFREP, NEW_CONTEXTS that do not come back while remembered; against the
 * bare process answering the same bodies, serialized per request and as bytes made once.
 */
async function bulk (run: BenchRun): Promise<void> {
  const again = bulkRequests(CONTEXTS)
  const once = bulkRequests(NEW_CONTEXTS)
  const flagpost = await flagpostWith(run, FLAGS)
  const unkept = await flagpostOn(run.servers, run.dir, dbOf(run, FLAGS), 'unkept', { BULK_CACHE_MB: '0' })
  // The contexts that do not ask again are served by PROCESSES servers of each kind of their own, one
  // per round in turn: two processes of one build differ by ±20 % for as long as they run, more than
  // what keeping answers could cost a request that finds none (2026-12-03: one process that keeps them
  // against one that does not, two pairs in one run, read 117 % and 76 %).
  const fresh = await processesOn(run, FLAGS, 'new', {})
  const freshUnkept = await processesOn(run, FLAGS, 'unkept-new', { BULK_CACHE_MB: '0' })
  const ofrepBody = await answer(flagpost, again.ofrep[0])
  const evaluateBody = await answer(flagpost, again.evaluate[0])
  for (const other of [unkept, ...fresh, ...freshUnkept]) {
    if (await answer(other, again.evaluate[0]) !== evaluateBody) throw new Error('two servers answer one context differently')
  }
  const bare = await startBareServer([
    { method: 'POST', url: '/ofrep/v1/evaluate/flags', body: JSON.parse(ofrepBody) },
    { method: 'POST', url: '/evaluate', body: JSON.parse(evaluateBody) },
    { method: 'POST', url: '/bytes/ofrep/v1/evaluate/flags', body: JSON.parse(ofrepBody), bytes: true },
    { method: 'POST', url: '/bytes/evaluate', body: JSON.parse(evaluateBody), bytes: true }
  ], run.dir)
  run.servers.push(bare)
  const kib = (s: string): string => `${(Buffer.byteLength(s) / 1024).toFixed(1)} KiB`
  console.log(`\n${FLAGS} flags: the OFREP bulk answer is ${kib(ofrepBody)}, POST /evaluate's ${kib(evaluateBody)} (first context)`)

  const bytes = (request: autocannon.Request): autocannon.Request => ({ ...request, path: `/bytes${request.path!}` })
  const labels: Record<string, string> = {
    'bare OFREP': 'bare Fastify process, the same OFREP body, serialized per request',
    'bare OFREP bytes': 'bare Fastify process, the same OFREP body as bytes made once',
    'flagpost OFREP': `Flagpost OFREP \`POST /ofrep/v1/evaluate/flags\`, ${FLAGS} flags, ${CONTEXTS} contexts asking again`,
    'unkept OFREP': '… the same with `BULK_CACHE_MB=0` (nothing kept)',
    'flagpost OFREP new': `… ${NEW_CONTEXTS.toLocaleString('en-US')} contexts that do not ask again (${PROCESSES} processes in turn)`,
    'unkept OFREP new': `… ${NEW_CONTEXTS.toLocaleString('en-US')} contexts that do not ask again, \`BULK_CACHE_MB=0\` (${PROCESSES} processes in turn)`,
    'bare evaluate': 'bare Fastify process, the same `POST /evaluate` body, serialized per request',
    'bare evaluate bytes': 'bare Fastify process, the same `POST /evaluate` body as bytes made once',
    'flagpost evaluate': `Flagpost \`POST /evaluate\`, ${FLAGS} flags, ${CONTEXTS} contexts asking again`,
    'unkept evaluate': '… the same with `BULK_CACHE_MB=0` (nothing kept)'
  }
  const load = sampleLoad()
  const results = await alternate([
    target('bare OFREP', bare, [again.ofrep[0]]),
    target('bare OFREP bytes', bare, [bytes(again.ofrep[0])]),
    target('flagpost OFREP', flagpost, again.ofrep),
    target('unkept OFREP', unkept, again.ofrep),
    neverAgain('flagpost OFREP new', fresh, once.ofrep),
    neverAgain('unkept OFREP new', freshUnkept, once.ofrep),
    target('bare evaluate', bare, [again.evaluate[0]]),
    target('bare evaluate bytes', bare, [bytes(again.evaluate[0])]),
    target('flagpost evaluate', flagpost, again.evaluate),
    target('unkept evaluate', unkept, again.evaluate)
  ], OPTIONS)
  const during = load()
  console.log(`\n${LOAD_HEADER}`)
  for (const [label, m] of results) console.log(loadRow(labels[label], m))

  console.log(`\n| figure | req/s min / median / max over ${OPTIONS.rounds} rounds | ÷ the baseline, same rounds: by req/s; by CPU | baseline | target |\n| --- | ---: | ---: | --- | --- |`)
  const rows: Array<[string, string, boolean]> = [
    ['flagpost OFREP', 'bare OFREP bytes', true],
    ['flagpost OFREP', 'unkept OFREP', false],
    ['unkept OFREP', 'bare OFREP', false],
    ['flagpost OFREP new', 'unkept OFREP new', false],
    ['flagpost evaluate', 'bare evaluate bytes', true],
    ['flagpost evaluate', 'unkept evaluate', false],
    ['unkept evaluate', 'bare evaluate', false]
  ]
  for (const [label, baseline, edge] of rows) {
    const m = results.get(label)!
    const r = ratio(m, results.get(baseline)!)
    const medianRps = m.median.requests.average
    const verdict = edge ? `≥ ${EDGE_RPS.toLocaleString('en-US')} req/s: ${medianRps >= EDGE_RPS ? '**met**' : '**not met**'}` : ''
    console.log(`| ${labels[label]} | ${rpsSpread(m)} | ${r.rps.text}; ${r.cpu.text} | ${labels[baseline]} | ${verdict} |`)
  }
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
  console.log(`\n${during}`)
  for (const server of [flagpost, unkept, ...fresh, ...freshUnkept, bare]) await server.stop()
}

/**
 * Evaluation's cost per flag: servers that keep no answers, so every request evaluates every flag;
 * PROCESSES of them per size, one per round in turn, so that no size's figure is one process's luck.
 */
async function growth (run: BenchRun, ofrep: autocannon.Request[]): Promise<void> {
  const sized: Array<{ flags: number, servers: ServerProcess[] }> = []
  for (const flags of SIZES) {
    await seedDataset(dbOf(run, flags), { flags, subjects: false })
    sized.push({ flags, servers: await processesOn(run, flags, `${flags}`, { BULK_CACHE_MB: '0' }) })
  }
  for (const { flags, servers } of sized) {
    for (const server of servers) {
      const flagsAnswered = (JSON.parse(await answer(server, ofrep[0])) as { flags: unknown[] }).flags.length
      if (flagsAnswered !== flags) throw new Error(`${flags} flags: the bulk answer has ${flagsAnswered}`)
    }
  }
  const load = sampleLoad()
  const results = await alternate(sized.map(({ flags, servers }) => rotating(`${flags}`, servers, ofrep, processCpuMs)), OPTIONS)
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
