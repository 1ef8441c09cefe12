import { connect } from 'node:net'
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { UnavailableError } from '../../src/errors.js'
import { build, createFlag, isProblem, revisionOf, testDatabase, WRITE_KEY, type TestApp } from '../helper.js'
import { bodyOf, problemDiff } from '../support/refusals.js'

/**
 * Hostile transport: bodies nested to blow the stack, URLs the router cannot decode or hold, clients
 * that never finish sending, and how an expected outage is logged.
 */

const deepObject = (depth: number, leaf = '1'): string => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth)
const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const send = (ctx: TestApp, method: 'POST' | 'PUT', url: string, payload: string, type = 'application/json') =>
  ctx.app.inject({ method, url, payload, headers: { 'content-type': type, 'x-api-key': WRITE_KEY } })

t.test('a body nested 4,000 levels deep is a 400 naming the field on every route and media type, never a stack overflow', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'good', type: 'json', default_value: { a: 1 } })
  const before = await revisionOf(ctx)
  const failures: unknown[] = []
  /** The request must be a 400 validation problem whose first error names `field` or a key below it (and says how deep, when `deepMessage`). */
  const refusedNaming = async (label: string, method: 'POST' | 'PUT', url: string, payload: string, type: string, field: string, deepMessage: boolean): Promise<void> => {
    const res = await send(ctx, method, url, payload, type)
    const wrong = problemDiff(res, 400, 'FLAGPOST_ERR_VALIDATION', url)
    const first = bodyOf(res).errors?.[0]
    // As t.match did: the field contains `field` (a nested default_value is named down to its key).
    if (!String(first?.field).includes(field) || (deepMessage && !/^nests deeper than (32|64) levels$/.test(String(first?.message)))) wrong.push(`first error ${JSON.stringify(first)}`)
    if (wrong.length > 0) failures.push({ case: label, wrong })
  }
  for (const depth of [65, 4000]) {
    for (const type of ['application/json', 'application/merge-patch+json']) {
      for (const [payload, field] of [
        [`{"variants":${deepObject(depth)}}`, 'body.variants.a'],
        [`{"default_value":${deepObject(depth)}}`, 'body.default_value'],
        [`{"metadata":${deepObject(depth)}}`, 'body.metadata.a'],
        [`{"targeting_rules":{"rules":${deepArray(depth)}}}`, 'body.targeting_rules.rules']
      ]) await refusedNaming(`PUT ${type} ${depth} deep: ${field}`, 'PUT', '/flags/good', payload, type, field, true)
    }
    await refusedNaming(`POST /flags ${depth} deep`, 'POST', '/flags', `{"name":"deep","metadata":${deepObject(depth)}}`, 'application/json', 'body.metadata.a', false)
    await refusedNaming(`POST /customers ${depth} deep`, 'POST', '/customers', `{"id":"acme","name":${deepArray(depth)}}`, 'application/json', 'body.name', false)
    await refusedNaming(`POST /evaluate ${depth} deep`, 'POST', '/evaluate', `{"context":${deepObject(depth)}}`, 'application/json', 'body.context.a', false)
    for (const url of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/good']) {
      const ofrep = await send(ctx, 'POST', url, `{"context":${deepObject(depth)}}`)
      if (ofrep.statusCode !== 400 || bodyOf(ofrep).errorCode !== 'INVALID_CONTEXT') failures.push({ case: `${url} ${depth} deep`, wrong: [`${ofrep.statusCode} ${ofrep.body.slice(0, 200)}`] })
    }
  }
  t.same(failures.slice(0, 5), [], `PUT on both media types, POST /flags, /customers, /evaluate and OFREP, 65 and 4,000 deep: each a 400 naming the field (OFREP: INVALID_CONTEXT) (${failures.length} not)`)
  t.equal(await revisionOf(ctx), before, 'nothing was written')
  t.same((await ctx.app.inject({ url: '/flags/good' })).json().default_value, { a: 1 })
})

t.test('a path the router cannot decode or hold is problem+json, not Fastify\'s body', async (t) => {
  const ctx = await build(t)
  for (const url of ['/flags/%E0%A4%A', '/flags/%', '/customers/%C0%AF/flags']) {
    const res = await ctx.app.inject({ url })
    t.match(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', url).errors, [{ field: 'path', message: 'is not valid percent-encoded UTF-8' }], url)
  }
  for (const url of [`/flags/${'a'.repeat(600)}`, `/customers/${'b'.repeat(5000)}/flags`, `/evaluate/${'c'.repeat(513)}?user_id=x`]) {
    const res = await ctx.app.inject({ url })
    t.match(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', url.split('?')[0]).errors, [{ field: 'params', message: /longer than 512 characters/ }], `${url.length} characters`)
  }
  const unknown = await ctx.app.inject({ url: '/nowhere/%E0%A4%A' })
  t.equal(unknown.statusCode, 400, 'a bad path is a 400 whatever the route')
  t.match(unknown.headers['content-type'], /^application\/problem\+json/)
})

/** Open a raw connection, send the headers and part of a body, then one byte every `everyMs`: when does the server let go? */
function dribble (port: number, everyMs: number, limitMs: number): Promise<{ closedAfterMs: number, response: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let response = ''
    let timer: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => { socket.destroy(); reject(new Error(`still open after ${limitMs} ms`)) }, limitMs)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { response += chunk })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(giveUp)
      clearInterval(timer)
      resolve({ closedAfterMs: Date.now() - started, response })
    })
    socket.on('connect', () => {
      const body = '{"name":"slow","description":"' + 'x'.repeat(1000) + '"}'
      socket.write(`POST /flags HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-API-Key: ${WRITE_KEY}\r\nContent-Length: ${body.length}\r\n\r\n`)
      let sent = 0
      timer = setInterval(() => { if (sent < body.length && !socket.destroyed) socket.write(body[sent++]) }, everyMs)
    })
  })
}

t.test('a client that dribbles its body is answered 408 and disconnected within REQUEST_TIMEOUT_MS', async (t) => {
  const ctx = await build(t, { REQUEST_TIMEOUT_MS: '400' })
  t.equal(ctx.config.requestTimeoutMs, 400)
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (ctx.app.server.address() as { port: number }).port
  const { closedAfterMs, response } = await dribble(port, 50, 5000)
  t.ok(closedAfterMs >= 350 && closedAfterMs < 2000, `closed after ${closedAfterMs} ms (bound 400 ms)`)
  t.match(response, /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout')
  t.equal(await revisionOf(ctx), 0, 'nothing was written')
  // A client that sends its request in time is served as usual.
  const res = await fetch(`http://127.0.0.1:${port}/flags`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY }, body: '{"name":"fast"}' })
  t.equal(res.status, 201)
})

t.test('the request timeout defaults to 30 s and is configurable', async (t) => {
  const ctx = await build(t)
  t.equal(ctx.app.server.requestTimeout, 30_000, 'default')
  t.ok(ctx.app.server.keepAliveTimeout > 60_000, 'keep-alive outlives a load balancer\'s idle timeout')
  t.equal((await build(t, { REQUEST_TIMEOUT_MS: '5000' })).app.server.requestTimeout, 5000)
  t.throws(() => loadConfig({ REQUEST_TIMEOUT_MS: '0' }), /REQUEST_TIMEOUT_MS/)
  t.throws(() => loadConfig({ REQUEST_TIMEOUT_MS: 'soon' }), /REQUEST_TIMEOUT_MS/)
})

t.test('an expected outage (503) is one warning line with its code; a bug is an error with its stack', async (t) => {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({ write (chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l !== '') lines.push(JSON.parse(l)); done() } })
  const db = await testDatabase(t)
  const container = await createContainer(loadConfig({ DATABASE_URL: db.url, API_KEY: WRITE_KEY, LOG_LEVEL: 'info' }))
  t.teardown(() => container.close())
  const app = await buildApp(container, { logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  const flags = container.repositories.flags as { create: (...args: unknown[]) => Promise<unknown> }
  flags.create = async () => { throw new UnavailableError('The database is unavailable; retry shortly') }
  const outage = await app.inject({ method: 'POST', url: '/flags', payload: { name: 'x' }, headers: { 'x-api-key': WRITE_KEY } })
  isProblem(t, outage, 503, 'FLAGPOST_ERR_UNAVAILABLE', '/flags')
  const warned = lines.filter((l) => l.code === 'FLAGPOST_ERR_UNAVAILABLE')
  t.equal(warned.length, 1, 'one line')
  t.equal(warned[0].level, 40, 'at warn')
  t.equal(warned[0].status, 503)
  t.notOk(JSON.stringify(warned[0]).includes('    at '), 'no stack')
  t.notOk(lines.some((l) => l.level >= 50), 'nothing at error')

  flags.create = async () => { throw new TypeError('a genuine bug') }
  const bug = await app.inject({ method: 'POST', url: '/flags', payload: { name: 'y' }, headers: { 'x-api-key': WRITE_KEY } })
  isProblem(t, bug, 500, 'FLAGPOST_ERR_INTERNAL', '/flags')
  const errors = lines.filter((l) => l.level === 50)
  t.equal(errors.length, 1, 'the bug is logged at error')
  t.match(errors[0].err?.stack, /TypeError: a genuine bug\n\s+at /, 'with its stack')
})

t.test('OFREP single-flag paths the router refuses answer an OFREP error body, as documented', async (t) => {
  const ctx = await build(t)
  for (const key of ['%E0%A4%A', '%FF', 'a'.repeat(5000)]) {
    const res = await ctx.app.inject({ method: 'POST', url: `/ofrep/v1/evaluate/flags/${key}`, payload: { context: {} } })
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /^application\/json/)
    t.match(res.json(), { key: '', errorCode: 'GENERAL', errorDetails: /percent-encoded|longer than/ })
  }
})
