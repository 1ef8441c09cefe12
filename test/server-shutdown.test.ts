import { spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort, start, untraced, type Running } from './support/process.js'
import { testDatabase } from './support/test-database.js'
import { until } from './support/until.js'

/**
 * SIGTERM with pooled keep-alive clients (nginx, envoy, Node agents keep sockets open between requests):
 * the request in flight is answered, idle sockets are closed at once, and the process exits 0 well
 * before its force timer — it used to wait that out (10 s) and exit 1. And `npm start` hands SIGTERM to
 * the server instead of leaving it orphaned, without compiling first.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BODY = '{"context":{"user_id":"pooled"}}'

/** The server's drain lines: the bound it announces when SIGTERM arrives, the in-flight count it saw. */
function drainLog (server: Running): { boundMs: number, inFlight: number } | undefined {
  const line = server.output().split('\n').find((l) => l.includes('shutting down'))
  return line === undefined ? undefined : JSON.parse(line) as { boundMs: number, inFlight: number }
}

/** SIGTERM, and the time until the process is gone. */
async function terminate (server: Running): Promise<{ code: number | null, ms: number }> {
  const sent = performance.now()
  server.child.kill('SIGTERM')
  await until(() => drainLog(server) !== undefined || server.child.exitCode !== null, 30_000, 20, 'the drain to start')
  return { code: await server.exited, ms: performance.now() - sent }
}

interface Answer { status: number, connection: string | undefined, body: string }
const answer = (req: ClientRequest): Promise<Answer> => new Promise((resolve, reject) => {
  req.on('response', (res: IncomingMessage) => {
    let body = ''
    res.on('data', (d: Buffer) => { body += d.toString() })
    res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
  })
  req.on('error', reject)
})

t.test('node:http keep-alive pool: the in-flight request is answered, idle sockets closed, exit 0 within the bound', async (t) => {
  // debug: the server logs each request as it arrives, which is how the test knows a half-sent one reached it.
  const server = await start({ DATABASE_URL: (await testDatabase(t, { shared: true })).url, API_KEY: 'a-configured-key-1234567890', LOG_LEVEL: 'debug' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.ok(server.ready, 'the server listens')
  const { port } = new URL(server.base)
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  t.teardown(() => { agent.destroy() })

  // Four sockets of the pool, opened in parallel and then left idle, as a proxy keeps them.
  const pooled: Socket[] = []
  await Promise.all([1, 2, 3, 4].map(async () => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent })
    req.on('socket', (s) => { if (!pooled.includes(s)) pooled.push(s) })
    req.end()
    t.equal((await answer(req)).status, 200)
  }))
  t.equal(pooled.length, 4, 'four pooled connections')
  t.equal(Object.values(agent.freeSockets).flat().length, 4, 'all four idle in the pool')

  // The pool lends one to a POST whose headers and half its body are sent; the rest follows after SIGTERM.
  const post = request({
    host: '127.0.0.1',
    port,
    path: '/evaluate',
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(BODY)) }
  })
  const answered = answer(post)
  post.write(BODY.slice(0, 10))
  const busy = await new Promise<Socket>((resolve) => post.once('socket', resolve))
  t.ok(pooled.includes(busy), 'on a pooled connection')
  const idle = pooled.filter((s) => s !== busy)
  const idleClosed = idle.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())))
  const busyClosed = new Promise<void>((resolve) => busy.once('close', () => resolve()))
  await until(() => /"method":"POST","url":"\/evaluate"/.test(server.output()), 30_000, 20, 'the server to see the POST')

  const stopped = terminate(server)
  await until(() => drainLog(server) !== undefined, 30_000, 20, 'the drain to start')
  t.equal(drainLog(server)?.inFlight, 1, 'the server counts the half-received POST as in flight')
  await Promise.all(idleClosed)
  t.notOk(busy.destroyed, 'the server closed the three idle sockets at once, not the busy one')
  post.end(BODY.slice(10))

  const res = await answered
  t.equal(res.status, 200, 'the in-flight request is answered, not reset')
  t.same(JSON.parse(res.body), { results: {} }, 'the whole body was read')
  t.equal(res.connection, 'close', 'with Connection: close, so the pool does not reuse the socket')
  await busyClosed
  const { code, ms } = await stopped
  const bound = drainLog(server)?.boundMs ?? 0
  t.equal(code, 0, 'exit 0: drained, not forced')
  t.ok(bound > 0 && ms < bound, `exited in ${Math.round(ms)} ms, before the ${bound} ms force timer`)
  t.comment(`node:http pool (3 idle + 1 in flight): SIGTERM → exit in ${Math.round(ms)} ms (bound ${bound} ms)`)
  t.match(server.output(), /"msg":"shut down: requests answered, connections and database closed"/, 'one line when done')
})

t.test('fetch (undici pool): a streaming upload in flight is answered; a request arriving during the drain too', async (t) => {
  // debug: the server logs each request as it arrives, which is how the test knows a half-sent one reached it.
  const server = await start({ DATABASE_URL: (await testDatabase(t, { shared: true })).url, API_KEY: 'a-configured-key-1234567890', LOG_LEVEL: 'debug' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  // undici's global pool keeps these connections alive after the responses.
  t.same(await Promise.all([1, 2].map(async () => (await fetch(`${server.base}/healthz`)).status)), [200, 200])

  // A raw keep-alive connection that has been served once, then sends half of its next request: it is
  // not idle, so it is not closed; that request completes during the drain and must be served too.
  const raw = connect(Number(new URL(server.base).port), '127.0.0.1')
  let rawReply = ''
  raw.on('data', (d: Buffer) => { rawReply += d.toString() })
  const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()))
  raw.write('GET /healthz HTTP/1.1\r\nHost: flagpost\r\n\r\n')
  await until(() => {
    const head = rawReply.indexOf('\r\n\r\n')
    const length = /\r\ncontent-length: (\d+)/i.exec(rawReply)?.[1]
    return head > 0 && length !== undefined && rawReply.length >= head + 4 + Number(length)
  }, 30_000, 20, 'the first raw answer')
  t.match(rawReply, /\r\nconnection: keep-alive\r\n/i, 'the raw connection is kept alive before the drain')
  rawReply = ''
  raw.write('GET /healthz HTTP/1.1\r\nHost: flagpost\r\n')

  // Sent after the raw half-request: once the server has seen this POST it has read that too.
  let push!: ReadableStreamDefaultController<Uint8Array>
  const upload = new ReadableStream<Uint8Array>({ start (controller) { push = controller } })
  push.enqueue(new TextEncoder().encode(BODY.slice(0, 10)))
  const inFlight = fetch(`${server.base}/evaluate`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: upload, duplex: 'half'
  } as RequestInit & { duplex: 'half' })
  await until(() => /"method":"POST","url":"\/evaluate"/.test(server.output()), 30_000, 20, 'the server to see the POST')

  const stopped = terminate(server)
  await until(() => drainLog(server) !== undefined, 30_000, 20, 'the drain to start')
  raw.write('Connection: keep-alive\r\n\r\n')
  push.enqueue(new TextEncoder().encode(BODY.slice(10)))
  push.close()

  const res = await inFlight
  t.equal(res.status, 200, 'the streamed upload is answered')
  t.equal(res.headers.get('connection'), 'close')
  t.same(await res.json(), { results: {} })
  await rawClosed
  t.match(rawReply, /^HTTP\/1\.1 200 /, 'the request completed during the drain is served')
  t.match(rawReply, /\r\nconnection: close\r\n/i, 'and told to close, though it asked for keep-alive')
  const { code, ms } = await stopped
  const bound = drainLog(server)?.boundMs ?? 0
  t.equal(code, 0)
  t.ok(ms < bound, `exited in ${Math.round(ms)} ms, before the ${bound} ms force timer`)
  t.comment(`fetch pool (2 idle + 1 streaming upload + 1 half-sent request): SIGTERM → exit in ${Math.round(ms)} ms`)
})

/** `npm start` as a developer (or a process manager that runs it) would, with only the environment it needs. */
function npmStart (cwd: string, env: Record<string, string>): { pid: number, output: () => string, exited: Promise<number | null>, kill: (s: NodeJS.Signals) => void } {
  const child = spawn(...untraced('npm', ['start']), {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), npm_config_update_notifier: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { pid: child.pid ?? 0, output: () => out, exited, kill: (s) => { child.kill(s) } }
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true } catch { return false }
}

t.test('npm start runs the built server directly, without compiling, and forwards SIGTERM to it', async (t) => {
  const npm = npmStart(ROOT, {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    DATABASE_URL: (await testDatabase(t, { shared: true })).url,
    API_KEY: 'a-configured-key-1234567890'
  })
  let serverPid = 0
  t.teardown(() => { npm.kill('SIGKILL'); if (serverPid > 0 && alive(serverPid)) process.kill(serverPid, 'SIGKILL') })
  await until(() => npm.output().includes('Server listening'), 30_000, 20, 'npm start to listen')
  serverPid = (JSON.parse(npm.output().split('\n').find((l) => l.includes('Server listening'))!) as { pid: number }).pid
  t.not(serverPid, npm.pid)
  // No shell (which would take npm's SIGTERM and leave node running) between npm and the server.
  const parent = Number(readFileSync(`/proc/${serverPid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1])
  t.equal(parent, npm.pid, 'the server is npm\'s own child: the script execs node')
  t.notMatch(npm.output(), /flagpost@[\d.]+ (prestart|build)|tsc -p/, 'no build ran before the server started')

  npm.kill('SIGTERM')
  t.equal(await npm.exited, 0, 'npm exits 0 with the server')
  t.match(npm.output(), /shut down: requests answered/, 'the server drained')
  t.notOk(alive(serverPid), 'no orphaned server process')
})

t.test('npm start without a build says what to run, in one line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-nodist-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
  const npm = npmStart(dir, {})
  t.equal(await npm.exited, 1)
  t.match(npm.output(), /^dist\/bin\/server\.js is missing: run npm run build$/m)
  t.notMatch(npm.output(), /ERR_MODULE_NOT_FOUND|at .*:\d+:\d+/, 'no stack trace')
})
