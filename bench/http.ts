/**
 * HTTP benchmark: `GET /evaluate/{name}` and OFREP single (`POST /ofrep/v1/evaluate/flags/{key}`) on
 * Flagpost in the default config (info logging, SQLite file), without and with Redis (the instance
 * subscribes to the change feed), against bare Fastify routes returning the same JSON: one process,
 * one run, autocannon in a worker thread, targets alternating round by round.
 * Run: npm run bench:http   (DURATION=2 s per round, ROUNDS=7, CONNECTIONS=32, WARMUP=1 s, REDIS_URL=redis://127.0.0.1:6379;
 * TARGETS='flagpost GET,flagpost OFREP' measures only the targets with those labels: what bench:profile does)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createContainer, type Container } from '../src/container.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { alternate, describeLoad, failureReport, LOAD_HEADER, loadOptionsFromEnv, loadRow, ratio, verdict, type LoadTarget } from './support/load.js'
import { mainThreadCpuMs } from './support/cpu-time.js'
import { ownRedisClients } from './support/redis-clients.js'

const OPTIONS = loadOptionsFromEnv({ duration: 2, rounds: 7, connections: 32, warmup: 1 })
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const ONLY = process.env.TARGETS
const KEY = 'bench-write-key-0123456789'

const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-http-'))
// Whoever opens closes: servers first, then the containers under them.
const apps: FastifyInstance[] = []
const containers: Container[] = []
try {
  await main()
} finally {
  for (const app of apps) await app.close()
  for (const container of containers) await container.close()
  rmSync(dir, { recursive: true, force: true })
}

async function main (): Promise<void> {
  printRunHeader(`bench:http: ${describeLoad(OPTIONS)}`)
  const env = { DATABASE_URL: `file:${join(dir, 'bench.db')}`, API_KEY: KEY }
  // Default config logs every request at info; the lines go somewhere cheap but real.
  const sink = new Writable({ write (_chunk, _enc, done) { done() } })
  const serve = async (container: Container): Promise<FastifyInstance> => {
    containers.push(container)
    const app = await buildApp(container, { logger: { level: 'info', stream: sink } })
    apps.push(app)
    return app
  }

  const plain = await serve(await createContainer(loadConfig(env)))
  const created = await plain.inject({
    method: 'POST',
    url: '/flags',
    headers: { 'x-api-key': KEY },
    payload: { name: 'checkout', default_value: true, targeting_rules: { user_ids: ['alice', 'bob'], percentage: 50 } }
  })
  if (created.statusCode !== 201) throw new Error(`creating the flag: ${created.statusCode} ${created.body}`)
  // A second instance on the same database, subscribed to the Redis change feed.
  const redisContainer = await createContainer(loadConfig({ ...env, REDIS_URL }))
  const withRedis = await serve(redisContainer)

  const get = { method: 'GET' as const, path: '/evaluate/checkout?user_id=carol&country=DE' }
  const ofrep = {
    method: 'POST' as const,
    path: '/ofrep/v1/evaluate/flags/checkout',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ context: { targetingKey: 'carol', country: 'DE' } })
  }
  const answer = async (app: FastifyInstance, r: typeof get | typeof ofrep): Promise<string> => {
    const res = await app.inject({ method: r.method, url: r.path, headers: 'headers' in r ? r.headers : {}, payload: 'body' in r ? r.body : undefined })
    if (res.statusCode !== 200) throw new Error(`${r.method} ${r.path}: ${res.statusCode} ${res.body}`)
    return res.body
  }
  const getBody = JSON.parse(await answer(plain, get)) as object
  const ofrepBody = JSON.parse(await answer(plain, ofrep)) as object
  for (const r of [get, ofrep]) {
    if (await answer(withRedis, r) !== await answer(plain, r)) throw new Error(`${r.path}: the Redis instance answers differently`)
  }

  // The bare routes: Fastify, the same logger, the same JSON (the POST body is parsed as JSON too), nothing else.
  const bare = Fastify({ logger: { level: 'info', stream: sink } })
  apps.push(bare)
  bare.get('/evaluate/:name', async () => getBody)
  bare.post('/ofrep/v1/evaluate/flags/:key', async () => ofrepBody)

  for (const app of [plain, withRedis, bare]) await app.listen({ port: 0, host: '127.0.0.1' })
  const baseOf = (app: FastifyInstance) => () => `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  // Every server runs on this process's main thread (autocannon has its own): its CPU time is theirs.
  const target = (label: string, app: FastifyInstance, request: typeof get | typeof ofrep): LoadTarget =>
    ({ label, base: baseOf(app), requests: [request], cpuMs: mainThreadCpuMs })
  const targets = [
    target('bare Fastify GET', bare, get),
    target('flagpost GET', plain, get),
    target('flagpost+redis GET', withRedis, get),
    target('bare Fastify OFREP', bare, ofrep),
    target('flagpost OFREP', plain, ofrep),
    target('flagpost+redis OFREP', withRedis, ofrep)
  ].filter((t) => ONLY === undefined || ONLY.split(',').includes(t.label))

  const redisBefore = await ownRedisClients(REDIS_URL)
  const loadStart = performance.now()
  const windowStartUs = Number(process.hrtime.bigint() / 1000n)
  const results = await alternate(targets, OPTIONS)
  // For bench:profile: when the load ran, on the clock V8 stamps profile samples with.
  if (process.env.PROFILE_WINDOW_FILE !== undefined) {
    writeFileSync(process.env.PROFILE_WINDOW_FILE, JSON.stringify({ startUs: windowStartUs, endUs: Number(process.hrtime.bigint() / 1000n) }))
  }
  const loadSeconds = (performance.now() - loadStart) / 1000
  const redisAfter = await ownRedisClients(REDIS_URL)

  const labels: Record<string, string> = {
    'bare Fastify GET': 'bare Fastify route, same JSON',
    'flagpost GET': 'Flagpost `GET /evaluate/{name}` (50 % split, user outside it)',
    'flagpost+redis GET': 'Flagpost `GET /evaluate/{name}`, with `REDIS_URL` (subscribed to the change feed)',
    'bare Fastify OFREP': 'bare Fastify `POST` route (JSON body parsed), same JSON',
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
    console.log(`| ${label} | ${r.rps.text} | ${r.cpu.text} | ${label.includes('÷ bare') ? verdict(r, 70) : ''} |`)
  }
  const failed = failureReport(results)
  if (failed !== '') console.log(`\n${failed}`)
  reportRedis(redisBefore, redisAfter, loadSeconds)
  printRunFooter()
}

/**
 * What the Redis instance's connections did while the load ran: Redis records each connection's
 * last command (`cmd`) and seconds since it last sent or received anything (`idle`). The
 * subscriber's idle time is reset by messages other processes publish; its last command is not.
 */
function reportRedis (before: Array<Record<string, string>>, after: Array<Record<string, string>>, loadSeconds: number): void {
  if (after.length === 0) { console.log('\nRedis: no connection of this process found in CLIENT LIST (not Linux?)'); return }
  const unchanged = after.every((c) => before.some((b) => b.id === c.id && b.cmd === c.cmd))
  const describe = (c: Record<string, string>): string => `${c.name?.replace(/-[0-9a-f-]{36}$/, '')}: last command \`${c.cmd}\`, idle ${c.idle} s of age ${c.age} s`
  console.log(`\nRedis connections of this process after ${loadSeconds.toFixed(0)} s of load: ${after.map(describe).join('; ')}. ` +
    (unchanged ? 'Same connections, same last command as before the load: the evaluation path sent Redis nothing.' : 'Their last command changed during the load.'))
}
