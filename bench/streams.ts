/**
 * Event streams (SPEC §12), measured with real server processes (dist/bin/server.js, default config:
 * info logging to a file or pipe) and the streams held by a separate load-generator process
 * (support/stream-clients.ts):
 * 1. Cross-instance delivery: two servers on one Postgres schema; STREAMS_B streams on B (half OFREP
 *    through the token URL a bulk evaluation on B advertises, half GET /events with the key); WRITES
 *    writes on A one at a time; latency from each write's acknowledgement to its event on every
 *    stream. With Redis (poll 60 s: only the feed explains delivery) and without (poll 1000 ms, each
 *    write after a random 0–1000 ms pause so that writes fall anywhere in the poll's cycle).
 * 2. Scale: one server (SQLite file) with STREAMS streams (half OFREP, half /events): connect time, RSS
 *    added, FANOUT writes 500 ms apart and the arrival of each at every stream, the server's CPU per
 *    fan-out; then GET /evaluate/{name} on it against a second, identical server without streams, in
 *    alternating rounds (support/load.ts), read against the same pair's ratio before the streams were held
 *    (each server first serves the same streams and writes once: `serveStreamsOnce`)
 *    (two processes of one build differ for their whole life), then on the same server with its streams
 *    closed and reopened in turn (one process: no process-to-process spread), then both servers loaded at once
 *    on their one core with the streams open and closed in turn (the machine's swings cancel).
 *    STREAM_HEARTBEAT_MS is the default, 15 s.
 * Run: npm run bench:streams   (builds first; DATABASE_URL=postgres://…, REDIS_URL, WRITES=200, STREAMS_B=50,
 * STREAMS=10000, FANOUT=20, SAME_ROUNDS=6, SHARED_CYCLES=4, SHARED_ROUNDS=5, PARTS=delivery,scale, PROFILE=1 (both scale servers under --cpu-prof: where the time goes,
 * not figures to record), and support/load.ts's DURATION=2, ROUNDS=7, CONNECTIONS=32, WARMUP=10 s per process)
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CLUSTER_KEY, startCluster } from '../test/support/cluster.js'
import { dropSchema, isolatedUrl } from '../test/support/postgres.js'
import { mainThreadCpuMs, processCpuMs } from './support/cpu-time.js'
import { alternate, cpuPerRequest, sharedCoreRatios, describeLoad, failureReport, loadOptionsFromEnv, loadRow, measuredRun, ratio, useWrk, verdict, type LoadTarget, type Ratio } from './support/load.js'
import { pinCores } from './support/cores.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { startServer, type ServerProcess } from './support/server-process.js'
import type { Window } from './support/cpu-profile.js'
import { streamProfileReport } from './support/stream-profile.js'
import { ms, nowMs, spread, startStreamClients, type StreamClients, type StreamGroup } from './support/stream-load.js'
import { median } from './support/timing.js'

const PG = process.env.DATABASE_URL?.startsWith('postgres') === true ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/test'
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const WRITES = Number(process.env.WRITES ?? 200)
const STREAMS_B = Number(process.env.STREAMS_B ?? 50)
const STREAMS = Number(process.env.STREAMS ?? 10_000)
const FANOUT = Number(process.env.FANOUT ?? 20)
const SPACING_MS = 500
const HEARTBEAT_MS = 15_000
const PARTS = (process.env.PARTS ?? 'delivery,scale').split(',')
// Both scale servers under `node --cpu-prof` (the profiler costs time: its figures are not the bench's).
const PROFILE = process.env.PROFILE === '1'
/** Rounds of the same-server comparison: its streams open, then closed (or the reverse), in each. */
const SAME_ROUNDS = Number(process.env.SAME_ROUNDS ?? 6)
/** Cycles of the shared-core comparison (streams open, then closed, or the reverse) and rounds per reading. */
const SHARED_CYCLES = Number(process.env.SHARED_CYCLES ?? 4)
const SHARED_ROUNDS = Number(process.env.SHARED_ROUNDS ?? 5)
const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 7, connections: 32 })
const KEY = 'bench-write-key-0123456789'
const FLAG_PATH = '/evaluate/checkout?user_id=carol&country=DE'

const int = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Half the streams OFREP (the token URL a bulk evaluation advertises: what a browser opens), half GET /events with the key. */
async function streamGroups (base: string, key: string, count: number): Promise<StreamGroup[]> {
  const res = await fetch(`${base}/ofrep/v1/evaluate/flags`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ context: { targetingKey: 'bench' } })
  })
  const body = await res.json() as { eventStreams?: Array<{ endpoint: { requestUri: string } }> }
  const path = body.eventStreams?.[0]?.endpoint.requestUri
  if (res.status !== 200 || path === undefined) throw new Error(`bulk evaluation: ${res.status}, no event stream advertised`)
  return [
    { kind: 'ofrep', path, headers: {}, count: Math.ceil(count / 2) },
    { kind: 'changes', path: '/events', headers: { 'x-api-key': key }, count: Math.floor(count / 2) }
  ]
}

interface Write { sentMs: number, ackMs: number, revision: number }

/** PUT the bench flag's value; acknowledged when the answer's head arrives; its revision from GET /changes (not timed). */
async function write (base: string, key: string, value: string): Promise<Write> {
  const headers = { 'content-type': 'application/json', 'x-api-key': key }
  const sentMs = nowMs()
  const res = await fetch(`${base}/flags/bench`, { method: 'PUT', headers, body: JSON.stringify({ default_value: value }) })
  const ackMs = nowMs()
  if (!res.ok) throw new Error(`PUT /flags/bench: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
  const changes = await (await fetch(`${base}/changes?limit=1&flag=bench`, { headers })).json() as { changes: Array<{ revision: number }> }
  return { sentMs, ackMs, revision: changes.changes[0].revision }
}

async function createFlags (base: string, key: string): Promise<void> {
  for (const body of [{ name: 'bench', type: 'string', default_value: 'v0' },
    { name: 'checkout', default_value: true, targeting_rules: { user_ids: ['alice', 'bob'], percentage: 50 } }]) {
    const res = await fetch(`${base}/flags`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(body) })
    if (res.status !== 201) throw new Error(`POST /flags: ${res.status} ${await res.text()}`)
  }
}

/** Wait until the server counts `expected` open streams (closes reach it a little after the clients close). */
async function awaitOpenStreams (base: string, expected: number): Promise<void> {
  const until = nowMs() + 30_000
  while (await metric(base, 'flagpost_streams_open') !== expected) {
    if (nowMs() > until) throw new Error(`the server did not reach ${expected} open streams`)
    await sleep(100)
  }
}

/** A server's resident set and V8 heap used, now. */
interface MemoryReading { rss: ReturnType<ServerProcess['memory']>, heap: number }
const memoryNow = async (server: ServerProcess): Promise<MemoryReading> =>
  ({ rss: server.memory(), heap: await metric(server.base, 'flagpost_nodejs_heap_size_used_bytes') })

/** A server's memory before its first streams opened, and with them open. */
interface FirstStreams { before: MemoryReading, open: MemoryReading }

/**
 * One server's first stream traffic, before anything is measured: STREAMS streams opened, FANOUT
 * writes delivered to them, the streams closed. The requests that open streams take the same
 * functions as a `GET /evaluate` (Fastify's request path, the hooks, the handler wrapper) with other
 * routes' objects, and V8 deoptimizes and recompiles those functions for both (`--trace-deopt`: "wrong
 * map" in preHandlerCallback, Reply.send, requestCompleted, environmentOf…), once, for the process's
 * life. A server that has only ever answered one route is compiled for that route alone, so the
 * server compared against the one holding streams must have served the same streams before.
 */
async function serveStreamsOnce (server: ServerProcess): Promise<FirstStreams> {
  const { base } = server
  const clients = await startStreamClients()
  let memory: FirstStreams
  try {
    await sleep(1000)
    const before = await memoryNow(server)
    const opened = await clients.open(base, await streamGroups(base, KEY, STREAMS))
    if (opened.failed > 0) throw new Error(`${opened.failed} streams failed to open`)
    await sleep(1000)
    memory = { before, open: await memoryNow(server) }
    for (let i = 1; i <= FANOUT; i++) {
      const w = await write(base, KEY, `first-${i}`)
      await clients.arrivals(w.revision, w.ackMs, 10_000)
    }
  } finally {
    await clients.close()
  }
  await awaitOpenStreams(base, 0)
  return memory
}

/** A counter or gauge of the server's /metrics, summed over its labels. */
async function metric (base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text()
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0)
}

// ---- 1. Cross-instance delivery ----

async function delivery (label: string, env: Record<string, string>, { timeoutMs, pauseMs }: { timeoutMs: number, pauseMs: number }): Promise<string> {
  const { url, schema } = isolatedUrl(PG)
  const cluster = await startCluster(2, { DATABASE_URL: url, ...env })
  let clients: StreamClients | undefined
  try {
    const [a, b] = cluster.nodes
    await cluster.write(a, 'POST', '/flags', { name: 'bench', type: 'string', default_value: 'v0' })
    clients = await startStreamClients()
    const groups = await streamGroups(b.base, CLUSTER_KEY, STREAMS_B)
    const opened = await clients.open(b.base, groups)
    if (opened.failed > 0) throw new Error(`${opened.failed} streams on B failed (statuses ${opened.statuses.join(', ')})`)
    // An announcement A makes while its Redis command connection still reconnects is lost (pub/sub
    // is at most once): measure only once a write on A has reached B's streams. Counted, not hidden.
    let probes = 0
    for (let live = false; !live; probes++) {
      if (probes === 20) throw new Error('no write on A reached the streams on B')
      const w = await write(a.base, CLUSTER_KEY, `probe-${probes}`)
      live = (await clients.arrivals(w.revision, w.ackMs, env.REDIS_URL === undefined ? 3000 : 1000)).missing === 0
    }
    const all: number[] = []
    const byKind: number[][] = groups.map(() => [])
    let late = 0
    let latePairs = 0
    const roundTrips: number[] = []
    for (let i = 1; i <= WRITES; i++) {
      if (pauseMs > 0) await sleep(Math.random() * pauseMs)
      const w = await write(a.base, CLUSTER_KEY, `v${i}`)
      roundTrips.push(w.ackMs - w.sentMs)
      const { latencies, missing } = await clients.arrivals(w.revision, w.ackMs, timeoutMs)
      if (missing > 0) { late++; latePairs += missing }
      let at = 0
      groups.forEach((g, k) => { for (let j = 0; j < g.count; j++, at++) { all.push(latencies[at]); byKind[k].push(latencies[at]) } })
    }
    const dropped = await metric(b.base, 'flagpost_streams_dropped_total')
    const s = spread(all)
    const [ofrep, changes] = byKind.map((xs) => spread(xs))
    const rt = spread(roundTrips)
    return `| ${label} | ${WRITES} × ${STREAMS_B} | ${ms(s.p50)} | **${ms(s.p99)}** | ${ms(s.max)} | ${ms(s.min)} | ${ms(ofrep.p99)} / ${ms(changes.p99)} | ` +
      `${late} writes (${latePairs} pairs) | ${probes - 1} | ${dropped} | ${ms(rt.p50)} / ${ms(rt.p99)} |`
  } finally {
    await clients?.close()
    await cluster.stop()
    await dropSchema(PG, schema)
  }
}

// ---- 2. Scale ----

async function scale (dir: string): Promise<void> {
  const env = (file: string): Record<string, string> =>
    ({ DATABASE_URL: `file:${join(dir, file)}`, API_KEY: KEY, STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS) })
  const servers: ServerProcess[] = []
  let clients: StreamClients | undefined
  try {
    const profileArgs = (name: string): string[] => (PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : [])
    const s = await startServer(env('streams.db'), join(dir, 'streams.log'), profileArgs('profile-streams'))
    servers.push(s)
    const q = await startServer(env('quiet.db'), join(dir, 'quiet.log'), profileArgs('profile-quiet'))
    servers.push(q)
    for (const server of servers) await createFlags(server.base, KEY)
    // The two start with the same history: each has served STREAMS streams and FANOUT writes once.
    // What the streams add to a process's memory is read here, at their first opening: memory a process
    // has once grown for streams stays with it (reused when streams reopen), so a second opening adds less.
    const firstStreams = await serveStreamsOnce(s)
    await serveStreamsOnce(q)
    const plain = (label: string, server: ServerProcess): LoadTarget =>
      ({ label, base: () => server.base, requests: [{ method: 'GET', path: FLAG_PATH }], cpuMs: () => processCpuMs(server.pid) })
    // The same two processes before the streams are held (after OPTIONS' warm-up each): their own ratio, which
    // the comparison with streams is read against. Two processes of one build differ by up to 15 % for their
    // whole life (bench/README.md, "How the HTTP figures are taken"), more than the streams' own cost.
    const before = await alternate([plain('streams', s), plain('none', q)], OPTIONS)
    const pairBefore = ratio(before.get('streams')!, before.get('none')!)
    await sleep(1000)
    const rssBefore = s.memory()

    clients = await startStreamClients()
    const groups = await streamGroups(s.base, KEY, STREAMS)
    const cpuConnect = processCpuMs(s.pid)
    const opened = await clients.open(s.base, groups)
    const connectCpu = (processCpuMs(s.pid) ?? Number.NaN) - (cpuConnect ?? Number.NaN)
    const connectedAt = nowMs()
    await sleep(1000)
    const rssConnected = s.memory()
    const openOnServer = await metric(s.base, 'flagpost_streams_open')

    // Fan-out: FANOUT writes, each SPACING_MS after the previous one's acknowledgement (later if its delivery took longer).
    const all: number[] = []
    const byKind: number[][] = groups.map(() => [])
    const perWrite: Array<{ last: number, from: number, to: number }> = []
    const cpuPerWrite: number[] = []
    const genCpuPerWrite: number[] = []
    let missingPairs = 0
    const fanoutStart = nowMs()
    for (let i = 1; i <= FANOUT; i++) {
      const cpu0 = processCpuMs(s.pid) ?? Number.NaN
      const gen0 = (await clients.status()).cpuMs
      const w = await write(s.base, KEY, `v${i}`)
      const { latencies, missing } = await clients.arrivals(w.revision, w.ackMs, 10_000)
      cpuPerWrite.push((processCpuMs(s.pid) ?? Number.NaN) - cpu0)
      genCpuPerWrite.push((await clients.status()).cpuMs - gen0)
      missingPairs += missing
      let at = 0
      groups.forEach((g, k) => { for (let j = 0; j < g.count; j++, at++) { all.push(latencies[at]); byKind[k].push(latencies[at]) } })
      perWrite.push({ last: spread(latencies).max, from: w.sentMs, to: w.ackMs + spread(latencies).max })
      const wait = w.ackMs + SPACING_MS - nowMs()
      if (wait > 0) await sleep(wait)
    }
    const fanoutEnd = nowMs()
    const rssFanout = s.memory()
    // The server without streams takes the same writes, so that the two differ only by the streams.
    for (let i = 1; i <= FANOUT; i++) await write(q.base, KEY, `v${i}`)

    // Throughput with STREAMS idle streams open against none: the rounds' windows are noted (cpuMs is read right before and after each recorded round).
    const windows = new Map<string, Array<[number, number]>>()
    // The main thread's share of the CPU, summed over the recorded rounds (the rest: GC helper and libuv threads).
    const mainCpu = new Map<string, number>()
    const target = (label: string, server: ServerProcess): LoadTarget => {
      const marks: number[] = []
      let mainBefore = 0
      windows.set(label, [])
      mainCpu.set(label, 0)
      return {
        label,
        base: () => server.base,
        requests: [{ method: 'GET', path: FLAG_PATH }],
        cpuMs: () => {
          marks.push(nowMs())
          const main = mainThreadCpuMs(server.pid) ?? Number.NaN
          if (marks.length % 2 === 0) {
            windows.get(label)!.push([marks.at(-2)!, marks.at(-1)!])
            mainCpu.set(label, mainCpu.get(label)! + main - mainBefore)
          } else mainBefore = main
          return processCpuMs(server.pid)
        }
      }
    }
    const results = await alternate([target('streams', s), target('none', q)], OPTIONS)
    const rssLoaded = s.memory()
    const mainPerRequest = (label: string): number => (1000 * mainCpu.get(label)!) / results.get(label)!.rounds.reduce((n, x) => n + x.requests.total, 0)
    const after = await clients.status()
    const droppedOnServer = await metric(s.base, 'flagpost_streams_dropped_total')

    const mb = (m: { rssMb: number } | null): string => (m === null ? 'n/a' : `${m.rssMb.toFixed(1)} MB`)
    const lat = spread(all)
    const [ofrep, changes] = byKind.map((xs) => spread(xs))
    console.log(`\n#### 2. ${int(STREAMS)} streams on one server (SQLite file, default config: LOG_LEVEL info, heartbeat ${HEARTBEAT_MS / 1000} s)\n`)
    console.log('| measure | figure |\n| --- | --- |')
    console.log(`| streams opened (${groups.map((g) => `${int(g.count)} ${g.kind}`).join(' + ')}), 256 handshakes at a time | ${int(opened.ok)} ok, ${opened.failed} failed; server counts ${int(openOnServer)} open |`)
    console.log(`| connect time: first connect → every \`: connected\` preamble | ${(opened.ms / 1000).toFixed(2)} s (per stream: p50 ${ms(opened.handshakeMs.p50)}, max ${ms(opened.handshakeMs.max)}); server CPU ${int(connectCpu)} ms |`)
    const added = (from: MemoryReading['rss'], to: MemoryReading['rss']): string =>
      (from === null || to === null ? 'n/a' : `${(to.rssMb - from.rssMb).toFixed(1)} MB, ${((1024 * (to.rssMb - from.rssMb)) / STREAMS).toFixed(1)} KB per stream`)
    console.log(`| RSS added by the server's first ${int(STREAMS)} streams (open − before, fresh process) | **${added(firstStreams.before.rss, firstStreams.open.rss)}**; RSS ${mb(firstStreams.before.rss)} → ${mb(firstStreams.open.rss)}; V8 heap used ${(firstStreams.before.heap / 2 ** 20).toFixed(1)} → ${(firstStreams.open.heap / 2 ** 20).toFixed(1)} MB |`)
    console.log(`| server RSS for the measured streams (their second opening): before / open / after the fan-out / after the throughput rounds | ${mb(rssBefore)} / ${mb(rssConnected)} / ${mb(rssFanout)} / ${mb(rssLoaded)}: ${added(rssBefore, rssConnected)} added |`)
    console.log(`| fan-out: write acknowledged → event at every stream, ${FANOUT} writes × ${int(STREAMS)} streams | p50 ${ms(lat.p50)}, **p99 ${ms(lat.p99)}**, max ${ms(lat.max)} (min ${ms(lat.min)}); ${missingPairs} missing after 10 s; target p99 ≤ 250 ms: ${lat.p99 <= 250 && missingPairs === 0 ? '**met**' : '**not met**'} |`)
    console.log(`| … by kind: OFREP / /events | p50 ${ms(ofrep.p50)} / ${ms(changes.p50)}, p99 ${ms(ofrep.p99)} / ${ms(changes.p99)} |`)
    const lasts = perWrite.map((w) => w.last)
    const withHeartbeat = (w: { from: number, to: number }): boolean => after.heartbeatRounds.some((t) => t >= w.from && t <= w.to + 200)
    console.log(`| … last stream reached, per write: median (min–max); each write in order (* a heartbeat round reached the streams meanwhile) | ${ms(median(lasts))} (${ms(Math.min(...lasts))} – ${ms(Math.max(...lasts))}); ` +
      `${perWrite.map((w) => `${w.last.toFixed(0)}${withHeartbeat(w) ? '*' : ''}`).join(', ')} ms |`)
    console.log(`| server CPU per write and fan-out (10 ms ticks), median (min–max) | ${int(median(cpuPerWrite))} ms (${int(Math.min(...cpuPerWrite))}–${int(Math.max(...cpuPerWrite))}); ${((1000 * median(cpuPerWrite)) / STREAMS).toFixed(1)} µs per stream; ${int(cpuPerWrite.reduce((a, b) => a + b, 0))} ms over the ${FANOUT} writes |`)
    console.log(`| load generator CPU per fan-out, median | ${int(median(genCpuPerWrite))} ms |`)
    console.log(`| after everything: streams open at the client / closed / errors; dropped by the server | ${int(after.open)} / ${after.closed} / ${after.errors}; ${droppedOnServer} |`)

    console.log(`\n${describeLoad(OPTIONS)}; GET ${FLAG_PATH}\n`)
    console.log('| target | req/s, median round | req/s, best round | p50 / p99 ms (median round) | server CPU µs / request | errors + non-2xx |\n| --- | ---: | ---: | ---: | ---: | ---: |')
    console.log(loadRow(`\`GET /evaluate/{name}\`, ${int(STREAMS)} idle streams open`, results.get('streams')!))
    console.log(loadRow('`GET /evaluate/{name}`, identical server, no streams', results.get('none')!))
    const r = ratio(results.get('streams')!, results.get('none')!)
    console.log('\n| same-run ratio | by req/s: median of the rounds (range) | by server CPU per request: median (range) | target |\n| --- | ---: | ---: | --- |')
    console.log(`| the same two processes before the streams were held, each having served ${int(STREAMS)} streams once (the first ÷ the second) | ${pairBefore.rps.text} | ${pairBefore.cpu.text} | |`)
    console.log(`| ${int(STREAMS)} streams ÷ none | ${r.rps.text} | ${r.cpu.text} | ${verdict(r, 90)} |`)
    const against = (x: Ratio, y: Ratio): Ratio => {
      const median = (100 * x.median) / y.median
      return { median, min: Number.NaN, max: Number.NaN, text: `${median.toFixed(1)} %` }
    }
    const corrected = { rps: against(r.rps, pairBefore.rps), cpu: against(r.cpu, pairBefore.cpu) }
    console.log(`| … read against the pair's own ratio before (the line above ÷ the first line, medians) | ${corrected.rps.text} | ${corrected.cpu.text} | ${verdict(corrected, 90)} |`)
    const failed = failureReport(results)
    if (failed !== '') console.log(`\n${failed}`)

    // The same comparison on one process: the server above with its streams open and with them closed, in
    // turn. The two servers above are two processes, and two processes of one build differ by up to 15 %
    // for their whole life (bench/README.md, "How the HTTP figures are taken").
    const sameServer = plain('same server', s)
    const measure = async (): Promise<{ rps: number, cpu: number }> => {
      const [round, cpu] = await measuredRun(sameServer, OPTIONS)
      return { rps: round.requests.average, cpu }
    }
    /** Open the streams server's STREAMS streams if they are closed, close them if they are open. */
    const toggleStreams = async (): Promise<void> => {
      if (clients === undefined) {
        clients = await startStreamClients()
        const again = await clients.open(s.base, groups)
        if (again.failed > 0) throw new Error(`${again.failed} streams failed to reopen`)
        await awaitOpenStreams(s.base, STREAMS)
      } else {
        await clients.close()
        clients = undefined
        await awaitOpenStreams(s.base, 0)
      }
      await sleep(1000)
    }
    /** `count` times: `read` in the streams' present state, open or close them, `read` again; each pair by state. */
    const bothWays = async <T>(count: number, read: () => Promise<T>): Promise<Array<{ open: T, closed: T }>> => {
      const pairs: Array<{ open: T, closed: T }> = []
      for (let i = 0; i < count; i++) {
        const firstOpen = clients !== undefined
        const first = await read()
        await toggleStreams()
        const second = await read()
        pairs.push(firstOpen ? { open: first, closed: second } : { open: second, closed: first })
      }
      return pairs
    }
    const same = await bothWays(SAME_ROUNDS, measure)
    if (same.length > 0) {
      const pct = (xs: number[]): string => `${median(xs).toFixed(1)} % (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} %)`
      const byRps = same.map((x) => (100 * x.open.rps) / x.closed.rps)
      const byCpu = same.map((x) => (100 * x.closed.cpu) / x.open.cpu)
      const met = (xs: number[]): string => (median(xs) >= 90 ? '**met**' : '**not met**')
      console.log('\n| same-server ratio | by req/s: median of the rounds (range) | by server CPU per request: median (range) | target |\n| --- | ---: | ---: | --- |')
      console.log(`| the same server, its ${int(STREAMS)} streams open ÷ closed, ${same.length} rounds (each both ways, in turn) | ${pct(byRps)} | ${pct(byCpu)} | ≥ 90 %: ${met(byRps)} by req/s, ${met(byCpu)} by CPU |`)
    }

    // The two servers loaded at once on their shared core (support/load.ts, `sharedCoreRatios`), the streams
    // server's streams open and closed in turn: the machine's swings cancel within each round, the pair's own
    // ratio within each cycle. Each cycle: the pair's median ratio one way, then the other.
    const sharedOptions = { rounds: SHARED_ROUNDS, duration: OPTIONS.duration, connections: OPTIONS.connections }
    const pairNow = async (): Promise<number> => median(await sharedCoreRatios(plain('streams', s), plain('none', q), sharedOptions))
    const cycles = await bothWays(SHARED_CYCLES, pairNow)
    if (cycles.length > 0) {
      const effect = cycles.map((c) => (100 * c.open) / c.closed)
      const mid = median(effect)
      console.log(`\n| both servers loaded at once on one core (${SHARED_ROUNDS} rounds of ${OPTIONS.duration} s per reading) | figure | target |\n| --- | --- | --- |`)
      console.log(`| the pair's ratio (streams server ÷ the other), its streams open / closed, per cycle | ${cycles.map((c) => `${(100 * c.open).toFixed(1)} / ${(100 * c.closed).toFixed(1)} %`).join('; ')} | |`)
      console.log(`| open ÷ closed, ${cycles.length} cycles: median (range) | **${mid.toFixed(1)} %** (${Math.min(...effect).toFixed(1)}–${Math.max(...effect).toFixed(1)} %) | ≥ 90 %: ${mid >= 90 ? '**met**' : '**not met**'} |`)
    }

    // Heartbeats: when each round reached the first stream, against the measurement windows.
    const inside = (t: number, [from, to]: [number, number]): boolean => t >= from && t <= to + 200
    const rel = (t: number): string => `+${((t - connectedAt) / 1000).toFixed(1)} s`
    const hits = after.heartbeatRounds.map((t) => {
      const where = [
        inside(t, [fanoutStart, fanoutEnd]) ? 'during the fan-out' : '',
        ...[...windows].flatMap(([label, ws]) => ws.flatMap((w, i) => (inside(t, w) ? [`during throughput round ${i + 1} (${label})`] : [])))
      ].filter((x) => x !== '')
      return `${rel(t)}${where.length > 0 ? ` (${where.join(', ')})` : ''}`
    })
    if (PROFILE) {
      for (const server of servers) await server.stop()
      const us = ([from, to]: [number, number]): Window => ({ startUs: from * 1000, endUs: to * 1000 })
      const requests = (label: string): number => results.get(label)!.rounds.reduce((n, x) => n + x.requests.total, 0)
      console.log(`\n${streamProfileReport({
        streamsDir: join(dir, 'profile-streams'),
        quietDir: join(dir, 'profile-quiet'),
        fanout: us([fanoutStart, fanoutEnd]),
        streamsRounds: windows.get('streams')!.map(us),
        quietRounds: windows.get('none')!.map(us),
        streamsRequests: requests('streams'),
        quietRequests: requests('none')
      })}`)
    }
    console.log(`\nheartbeat rounds (times after all streams connected): ${hits.length === 0 ? 'none' : hits.join('; ')}; ` +
      `${int(after.heartbeats)} heartbeats received over all streams; fan-out ${rel(fanoutStart)} – ${rel(fanoutEnd)}; ` +
      `server CPU per request in the rounds, median: ${cpuPerRequest(results.get('streams')!)} µs with streams, ${cpuPerRequest(results.get('none')!)} µs without; ` +
      `main thread alone, over all rounds: ${mainPerRequest('streams').toFixed(1)} µs with streams, ${mainPerRequest('none').toFixed(1)} µs without ` +
      `(${((100 * mainPerRequest('none')) / mainPerRequest('streams')).toFixed(1)} %)`)
  } finally {
    await clients?.close()
    for (const server of servers) await server.stop()
  }
}

/** The commit measured, and whether src/ differed from it (dist/ is built from the working tree). */
function codeState (): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8' }).trim()
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter((l) => l !== '').length
    return `${git('rev-parse', '--short', 'HEAD')}${dirty > 0 ? ` + ${dirty} uncommitted file(s) in src/` : ''}`
  } catch { return 'unknown' }
}

printRunHeader(`bench:streams: servers in their own processes (dist/bin/server.js), streams held by a separate load-generator process; code ${codeState()}`)
if (PARTS.includes('delivery')) {
  console.log('\n#### 1. Cross-instance delivery: 2 server processes on one Postgres schema, write on A, streams on B\n')
  console.log('| mode | writes × streams | p50 | p99 | max | min | p99 OFREP / /events | not delivered in time | probe writes lost before measuring | dropped on B | the write on A: round trip p50 / p99 |')
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |')
  console.log(await delivery('Redis pub/sub (poll 60 s; timeout 3 s)', { REDIS_URL: REDIS, CACHE_REFRESH_MS: '60000' }, { timeoutMs: 3000, pauseMs: 0 }))
  console.log(await delivery('no Redis, poll every 1000 ms (random 0–1 s pause before each write; timeout 5 s)', { CACHE_REFRESH_MS: '1000' }, { timeoutMs: 5000, pauseMs: 1000 }))
}
if (PARTS.includes('scale')) {
  // The delivery part's servers share the machine as instances would; here the server under test gets core 1.
  console.log(`\n(scale: load from ${await useWrk()}; ${pinCores()})`)
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-streams-'))
  try { await scale(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
}
printRunFooter()
