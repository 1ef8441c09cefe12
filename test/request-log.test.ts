import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { requestLogLevel } from '../src/request-log.js'

const KEY = 'request-log-key-0123456789'
const auth = { 'x-api-key': KEY }

interface Line { level: number, msg: string, reqId?: string, req?: { method: string, url: string }, res?: { statusCode: number }, responseTime?: number }

/** An app on SQLite in memory at `level`, its log lines parsed, and a flag to evaluate. */
async function logged (t: Test, level: string, env: Record<string, string> = {}) {
  const lines: Line[] = []
  const stream = new Writable({ write (chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line); done() } })
  const container = await createContainer(loadConfig({ DATABASE_URL: ':memory:', API_KEY: KEY, ...env }), { poll: false })
  const app = await buildApp(container, { logger: { level, stream } })
  t.teardown(async () => { await app.close(); await container.close() })
  t.equal((await app.inject({ method: 'POST', url: '/flags', headers: auth, payload: { name: 'logged', default_value: true } })).statusCode, 201)
  lines.length = 0
  const requestLines = (): Line[] => lines.filter((l) => l.req !== undefined)
  return { app, lines, requestLines }
}

// pino's numeric levels.
const INFO = 30
const DEBUG = 20

t.test('at the default level, evaluations and reads write no line; writes, refusals and failures one each, at info', async (t) => {
  const { app, requestLines, lines: all } = await logged(t, 'info')
  const quiet = [
    { method: 'GET', url: '/evaluate/logged?user_id=alice' },
    { method: 'POST', url: '/evaluate', payload: { context: { user_id: 'alice' } } },
    { method: 'POST', url: '/ofrep/v1/evaluate/flags/logged', payload: { context: { targetingKey: 'alice' } } },
    { method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: { targetingKey: 'alice' } } },
    { method: 'GET', url: '/flags' },
    { method: 'GET', url: '/healthz' }
  ] as const
  for (const req of quiet) t.equal((await app.inject(req)).statusCode, 200, `${req.method} ${req.url}`)
  t.strictSame(requestLines(), [], 'no request line for evaluations and reads')

  const loud = [
    { method: 'PUT', url: '/flags/logged', headers: auth, payload: { description: 'changed' } },
    { method: 'GET', url: '/evaluate/missing' },
    { method: 'POST', url: '/flags', payload: { name: 'no-key' } },
    { method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: [] } }
  ] as const
  const statuses: number[] = []
  for (const req of loud) statuses.push((await app.inject(req)).statusCode)
  t.strictSame(statuses, [200, 404, 401, 400])
  const lines = requestLines()
  t.strictSame(lines.map((l) => [l.level, l.msg, l.req?.method, l.req?.url, l.res?.statusCode]), [
    [INFO, 'request completed', 'PUT', '/flags/logged', 200],
    [INFO, 'request completed', 'GET', '/evaluate/missing', 404],
    [INFO, 'request completed', 'POST', '/flags', 401],
    [INFO, 'request completed', 'POST', '/ofrep/v1/evaluate/flags', 400]
  ], 'one line per request, once it is answered, with its status')
  t.ok(lines.every((l) => typeof l.responseTime === 'number' && l.responseTime >= 0), 'with the time it took')
  t.equal(new Set(lines.map((l) => l.reqId)).size, 4, 'each with its own request id')
  const missing = lines[1].reqId
  t.match(all.filter((l) => l.reqId === missing).map((l) => l.msg), ['Flag "missing" does not exist', 'request completed'],
    'the refusal\'s cause and its request line carry the same id (the request logger, made when first used)')
})

t.test('LOG_LEVEL=debug logs every request, as it arrives and when it is answered', async (t) => {
  const { app, requestLines } = await logged(t, 'debug')
  const requests = [
    { method: 'GET', url: '/evaluate/logged?user_id=alice' },
    { method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: { targetingKey: 'alice' } } },
    { method: 'GET', url: '/flags/logged' }
  ] as const
  for (const req of requests) t.equal((await app.inject(req)).statusCode, 200)
  t.strictSame(requestLines().map((l) => [l.level, l.msg, l.req?.method, l.req?.url]),
    requests.flatMap((r) => [[DEBUG, 'incoming request', r.method, r.url], [DEBUG, 'request completed', r.method, r.url]]),
    'as each arrives and when it is answered')
})

t.test('the level of a request line', async (t) => {
  const slow = 1000
  t.equal(requestLogLevel('GET', 200, true, 3, slow), 'debug', 'an evaluation')
  t.equal(requestLogLevel('POST', 200, true, 3, slow), 'debug', 'a bulk evaluation (POST)')
  t.equal(requestLogLevel('GET', 200, false, 3, slow), 'debug', 'a read')
  t.equal(requestLogLevel('HEAD', 200, false, 3, slow), 'debug')
  t.equal(requestLogLevel('OPTIONS', 204, false, 3, slow), 'debug', 'a CORS preflight')
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) t.equal(requestLogLevel(method, 200, false, 3, slow), 'info', `a write (${method})`)
  for (const status of [400, 401, 404, 429, 500, 503]) t.equal(requestLogLevel('GET', status, true, 3, slow), 'info', `a ${status}`)
  t.equal(requestLogLevel('GET', 200, true, slow, slow), 'info', 'an evaluation that took LOG_SLOW_MS')
  t.equal(requestLogLevel('GET', 200, true, slow - 0.01, slow), 'debug', 'and one just under it')
})

t.test('a slow request is logged at info as such (LOG_SLOW_MS)', async (t) => {
  const lines: Line[] = []
  const stream = new Writable({ write (chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line); done() } })
  const container = await createContainer(loadConfig({ DATABASE_URL: ':memory:', API_KEY: KEY, LOG_SLOW_MS: '100' }), { poll: false })
  const app = await buildApp(container, { logger: { level: 'info', stream } })
  t.teardown(async () => { await app.close(); await container.close() })
  // Made slow on purpose: evaluations held 150 ms before their handler, the others not.
  app.addHook('preHandler', async (request) => { if (request.url.startsWith('/evaluate')) await new Promise((resolve) => setTimeout(resolve, 150)) })
  // A route's first request builds its validators and serializer (src/serialization.ts), which may itself
  // take LOG_SLOW_MS on a busy machine: the quick read is the second one.
  t.equal((await app.inject({ method: 'GET', url: '/flags' })).statusCode, 200)
  lines.length = 0
  t.equal((await app.inject({ method: 'GET', url: '/flags' })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/evaluate', payload: { context: { user_id: 'alice' } } })).statusCode, 200)
  const logged = lines.filter((l) => l.req !== undefined)
  t.equal(logged.length, 1, 'the quick read: no line; the slow evaluation: one')
  t.match(logged[0], { level: INFO, msg: 'slow request', req: { method: 'POST', url: '/evaluate' }, res: { statusCode: 200 } })
  t.ok((logged[0].responseTime ?? 0) >= 100)
})
