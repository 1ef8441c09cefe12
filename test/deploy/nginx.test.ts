import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { dataDir, freePort, type Running } from '../support/process.js'
import { until } from '../support/until.js'
import { readRepoFile } from './dockerfile.js'
import { startReplica } from './replica.js'

/**
 * deploy/nginx.conf with a real nginx, when one is installed (optional: `apt-get install
 * nginx-light`; otherwise a printed skip). Only what Docker would provide is substituted: the
 * upstream host (compose's DNS name → 127.0.0.1 and a free port), the listen port, the pid and
 * access log files.
 */

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) => existsSync(p))
const KEY = 'nginx-test-write-key-0123456789'

/** `resolve` on an upstream server needs nginx 1.27.3 (the compose image is 1.28); older ones check the rest. */
async function nginxVersion (binary: string): Promise<number[]> {
  const { stderr } = await promisify(execFile)(binary, ['-v'])
  return (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(stderr) ?? []).slice(1).map(Number)
}
const atLeast = (v: number[], w: number[]): boolean => v[0] !== w[0] ? v[0] > w[0] : v[1] !== w[1] ? v[1] > w[1] : v[2] >= w[2]

function localConfig (dir: string, listen: number, upstreams: number[], withResolve: boolean): string {
  const conf = readRepoFile('deploy/nginx.conf')
    .replace(/^(\s*)server\s+flagpost:5000([^;]*);/m, (_m, indent: string, params: string) =>
      upstreams.map((port) => `${indent}server 127.0.0.1:${port}${withResolve ? params : params.replace(/\s+resolve\b/, '')};`).join('\n'))
    .replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${listen};`)
    .replace(/^pid .*;/m, `pid ${join(dir, 'nginx.pid')};`)
    // Docker gives the container a pipe for stdout; a test runner's may be a socket, which cannot be opened by path.
    .replace(/access_log \/dev\/stdout;/, `access_log ${join(dir, 'access.log')};`)
  if (conf.includes('flagpost:5000') || !conf.includes(`listen 127.0.0.1:${listen};`)) throw new Error('deploy/nginx.conf no longer has the lines this test substitutes')
  const path = join(dir, 'nginx.conf')
  writeFileSync(path, conf)
  return path
}

/** GET through nginx from a given loopback address (a distinct client), optionally forging X-Forwarded-For. */
function get (port: number, path: string, from: string, forged?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from, headers: forged === undefined ? {} : { 'x-forwarded-for': forged } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

const listening = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
  socket.on('error', () => resolve(false))
})

t.test('nginx accepts deploy/nginx.conf and balances two replicas, passing the client address', async (t) => {
  if (NGINX === undefined) {
    t.test('nginx', { skip: 'nginx is not installed (apt-get install nginx-light to run this check)' }, async () => {})
    return
  }
  const version = await nginxVersion(NGINX)
  const withResolve = atLeast(version, [1, 27, 3])
  const dir = dataDir(t)

  // Two replicas on one SQLite file, trusting X-Forwarded-For from nginx (which connects from 127.0.0.1).
  const env = { DATABASE_URL: `file:${join(dir, 'flagpost.db')}`, API_KEY: KEY, TRUST_PROXY: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '1', CACHE_REFRESH_MS: '100' }
  const replicas: Running[] = []
  t.teardown(() => { for (const r of replicas) r.child.kill('SIGKILL') })
  for (let i = 0; i < 2; i++) replicas.push(await startReplica(env))

  const listen = await freePort()
  const conf = localConfig(dir, listen, replicas.map((r) => Number(new URL(r.base).port)), withResolve)
  const note = withResolve ? '' : ` (nginx ${version.join('.')} predates \`resolve\`: checked without it)`
  const test = await promisify(execFile)(NGINX, ['-t', '-c', conf, '-e', 'stderr']).catch((err: { code: number, stderr: string }) => err)
  t.match(test, { stderr: /syntax is ok[\s\S]*test is successful/ }, `nginx -t${note}`)

  const nginx: ChildProcess = spawn(NGINX, ['-c', conf, '-e', 'stderr', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(() => { nginx.kill('SIGTERM') })
  for (let i = 0; i < 200 && !(await listening(listen)); i++) await new Promise((resolve) => setTimeout(resolve, 50))

  const created = await fetch(`http://127.0.0.1:${listen}/flags`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ name: 'lb' })
  })
  t.equal(created.status, 201, 'a write through nginx')
  // Both replicas serve it (asked directly, not through nginx: this budget is 127.0.0.1's, not the clients').
  for (const r of replicas) {
    for (let i = 0; i < 50 && (await fetch(`${r.base}/flags/lb`)).status !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  }

  // Client A forges a new X-Forwarded-For every time: each replica still counts it as 127.0.0.2.
  const a: number[] = []
  for (let i = 0; i < 6; i++) a.push(await get(listen, '/evaluate/lb?user_id=u', '127.0.0.2', `198.51.100.${i}`))
  t.ok(a.filter((s) => s === 200).length <= 2 && a.filter((s) => s === 429).length >= 4, `forged entries are ignored: one success per replica at most (${a.join(',')})`)
  // Client B has its own budget: nginx passed its address, rather than every request looking like nginx's.
  t.equal(await get(listen, '/evaluate/lb?user_id=u', '127.0.0.3'), 200, 'another client is not limited by the first')
  for (const r of replicas) t.match(r.output(), '"url":"/evaluate/lb?user_id=u"', `${r.base} got evaluations through nginx`)
})

/** Reads a text/event-stream response: `until(pattern)` resolves with everything read once it appears. */
function streamReader (res: Response): { until: (pattern: RegExp, ms: number) => Promise<string>, ended: () => Promise<boolean>, cancel: () => Promise<void> } {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let done = false
  const pump = (async () => {
    try {
      for (;;) {
        const chunk = await reader.read()
        if (chunk.done) break
        text += decoder.decode(chunk.value, { stream: true })
      }
    } catch {}
    done = true
  })()
  return {
    until: async (pattern, ms) => { await until(() => pattern.test(text), ms, 20).catch(() => {}); return text },
    ended: async () => await until(() => done, 5000, 20).then(() => true, () => false),
    cancel: async () => { await reader.cancel().catch(() => {}); await pump }
  }
}

t.test('event streams pass through nginx as they come, stay open on heartbeats, and move to another replica on SIGTERM', async (t) => {
  if (NGINX === undefined) {
    t.test('nginx', { skip: 'nginx is not installed (apt-get install nginx-light to run this check)' }, async () => {})
    return
  }
  const dir = dataDir(t)
  const env = { DATABASE_URL: `file:${join(dir, 'flagpost.db')}`, API_KEY: KEY, TRUST_PROXY: '127.0.0.1', CACHE_REFRESH_MS: '100', STREAM_HEARTBEAT_MS: '300' }
  const replicas: Running[] = []
  t.teardown(() => { for (const r of replicas) r.child.kill('SIGKILL') })
  for (let i = 0; i < 2; i++) replicas.push(await startReplica(env))
  const listen = await freePort()
  const conf = localConfig(dir, listen, replicas.map((r) => Number(new URL(r.base).port)), atLeast(await nginxVersion(NGINX), [1, 27, 3]))
  const nginx: ChildProcess = spawn(NGINX, ['-c', conf, '-e', 'stderr', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(() => { nginx.kill('SIGTERM') })
  for (let i = 0; i < 200 && !(await listening(listen)); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  const base = `http://127.0.0.1:${listen}`
  const headers = { 'content-type': 'application/json', 'x-api-key': KEY }

  const events = streamReader(await fetch(`${base}/events`, { headers }))
  t.match(await events.until(/: connected/, 5000), /retry: 2000/, 'the stream opens at once (no buffering)')
  t.equal((await fetch(`${base}/flags`, { method: 'POST', headers, body: JSON.stringify({ name: 'streamed' }) })).status, 201)
  t.match(await events.until(/event: change/, 5000), /"action":"flag\.create"[\s\S]*"flag":"streamed"/, 'the change arrives through nginx as it happens')
  t.match(await events.until(/: heartbeat/, 5000), /: heartbeat/, 'heartbeats pass through')

  // The OFREP stream's URL holds a token: nginx does not log it (nor does Flagpost, in the clear).
  const bulk = await (await fetch(`${base}/ofrep/v1/evaluate/flags`, { method: 'POST', headers, body: JSON.stringify({ context: { targetingKey: 'u' } }) })).json() as { eventStreams: Array<{ endpoint: { requestUri: string } }> }
  const ofrep = streamReader(await fetch(base + String(bulk.eventStreams[0].endpoint.requestUri)))
  t.match(await ofrep.until(/: connected/, 5000), /retry/, 'the OFREP stream through nginx')
  await ofrep.cancel()

  // SIGTERM on the replica holding the change stream: the stream ends, and a reconnect reaches the other one.
  const holder = replicas.find((r) => r.output().includes('"url":"/events"'))
  t.ok(holder !== undefined, 'a replica served the stream')
  holder!.child.kill('SIGTERM')
  t.ok(await events.ended(), 'the stream ends when its replica stops')
  const again = streamReader(await fetch(`${base}/events`, { headers, signal: AbortSignal.timeout(10_000) }))
  t.match(await again.until(/: connected/, 5000), /retry/, 'the client reconnects through nginx to the other replica')
  await again.cancel()
  await events.cancel()
  const token = String(bulk.eventStreams[0].endpoint.requestUri).split('token=')[1]
  const logs = readFileSync(join(dir, 'access.log'), 'utf8') + replicas.map((r) => r.output()).join('')
  t.notOk(logs.includes(token), 'the stream token appears in no log (nginx\'s access log, the replicas\' request logs)')
})
