import { spawn } from 'node:child_process'
import t, { type Test } from 'tap'
import { start, untraced, type Running } from '../support/process.js'
import { dropSchema, isolatedUrl, postgresUrlOrSkip } from '../support/postgres.js'
import { redisUrlOrSkip } from '../support/redis.js'
import { loadCompose, userEnv, type Env } from './compose.js'
import { ROOT, readRepoFile, stageEnv, stages } from './dockerfile.js'
import { startReplica } from './replica.js'

/**
 * docker-compose.yml's topology without Docker: the migrate service's command with its
 * environment, then two replicas with the flagpost service's environment, on the local Postgres
 * (a schema of its own) and Redis in place of the compose hosts `postgres` and `redis`.
 */

const IMAGE_ENV = stageEnv(stages(readRepoFile('Dockerfile')).at(-1)!)
const API_KEY = 'compose-topology-key-0123456789'
// The user's .env, as they would fill it in.
const { compose } = loadCompose(userEnv({ API_KEY }))

/** A service's container environment (image ENV, then compose's) with the stores pointed here. */
function serviceEnv (t: Test, service: string, stores: Env): Env {
  const env: Env = { ...IMAGE_ENV, ...compose.services[service].environment }
  t.match(env.DATABASE_URL, /^postgres:\/\/[^@]+@postgres:5432\//, `${service}: compose points DATABASE_URL at the postgres service`)
  if (env.REDIS_URL !== undefined) t.equal(env.REDIS_URL, 'redis://redis:6379', `${service}: and REDIS_URL at the redis service`)
  return { ...env, ...Object.fromEntries(Object.entries(stores).filter(([name]) => name in env)) }
}

/** Run the migrate service's command as compose would, from WORKDIR (/app: the repository root). */
async function runMigrate (env: Env): Promise<{ code: number | null, output: string }> {
  const [node, ...args] = compose.services.migrate.command!
  if (node !== 'node') throw new Error(`unexpected migrate command ${node}`)
  const child = spawn(...untraced(process.execPath, args), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, output }
}

async function write (node: Running, method: 'POST' | 'PUT', path: string, body: unknown): Promise<void> {
  const res = await fetch(`${node.base}${path}`, { method, headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
}

/** Poll `node` until it serves `value` for the flag (or 5 s pass); what it served last. */
async function servedWithin (node: Running, flag: string, value: unknown): Promise<unknown> {
  const deadline = Date.now() + 5000
  for (;;) {
    const res = await fetch(`${node.base}/evaluate/${flag}?user_id=u`)
    const served = res.status === 200 ? ((await res.json()) as { value: unknown }).value : undefined
    if (served === value || Date.now() > deadline) return served
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * /readyz once it answers 200, or its last answer after 15 s: like nginx waiting on the healthcheck, since
 * a replica that listens may still be connecting to Redis (and rightly reports not ready until it has).
 */
async function readiness (base: string): Promise<{ status: number, body: { checks?: Record<string, string> } }> {
  const end = Date.now() + 15_000
  for (;;) {
    const res = await fetch(`${base}/readyz`)
    const answer = { status: res.status, body: await res.json() as { checks?: Record<string, string> } }
    if (answer.status === 200 || Date.now() > end) return answer
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test('migrate once, then two replicas that share flags through Postgres and Redis', async (t) => {
  const pg = await postgresUrlOrSkip(t, 'compose topology (Postgres)')
  if (pg === null) return
  const redis = await redisUrlOrSkip(t)
  if (redis === null) return
  const { url, schema } = isolatedUrl(pg)
  const replicas: Running[] = []
  t.teardown(async () => {
    // Stop whatever still runs (a failed assertion skips the SIGTERM below) before dropping its schema.
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL')
    await Promise.all(replicas.map((r) => r.exited))
    await dropSchema(pg, schema)
  })
  const stores = { DATABASE_URL: url, REDIS_URL: redis }
  const appEnv = serviceEnv(t, 'flagpost', stores)
  t.equal(appEnv.MIGRATE_ON_START, 'false')

  // The replicas' environment; only PORT and HOST differ (the helpers pick free ports on 127.0.0.1).
  const { PORT: _port, HOST: _host, ...replicaEnv } = appEnv

  // Without the migrate service a replica does not start: the reason compose makes them wait for it.
  const early = await start(replicaEnv)
  replicas.push(early)
  const timeout = setTimeout(() => early.child.kill('SIGKILL'), 40_000)
  const earlyExit = await early.exited
  clearTimeout(timeout)
  t.equal(earlyExit, 1, 'a replica on an unmigrated database fails to start (MIGRATE_ON_START=false is honoured)')
  t.match(early.output(), /flagpost failed to start/)
  t.notMatch(early.output(), /Invalid configuration/, 'not for its configuration: for want of its tables')

  const migrated = await runMigrate(serviceEnv(t, 'migrate', stores))
  t.equal(migrated.code, 0, migrated.output)
  t.match(migrated.output, /migrations applied to postgres:\/\//)
  t.equal((await runMigrate(serviceEnv(t, 'migrate', stores))).code, 0, 'again (every `compose up` runs it): nothing to do, exit 0')

  for (let i = 0; i < 2; i++) replicas.push(await startReplica(replicaEnv))
  const [a, b] = replicas.slice(1)
  for (const node of [a, b]) {
    t.match(await readiness(node.base), { status: 200, body: { checks: { database: 'ok', redis: 'ok', snapshot: 'ok' } } }, `${node.base} is ready`)
  }

  await write(a, 'POST', '/flags', { name: 'compose_flag', type: 'string', default_value: 'from-a' })
  t.equal(await servedWithin(b, 'compose_flag', 'from-a'), 'from-a', 'a flag created through one replica is served by the other')
  await write(b, 'PUT', '/flags/compose_flag', { default_value: 'from-b' })
  t.equal(await servedWithin(a, 'compose_flag', 'from-b'), 'from-b', 'and the other way round')

  for (const node of [a, b]) node.child.kill('SIGTERM')
  t.same(await Promise.all([a, b].map((n) => n.exited)), [0, 0], 'both replicas stop cleanly on SIGTERM (docker compose down)')
})
