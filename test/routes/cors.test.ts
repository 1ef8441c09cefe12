import t, { type Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { ConfigError } from '../../src/config.js'
import { ALLOWED_HEADERS, EVALUATION_ROUTES, PREFLIGHT_MAX_AGE_S } from '../../src/plugins/cors.js'
import { build, createFlag, READ_KEY, WRITE_KEY, type TestApp } from '../helper.js'

/**
 * CORS_ORIGINS (src/plugins/cors.ts) through app.inject: what a browser's preflight and its actual
 * request get back, per route class and per origin. The browser itself: test/browser/ofrep-web.test.ts.
 */

const PAGE = 'https://app.example.com'
const OTHER = 'https://elsewhere.example.org'
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

const preflight = (ctx: TestApp, url: string, origin: string, method: Method, headers = 'content-type,x-api-key'): Promise<LightMyRequestResponse> =>
  ctx.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })

/** The header as a lower-cased list ("GET, HEAD" → ['get', 'head']). */
const listOf = (value: unknown): string[] => String(value ?? '').split(',').map((v) => v.trim().toLowerCase()).filter((v) => v !== '')

/** What keeps `res` from granting `origin` (the literal `*` for the wildcard): readable by the page, headers exposed. [] when nothing. */
function grantProblems (res: LightMyRequestResponse, origin: string): string[] {
  const wrong: string[] = []
  if (res.headers['access-control-allow-origin'] !== origin) wrong.push(`Access-Control-Allow-Origin ${String(res.headers['access-control-allow-origin'])}, not ${origin}`)
  if (!listOf(res.headers.vary).includes('origin')) wrong.push(`Vary ${String(res.headers.vary)}, without Origin`)
  if ('access-control-allow-credentials' in res.headers) wrong.push('credentials allowed')
  const exposed = listOf(res.headers['access-control-expose-headers'])
  if (exposed.join() !== 'etag,retry-after,location') wrong.push(`exposes ${exposed.join(', ')}`)
  return wrong
}

/** What `res` grants when it should grant nothing (no Allow-Origin, nothing exposed). [] when nothing. */
function grantedProblems (res: LightMyRequestResponse): string[] {
  const wrong: string[] = []
  if ('access-control-allow-origin' in res.headers) wrong.push(`Access-Control-Allow-Origin ${String(res.headers['access-control-allow-origin'])}`)
  if ('access-control-expose-headers' in res.headers) wrong.push(`exposes ${String(res.headers['access-control-expose-headers'])}`)
  return wrong
}

/** What keeps a preflight from being one the browser accepts for `origin`: 204, the method and the clients' headers allowed, cached 600 s. */
function preflightProblems (res: LightMyRequestResponse, origin: string, method: Method): string[] {
  const wrong = grantProblems(res, origin)
  if (res.statusCode !== 204) wrong.push(`status ${res.statusCode} (${res.body})`)
  if (!listOf(res.headers['access-control-allow-methods']).includes(method.toLowerCase())) wrong.push(`${method} not among ${String(res.headers['access-control-allow-methods'])}`)
  if (listOf(res.headers['access-control-allow-headers']).join() !== ALLOWED_HEADERS.join()) wrong.push(`allows the headers ${String(res.headers['access-control-allow-headers'])}`)
  if (res.headers['access-control-max-age'] !== String(PREFLIGHT_MAX_AGE_S)) wrong.push(`max-age ${String(res.headers['access-control-max-age'])}`)
  return wrong
}

/** A response that grants `origin`: one assertion, listing what is wrong. */
function grants (t: Test, res: LightMyRequestResponse, origin: string, label: string): void {
  t.same(grantProblems(res, origin), [], `${label}: Access-Control-Allow-Origin ${origin}, Vary: Origin, no credentials, ETag, Retry-After and Location exposed`)
}

/** A response that grants nothing: one assertion. */
function grantsNothing (t: Test, res: LightMyRequestResponse, label: string): void {
  t.same(grantedProblems(res), [], `${label}: no Access-Control-Allow-Origin, nothing exposed`)
}

/** A preflight the browser accepts for `origin`: one assertion. */
function preflightOk (t: Test, res: LightMyRequestResponse, origin: string, method: Method, label: string): void {
  t.same(preflightProblems(res, origin, method), [], `${label}: 204 granting ${origin}, ${method} and the clients' headers allowed, max-age ${PREFLIGHT_MAX_AGE_S}`)
}

/** [label, problems] for many requests: the ones with problems (five at most, then their number), for one assertion. */
function withProblems (checked: Array<[string, string[]]>): unknown[] {
  const bad = checked.filter(([, wrong]) => wrong.length > 0).map(([label, wrong]) => ({ case: label, wrong }))
  return bad.length > 5 ? [...bad.slice(0, 5), `… and ${bad.length - 5} more`] : bad
}

// One of each route class: evaluation (all four), reads, writes (with path parameters where routes have them).
// Evaluation unprefixed and under /environments/{environment} (a browser app's URL may name its environment).
const EVALUATION: Array<[Method, string]> = [['GET', '/evaluate/beta'], ['HEAD', '/evaluate/beta'], ['POST', '/evaluate'], ['POST', '/ofrep/v1/evaluate/flags'], ['POST', '/ofrep/v1/evaluate/flags/beta'],
  ['GET', '/environments/development/evaluate/beta'], ['POST', '/environments/development/ofrep/v1/evaluate/flags']]
const READS: Array<[Method, string]> = [['GET', '/flags'], ['GET', '/flags/beta'], ['GET', '/flags/beta/overrides'], ['GET', '/customers/acme/flags'], ['GET', '/users'], ['GET', '/healthz'],
  ['GET', '/environments/development/flags/beta'], ['GET', '/environments']]
const WRITES: Array<[Method, string]> = [['POST', '/flags'], ['PUT', '/flags/beta'], ['DELETE', '/flags/beta'], ['POST', '/flags/beta/rename'], ['PUT', '/flags/beta/overrides/users/u1'], ['POST', '/customers'], ['DELETE', '/users/u1'],
  ['PATCH', '/environments/development'], ['POST', '/api-keys']]

t.test('CORS_ORIGINS unset: no CORS headers at all, a preflight is refused as any OPTIONS is', async (t) => {
  const ctx = await build(t)
  const res = await preflight(ctx, '/evaluate/beta', PAGE, 'GET')
  const plain = await ctx.app.inject({ method: 'OPTIONS', url: '/evaluate/beta' })
  t.ok(res.statusCode >= 400, `refused: ${res.statusCode}`)
  t.equal(res.statusCode, plain.statusCode, 'as an OPTIONS without Origin')
  grantsNothing(t, res, 'preflight')
  const get = await ctx.app.inject({ method: 'GET', url: '/flags', headers: { origin: PAGE } })
  t.equal(get.statusCode, 200)
  t.notOk(Object.keys(get.headers).some((h) => h.startsWith('access-control-')), 'no access-control-* header')
  t.notOk('vary' in get.headers, 'no Vary either: nothing changed for deployments without CORS_ORIGINS')
})

t.test('a listed origin: every route\'s preflight is allowed, with no key, on any path', async (t) => {
  // AUTH_READS: reads need a key too, and still a preflight (which carries none) is no 401.
  const ctx = await build(t, { CORS_ORIGINS: `${OTHER}, ${PAGE}`, AUTH_READS: 'true' })
  const checked: Array<[string, string[]]> = []
  for (const [method, url] of [...EVALUATION, ...READS, ...WRITES]) checked.push([`${method} ${url}`, preflightProblems(await preflight(ctx, url, PAGE, method), PAGE, method)])
  t.same(withProblems(checked), [], `every route class (${checked.length} routes): a 204 preflight granting the page its method and headers, cached`)
  preflightOk(t, await preflight(ctx, '/no/such/route', PAGE, 'GET'), PAGE, 'GET', 'an unknown path (its request will get the 404)')
  preflightOk(t, await preflight(ctx, '/flags/beta?x=1', PAGE, 'GET', 'if-none-match'), PAGE, 'GET', 'a query string')
  const res = await preflight(ctx, '/flags/beta', PAGE, 'PUT')
  t.strictSame(listOf(res.headers['access-control-allow-methods']).sort(), ['delete', 'get', 'head', 'patch', 'post', 'put'], 'every method the routes answer')
  // A bare OPTIONS (no Access-Control-Request-Method) is no text/plain 400.
  const bare = await ctx.app.inject({ method: 'OPTIONS', url: '/flags', headers: { origin: PAGE } })
  t.equal(bare.statusCode, 204)
})

t.test('a listed origin: responses are readable, errors included, and expose ETag, Location, Retry-After', async (t) => {
  const ctx = await build(t, { CORS_ORIGINS: PAGE, RATE_LIMIT_PER_MINUTE: '2' })
  const headers = { origin: PAGE, 'x-api-key': WRITE_KEY }
  const created = await ctx.app.inject({ method: 'POST', url: '/flags', headers, payload: { name: 'beta' } })
  t.equal(created.statusCode, 201)
  t.ok(created.headers.location, 'a Location to expose')
  grants(t, created, PAGE, 'POST /flags 201')

  const read = await ctx.app.inject({ method: 'GET', url: '/flags/beta', headers: { origin: PAGE } })
  t.ok(read.headers.etag, 'an ETag to expose')
  grants(t, read, PAGE, 'GET /flags/beta 200')

  const unauthorized = await ctx.app.inject({ method: 'PUT', url: '/flags/beta', headers: { origin: PAGE }, payload: { enabled: false } })
  t.equal(unauthorized.statusCode, 401)
  grants(t, unauthorized, PAGE, '401 (the page can read the problem)')
  const forbidden = await ctx.app.inject({ method: 'DELETE', url: '/flags/beta', headers: { origin: PAGE, 'x-api-key': READ_KEY } })
  t.equal(forbidden.statusCode, 403)
  grants(t, forbidden, PAGE, '403')
  grants(t, await ctx.app.inject({ method: 'GET', url: '/nope', headers: { origin: PAGE } }), PAGE, '404 of an unknown route')

  const evaluate = (etag?: string): Promise<LightMyRequestResponse> => ctx.app.inject({
    method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { origin: PAGE, ...(etag ? { 'if-none-match': etag } : {}) }, payload: { context: { targetingKey: 'u1' } }
  })
  const bulk = await evaluate()
  t.equal(bulk.statusCode, 200)
  grants(t, bulk, PAGE, 'OFREP bulk 200')
  const notModified = await evaluate(String(bulk.headers.etag))
  t.equal(notModified.statusCode, 304, 'If-None-Match (allowed in the preflight) gets its 304')
  grants(t, notModified, PAGE, 'OFREP bulk 304')
  const limited = await evaluate()
  t.equal(limited.statusCode, 429)
  t.ok(limited.headers['retry-after'], 'a Retry-After to expose')
  grants(t, limited, PAGE, '429')
})

t.test('other origins get no grant: no Allow-Origin on the preflight or the response', async (t) => {
  const ctx = await build(t, { CORS_ORIGINS: PAGE })
  await createFlag(ctx, { name: 'beta' })
  // Not the page: another host, scheme or port, a suffix, a prefix, the browsers' "null" origin.
  const preflights: Array<[string, string[]]> = []
  const requests: Array<[string, string[]]> = []
  for (const origin of [OTHER, 'http://app.example.com', 'https://app.example.com:8443', 'https://app.example.com.evil.example', 'https://example.com', 'null']) {
    for (const [method, url] of [...EVALUATION, READS[1], WRITES[1]]) {
      const res = await preflight(ctx, url, origin, method)
      // Still 204: the browser reports the missing grant, not a missing route; Vary: Origin, so a cache must not hand this to the page.
      const wrong = grantedProblems(res)
      if (res.statusCode !== 204) wrong.push(`status ${res.statusCode}`)
      if (!listOf(res.headers.vary).includes('origin')) wrong.push(`Vary ${String(res.headers.vary)}, without Origin`)
      preflights.push([`preflight from ${origin} for ${method} ${url}`, wrong])
    }
    const res = await ctx.app.inject({ method: 'GET', url: '/evaluate/beta?user_id=u1', headers: { origin } })
    // The server answers; the browser withholds it from the page.
    requests.push([`GET from ${origin}`, [...grantedProblems(res), ...(res.statusCode === 200 ? [] : [`status ${res.statusCode}`])]])
  }
  t.same(withProblems(preflights), [], `six other origins, ${preflights.length} preflights: 204 with Vary: Origin, granting nothing`)
  t.same(withProblems(requests), [], 'their GET requests: 200, granting nothing')
  const plain = await ctx.app.inject({ method: 'GET', url: '/evaluate/beta?user_id=u1' })
  t.notOk(Object.keys(plain.headers).some((h) => h.startsWith('access-control-')), 'no Origin (curl, servers): no CORS headers')
  const bare = await ctx.app.inject({ method: 'OPTIONS', url: '/flags' })
  t.ok(bare.statusCode >= 400, `an OPTIONS without Origin is no preflight: ${bare.statusCode} problem as without CORS`)
  t.notOk('access-control-allow-origin' in bare.headers)
})

t.test('* opens the evaluation routes to any origin, never reads or writes; a listed origin keeps them', async (t) => {
  const ctx = await build(t, { CORS_ORIGINS: `*,${PAGE}` })
  await createFlag(ctx, { name: 'beta' })
  const opened: Array<[string, string[]]> = []
  for (const [method, url] of EVALUATION) {
    opened.push([`* for ${method} ${url}`, preflightProblems(await preflight(ctx, url, OTHER, method), '*', method)])
    opened.push([`the listed origin for ${method} ${url}`, preflightProblems(await preflight(ctx, url, PAGE, method), PAGE, method)])
  }
  t.same(withProblems(opened), [], 'every evaluation route: preflights granted to any origin as *, and to the listed origin as itself')
  const kept: Array<[string, string[]]> = []
  for (const [method, url] of [...READS, ...WRITES]) {
    const res = await preflight(ctx, url, OTHER, method)
    kept.push([`* does not open ${method} ${url}`, [...grantedProblems(res), ...(res.statusCode === 204 ? [] : [`status ${res.statusCode}`])]])
    kept.push([`the listed origin for ${method} ${url}`, preflightProblems(await preflight(ctx, url, PAGE, method), PAGE, method)])
  }
  t.same(withProblems(kept), [], 'every read and write route: * grants nothing (204), the listed origin is granted')
  // A preflight is judged by the request it announces: POST /evaluate yes, PUT /evaluate or GET /evaluate no.
  grantsNothing(t, await preflight(ctx, '/evaluate', OTHER, 'PUT'), 'PUT /evaluate')
  grantsNothing(t, await preflight(ctx, '/evaluate', OTHER, 'GET'), 'GET /evaluate')
  grantsNothing(t, await preflight(ctx, '/evaluate/beta/extra', OTHER, 'GET'), 'a path below an evaluation route')
  grantsNothing(t, await preflight(ctx, '/ofrep/v1/evaluate/flags/', OTHER, 'POST'), 'an empty :key')

  const requests: Array<[string, InjectOptions]> = [
    ['GET /evaluate/beta', { method: 'GET', url: '/evaluate/beta?user_id=u1' }],
    ['POST /evaluate', { method: 'POST', url: '/evaluate', payload: { context: { user_id: 'u1' } } }],
    ['POST bulk', { method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: { targetingKey: 'u1' } } }],
    ['POST single', { method: 'POST', url: '/ofrep/v1/evaluate/flags/beta', payload: { context: { targetingKey: 'u1' } } }]
  ]
  const answered: Array<[string, string[]]> = []
  for (const [label, opts] of requests) {
    const res = await ctx.app.inject({ ...opts, headers: { origin: OTHER } })
    answered.push([label, [...grantProblems(res, '*'), ...(res.statusCode === 200 ? [] : [`status ${res.statusCode}: ${res.body}`])]])
  }
  t.same(withProblems(answered), [], 'evaluation requests from any origin: 200, granted as *')
  const write = await ctx.app.inject({ method: 'PUT', url: '/flags/beta', headers: { origin: OTHER, 'x-api-key': WRITE_KEY }, payload: { enabled: false } })
  grantsNothing(t, write, 'a write from an origin only * admits')
  grantsNothing(t, await ctx.app.inject({ method: 'GET', url: '/flags/beta', headers: { origin: OTHER } }), 'a flag read from an origin only * admits')
  grants(t, await ctx.app.inject({ method: 'GET', url: '/flags/beta', headers: { origin: PAGE } }), PAGE, 'the listed origin reads')
})

t.test('a preflight is neither authenticated nor counted by the rate limit', async (t) => {
  const ctx = await build(t, { CORS_ORIGINS: PAGE, AUTH_READS: 'true', RATE_LIMIT_PER_MINUTE: '1' })
  await createFlag(ctx, { name: 'beta' })
  for (let i = 0; i < 5; i++) {
    const res = await preflight(ctx, '/ofrep/v1/evaluate/flags', PAGE, 'POST')
    t.equal(res.statusCode, 204, `preflight ${i + 1}: no 401, no 429`)
    t.notOk('x-ratelimit-remaining' in res.headers, 'not counted')
  }
  const res = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { origin: PAGE, 'x-api-key': READ_KEY }, payload: { context: { targetingKey: 'u1' } } })
  t.equal(res.statusCode, 200, 'the first real request is still within the budget of 1')
  t.equal((await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { origin: PAGE }, payload: { context: { targetingKey: 'u1' } } })).statusCode, 401, 'the request itself still needs its key')
})

t.test('EVALUATION_ROUTES name routes the app has', async (t) => {
  const ctx = await build(t, { CORS_ORIGINS: '*' })
  await ctx.app.ready()
  for (const route of EVALUATION_ROUTES) {
    const [method, url] = route.split(' ')
    t.ok(ctx.app.hasRoute({ method: method as Method, url }), `${route} is a route (renaming it must update the list)`)
  }
})

t.test('a malformed CORS_ORIGINS stops startup with one line naming the entry', async (t) => {
  await t.rejects(build(t, { CORS_ORIGINS: `${PAGE},app.example.com` }), ConfigError)
  try {
    await build(t, { CORS_ORIGINS: `${PAGE}/` })
    t.fail('a trailing slash must be refused')
  } catch (err) {
    t.type(err, ConfigError)
    t.strictSame((err as ConfigError).problems.length, 1)
    t.match((err as ConfigError).problems[0], /^CORS_ORIGINS .*"https:\/\/app\.example\.com\/" \(did you mean "https:\/\/app\.example\.com"\?\)$/)
  }
})
