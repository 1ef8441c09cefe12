import { connect } from 'node:net'
import t, { type Test } from 'tap'
import { build, createFlag, isProblem, revisionOf, type TestApp } from '../helper.js'

/**
 * Errors a client can act on: an enum names its allowed values, a known path asked with the wrong
 * method is 405 with Allow, and what Node's HTTP parser refuses (408, 414, 431, not HTTP) is
 * problem+json like every other error.
 */

t.test('a bad enum value names the allowed values', async (t) => {
  const ctx = await build(t)
  let res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'a', type: 'bool' } })
  t.match(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags').errors,
    [{ field: 'body.type', message: 'must be one of "boolean", "string", "number", "json"' }])
  res = await ctx.write({
    method: 'POST',
    url: '/flags',
    payload: { name: 'a', targeting_rules: { rules: [{ clauses: [{ attribute: 'x', operator: 'equals', values: [] }], serve: { variant: 'on' } }] } }
  })
  const [problem] = isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags').errors
  t.equal(problem.field, 'body.targeting_rules.rules.0.clauses.0.operator')
  t.match(problem.message, /^must be one of "in", "not_in", "eq", .*"exists"$/)
  t.equal(await revisionOf(ctx), 0, 'nothing written')
})

t.test('a known path with a method it does not take is 405 with Allow; an unknown path stays 404', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'known' })
  const cases: Array<[string, string, RegExp]> = [
    ['PATCH', '/flags/known', /^GET, HEAD, PUT, DELETE$/],
    ['PATCH', '/flags', /^GET, HEAD, POST$/],
    ['DELETE', '/evaluate/known', /^GET, HEAD$/],
    ['GET', '/ofrep/v1/evaluate/flags', /^POST$/],
    ['PUT', '/flags/known/rename', /^POST$/]
  ]
  for (const [method, url, allow] of cases) {
    const res = await ctx.write({ method: method as 'PATCH', url, payload: method === 'GET' ? undefined : {} })
    const body = isProblem(t, res, 405, 'FLAGPOST_ERR_METHOD_NOT_ALLOWED', url)
    t.match(res.headers.allow, allow, `${method} ${url}: Allow ${String(res.headers.allow)}`)
    t.match(body.detail, new RegExp(`^${method} is not allowed on ${url}: use `))
  }
  isProblem(t, await ctx.app.inject({ method: 'PATCH', url: '/nowhere' }), 404, 'FLAGPOST_ERR_NOT_FOUND', '/nowhere')
  t.equal((await ctx.app.inject({ url: '/flags/known' })).json().version, 1, 'nothing changed')
})

/** Sends raw bytes and returns the whole response once the server closes the connection. */
async function raw (port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let response = ''
    socket.on('data', (chunk) => { response += chunk.toString('latin1') })
    socket.on('error', () => resolve(response))
    socket.on('close', () => resolve(response))
    socket.on('connect', () => socket.write(bytes))
    setTimeout(() => { socket.destroy(); reject(new Error(`no close; got ${response}`)) }, 5000).unref()
  })
}

function problemOf (t: Test, response: string, status: number, code: string): void {
  t.match(response, new RegExp(`^HTTP/1\\.1 ${status} `), `status ${status}: ${response.slice(0, 200)}`)
  t.match(response, /\r\ncontent-type: application\/problem\+json\r\n/i)
  const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
  t.match(body, { status, code, type: /^urn:flagpost:problem:/, title: String, detail: String })
}

t.test('what the HTTP parser refuses is problem+json, and the connection is closed', async (t) => {
  const ctx: TestApp = await build(t, { REQUEST_TIMEOUT_MS: '300' })
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (ctx.app.server.address() as { port: number }).port

  problemOf(t, await raw(port, `GET /flags/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 414, 'FLAGPOST_ERR_URI_TOO_LONG')
  problemOf(t, await raw(port, `GET /flags HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), 431, 'FLAGPOST_ERR_HEADERS_TOO_LARGE')
  problemOf(t, await raw(port, 'this is not HTTP\r\n\r\n'), 400, 'FLAGPOST_ERR_BAD_REQUEST')
  problemOf(t, await raw(port, 'GET /flags HTTP/1.1\r\nHost: x\r\n'), 408, 'FLAGPOST_ERR_REQUEST_TIMEOUT')
  // A bad percent-encoding reaches the router: problem+json too, on a real connection.
  const res = await fetch(`http://127.0.0.1:${port}/flags/%E0%A4%A`)
  t.equal(res.status, 400)
  t.match(res.headers.get('content-type'), /^application\/problem\+json/)
})
