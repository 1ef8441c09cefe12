/**
 * HTTP benchmark: GET /evaluate/{name} on Flagpost (default config: info logging, SQLite file)
 * against a bare Fastify route returning the same JSON, in the same run, with autocannon.
 * Run: npm run bench:http  (DURATION=10 seconds per round by default)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'

const DURATION = Number(process.env.DURATION ?? 10)
const CONNECTIONS = 32
const KEY = 'bench-write-key-0123456789'

const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-'))
const container = await createContainer(loadConfig({ DATABASE_URL: `file:${join(dir, 'bench.db')}`, API_KEY: KEY }))
// Default config logs every request at info; write the lines somewhere cheap but real.
const sink = new Writable({ write (_chunk, _enc, done) { done() } })
const app = await buildApp(container, { logger: { level: 'info', stream: sink } })
await app.inject({
  method: 'POST', url: '/flags', headers: { 'x-api-key': KEY },
  payload: { name: 'checkout', default_value: true, targeting_rules: { user_ids: ['alice', 'bob'], percentage: 50 } }
})
const url = '/evaluate/checkout?user_id=carol&country=DE'
const body = (await app.inject({ url })).json()
await app.listen({ port: 0, host: '127.0.0.1' })

const bare = Fastify({ logger: { level: 'info', stream: sink } })
bare.get('/evaluate/:name', async () => body)
await bare.listen({ port: 0, host: '127.0.0.1' })

const portOf = (f: { server: { address (): unknown } }): number => (f.server.address() as { port: number }).port
async function run (port: number): Promise<autocannon.Result> {
  // The load generator runs in a worker thread, on the other core, not on the servers' event loop.
  return autocannon({ url: `http://127.0.0.1:${port}${url}`, connections: CONNECTIONS, duration: DURATION, workers: 1 })
}

// Alternate the two targets so drift on the machine hits both alike; keep each one's best round.
const results: Record<string, autocannon.Result[]> = { flagpost: [], bare: [] }
for (let round = 0; round < 2; round++) {
  results.bare.push(await run(portOf(bare)))
  results.flagpost.push(await run(portOf(app)))
}
const best = (rs: autocannon.Result[]): autocannon.Result => rs.reduce((a, b) => (b.requests.average > a.requests.average ? b : a))
const f = best(results.flagpost)
const b = best(results.bare)
console.log(`node ${process.version}, ${CONNECTIONS} connections, ${DURATION}s × 2 rounds each, best round`)
console.log('| target | req/s | p50 ms | p99 ms | errors |\n| --- | ---: | ---: | ---: | ---: |')
for (const [label, r] of [['Flagpost GET /evaluate/{name}', f], ['bare Fastify, same JSON', b]] as const) {
  console.log(`| ${label} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.errors + r.non2xx} |`)
}
console.log(`ratio: ${(100 * f.requests.average / b.requests.average).toFixed(1)} % of the bare route`)

await app.close()
await bare.close()
await container.close()
rmSync(dir, { recursive: true, force: true })
