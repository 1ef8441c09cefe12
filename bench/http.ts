/**
 * HTTP benchmark: `GET /evaluate/{name}` and OFREP single (`POST /ofrep/v1/evaluate/flags/{key}`) on
 * Flagpost as `npm start` runs it: a real `node dist/bin/server.js` in the default configuration (LOG_LEVEL
 * unset, so info; its stdout to a file; SQLite), and a second one on the same database with REDIS_URL
 * (subscribed to the change feed); against a bare Fastify process (support/bare-server.ts) answering
 * the same JSON. Each server in its own process, the load from wrk (support/load.ts), targets
 * alternating round by round; CPU per request from /proc for each server process. Each target is
 * served by PROCESSES identical processes, one per round in turn (support/load.ts, `rotating`).
 * Run: npm run bench:http   (builds first; DURATION=2 s per round, ROUNDS=9 (three per process), CONNECTIONS=32, WARMUP=10 s per process, PROCESSES=3,
 * REDIS_URL=redis://127.0.0.1:6379; TARGETS='flagpost GET,flagpost OFREP' measures only those targets;
 * PROFILE_DIR=dir runs the Flagpost servers under --cpu-prof into dir/<target>: what bench:profile does)
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { pinCores } from './support/cores.js'
import { printRunFooter, printRunHeader, sampleLoad } from './support/machine.js'
import { alternate, describeLoad, failureReport, LOAD_HEADER, loadOptionsFromEnv, processesFromEnv, useWrk, loadRow, ratio, rotating, verdict, type LoadTarget } from './support/load.js'
import { processCpuMs } from './support/cpu-time.js'
import { redisClientsOf } from './support/redis-clients.js'
import { startBareServer, startProcesses, startServer, withServers, type BenchRun, type ServerProcess } from './support/server-process.js'

const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 9, connections: 32 })
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const ONLY = process.env.TARGETS
const PROFILE_DIR = process.env.PROFILE_DIR
/** Processes per target (one profiled process when profiling: bench:profile reads one profile). */
const PROCESSES = processesFromEnv(PROFILE_DIR === undefined ? 3 : 1)
const KEY = 'bench-write-key-0123456789'
/** SPEC §8 / issue 17: the default configuration's GET /evaluate against the bare route. */
const TARGET_PERCENT = 85

await withServers('flagpost-bench-http-', main)

async function main ({ dir, servers }: BenchRun): Promise<void> {
  printRunHeader(`bench:http: ${describeLoad(OPTIONS)}; ${PROCESSES} processes per target, one per round in turn; load from ${await useWrk()}; ${pinCores()}`)
  const env = { DATABASE_URL: `file:${join(dir, 'bench.db')}`, API_KEY: KEY }
  const flagpost = async (label: string, extra: Record<string, string> = {}): Promise<ServerProcess> => {
    const server = await startServer({ ...env, ...extra }, join(dir, `${label}.log`), PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, label)}`])
    servers.push(server)
    return server
  }
  const plain = await flagpost('flagpost')
  const created = await fetch(`${plain.base}/flags`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'checkout', default_value: true, targeting_rules: { user_ids: ['alice', 'bob'], percentage: 50 } })
  })
  if (created.status !== 201) throw new Error(`creating the flag: ${created.status} ${await created.text()}`)
  const withRedis = await flagpost('flagpost-redis', { REDIS_URL })
  const plains = [plain, ...await startProcesses(PROCESSES - 1, async (i) => flagpost(`flagpost-${i + 1}`))]
  const withRedises = [withRedis, ...await startProcesses(PROCESSES - 1, async (i) => flagpost(`flagpost-redis-${i + 1}`, { REDIS_URL }))]

  const get: autocannon.Request = { method: 'GET', path: '/evaluate/checkout?user_id=carol&country=DE' }
  const ofrep: autocannon.Request = {
    method: 'POST',
    path: '/ofrep/v1/evaluate/flags/checkout',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context: { targetingKey: 'carol', country: 'DE' } })
  }
  const answer = async (server: ServerProcess, r: autocannon.Request): Promise<string> => {
    const res = await fetch(`${server.base}${r.path!}`, { method: r.method, headers: r.headers as Record<string, string>, body: r.body as string })
    const text = await res.text()
    if (res.status !== 200) throw new Error(`${r.method} ${r.path}: ${res.status} ${text}`)
    return text
  }
  const getBody = await answer(plain, get)
  const ofrepBody = await answer(plain, ofrep)
  for (const r of [get, ofrep]) {
    for (const other of [...plains, ...withRedises]) {
      if (await answer(other, r) !== await answer(plain, r)) throw new Error(`${r.path}: another instance answers differently`)
    }
  }
  // The bare routes: Fastify's defaults (no logger), the same JSON (the POST body is parsed as JSON too), nothing else.
  const bareRoutes = [
    { method: 'GET' as const, url: '/evaluate/:name', body: JSON.parse(getBody) },
    { method: 'POST' as const, url: '/ofrep/v1/evaluate/flags/:key', body: JSON.parse(ofrepBody) }
  ]
  const bares: ServerProcess[] = []
  for (let i = 0; i < PROCESSES; i++) bares.push(await startBareServer(bareRoutes, dir, `bare-${i}`))
  servers.push(...bares)

  const target = (label: string, processes: ServerProcess[], request: autocannon.Request): LoadTarget =>
    rotating(label, processes, [request], processCpuMs)
  const targets = [
    target('bare Fastify GET', bares, get),
    target('flagpost GET', plains, get),
    target('flagpost+redis GET', withRedises, get),
    target('bare Fastify OFREP', bares, ofrep),
    target('flagpost OFREP', plains, ofrep),
    target('flagpost+redis OFREP', withRedises, ofrep)
  ].filter((t) => ONLY === undefined || ONLY.split(',').includes(t.label))

  const redisBefore = await redisClientsOf(REDIS_URL, withRedis.pid)
  const loadStart = performance.now()
  const load = sampleLoad()
  const windowStartUs = Number(process.hrtime.bigint() / 1000n)
  const results = await alternate(targets, OPTIONS)
  // For bench:profile: when the load ran, on the clock V8 stamps the servers' profile samples with.
  if (PROFILE_DIR !== undefined) writeFileSync(join(PROFILE_DIR, 'load-window.json'), JSON.stringify({ startUs: windowStartUs, endUs: Number(process.hrtime.bigint() / 1000n) }))
  const during = load()
  const loadSeconds = (performance.now() - loadStart) / 1000
  const redisAfter = await redisClientsOf(REDIS_URL, withRedis.pid)

  const labels: Record<string, string> = {
    'bare Fastify GET': 'bare Fastify process (no logger), same JSON',
    'flagpost GET': 'Flagpost `GET /evaluate/{name}` (50 % split, user outside it)',
    'flagpost+redis GET': 'Flagpost `GET /evaluate/{name}`, with `REDIS_URL` (subscribed to the change feed)',
    'bare Fastify OFREP': 'bare Fastify process, `POST` route (JSON body parsed), same JSON',
    'flagpost OFREP': 'Flagpost OFREP `POST /ofrep/v1/evaluate/flags/{key}`',
    'flagpost+redis OFREP': 'Flagpost OFREP single, with `REDIS_URL`'
  }
  console.log(LOAD_HEADER)
  for (const [label, m] of results) console.log(loadRow(labels[label], m))
  const pairs: Array<[string, string, string]> = [
    ['GET /evaluate, no Redis ÷ bare', 'flagpost GET', 'bare Fastify GET'],
    ['GET /evaluate, with Redis ÷ bare', 'flagpost+redis GET', 'bare Fastify GET'],
    ['OFREP single, no Redis ÷ bare', 'flagpost OFREP', 'bare Fastify OFREP'],
    ['OFREP single, with Redis ÷ bare', 'flagpost+redis OFREP', 'bare Fastify OFREP'],
    ['GET /evaluate, with Redis ÷ without (hot path unchanged: ~100 %)', 'flagpost+redis GET', 'flagpost GET'],
    ['OFREP single, with Redis ÷ without (hot path unchanged: ~100 %)', 'flagpost+redis OFREP', 'flagpost OFREP']
  ]
  console.log('\n| same-run ratio | by req/s: median of the rounds (range) | by server CPU per request: median (range) | target |\n| --- | ---: | ---: | --- |')
  for (const [label, a, b] of pairs) {
    const x = results.get(a)
    const y = results.get(b)
    if (x === undefined || y === undefined) continue
    const r = ratio(x, y)
    console.log(`| ${label} | ${r.rps.text} | ${r.cpu.text} | ${label.startsWith('GET') && label.includes('÷ bare') ? verdict(r, TARGET_PERCENT) : label.includes('÷ bare') ? verdict(r, 70) : ''} |`)
  }
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
  reportRedis(redisBefore, redisAfter, loadSeconds)
  console.log(`\n${during}`)
  printRunFooter()
}

/**
 * What the Redis instance's connections did while the load ran: Redis records each connection's
 * last command (`cmd`) and seconds since it last sent or received anything (`idle`). The
 * subscriber's idle time is reset by messages other processes publish; its last command is not.
 */
function reportRedis (before: Array<Record<string, string>>, after: Array<Record<string, string>>, loadSeconds: number): void {
  if (after.length === 0) { console.log('\nRedis: no connection of the Redis instance found in CLIENT LIST (not Linux?)'); return }
  const unchanged = after.every((c) => before.some((b) => b.id === c.id && b.cmd === c.cmd))
  const describe = (c: Record<string, string>): string => `${c.name?.replace(/-[0-9a-f-]{36}$/, '')}: last command \`${c.cmd}\`, idle ${c.idle} s of age ${c.age} s`
  console.log(`\nRedis connections of the Redis instance's process after ${loadSeconds.toFixed(0)} s of load: ${after.map(describe).join('; ')}. ` +
    (unchanged ? 'Same connections, same last command as before the load: the evaluation path sent Redis nothing.' : 'Their last command changed during the load.'))
}
