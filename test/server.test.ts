import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// The built entry point, exactly what `npm start` runs (npm test builds first).
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url))

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

interface Running { child: ChildProcess, output: () => string, base: string, exited: Promise<number | null> }

async function start (env: Record<string, string>): Promise<Running> {
  const port = await freePort()
  // Only what the test chooses: no inherited DATABASE_URL/API_KEY from the developer's shell or CI.
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100 && !out.includes('Server listening') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100))
  return { child, output: () => out, base, exited }
}

const dataDir = (t: { teardown (fn: () => unknown): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('first start generates an admin key once; only its hash is stored', async (t) => {
  const env = { DATABASE_URL: `file:${join(dataDir(t), 'flagpost.db')}` }
  const first = await start(env)
  t.teardown(() => { first.child.kill('SIGKILL') })
  const key = /generated an admin key[^:]*: (fp_[A-Za-z0-9_-]+)/.exec(first.output())?.[1]
  t.ok(key, 'the key is printed in the startup log')
  const post = (k: string): Promise<Response> => fetch(`${first.base}/flags`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': k }, body: JSON.stringify({ name: 'boot', default_value: 'true' })
  })
  t.equal((await post('fp_wrong-key-000000000000')).status, 401)
  t.equal((await post(key!)).status, 201, 'the printed key can write')
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'SIGTERM exits 0')

  const second = await start(env)
  t.teardown(() => { second.child.kill('SIGKILL') })
  t.notMatch(second.output(), /generated an admin key/, 'no second key on restart')
  const res = await fetch(`${second.base}/flags/boot`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${key!}` }, body: '{"enabled":false}' })
  t.equal(res.status, 200, 'the stored hash still authenticates the key after a restart')
  const evaluated = await (await fetch(`${second.base}/evaluate/boot?user_id=u1`)).json() as { reason: string }
  t.equal(evaluated.reason, 'DISABLED')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
  t.notMatch(second.output(), new RegExp(key!), 'the key is not logged again, not even from request headers')
})

t.test('SIGTERM lets in-flight requests finish and exits 0', async (t) => {
  const server = await start({ DATABASE_URL: `file:${join(dataDir(t), 'f.db')}`, API_KEY: 'a-configured-key-1234567890' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.notMatch(server.output(), /generated an admin key/, 'a configured API_KEY means no generated key')
  const inFlight = Array.from({ length: 100 }, () => fetch(`${server.base}/evaluate`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"context":{"user_id":"u"}}'
  }).then((r) => r.status, (err: Error) => err.message))
  await new Promise((r) => setTimeout(r, 5))
  server.child.kill('SIGTERM')
  const statuses = await Promise.all(inFlight)
  t.equal(await server.exited, 0)
  t.same(statuses.filter((s) => typeof s === 'number' && s >= 500), [], 'no 5xx while draining')
  t.ok(statuses.filter((s) => s === 200).length > 0, 'requests that were accepted were answered')
})

t.test('bad configuration stops startup with every problem listed', async (t) => {
  const server = await start({ PORT: 'abc', LOG_LEVEL: 'loud', CACHE_REFRESH_MS: '-1', API_KEY: 'short' })
  t.equal(await server.exited, 2)
  for (const name of ['PORT', 'LOG_LEVEL', 'CACHE_REFRESH_MS', 'API_KEY']) t.match(server.output(), name)
  t.notMatch(server.output(), /at .*\.js:\d+/, 'no stack trace')
})
