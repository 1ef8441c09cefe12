import fp from 'fastify-plugin'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyRequest } from 'fastify'

/**
 * The routes a `*` in CORS_ORIGINS opens to every origin, as `METHOD path` (Fastify's pattern): evaluation
 * only. Flag reads, subjects and every write stay closed to an origin that is not listed by name.
 */
export const EVALUATION_ROUTES = [
  'GET /evaluate/:name',
  'POST /evaluate',
  'POST /ofrep/v1/evaluate/flags',
  'POST /ofrep/v1/evaluate/flags/:key',
  'GET /ofrep/v1/event-stream'
] as const

/** The request headers the clients send: JSON bodies, conditional reads and writes, the two key headers. */
export const ALLOWED_HEADERS = ['content-type', 'if-none-match', 'if-match', 'x-api-key', 'authorization']
/** Response headers a page may read: the ETag to poll with, when to retry after a 429, a created resource. */
export const EXPOSED_HEADERS = ['ETag', 'Retry-After', 'Location']
/** How long (s) a browser may reuse a preflight answer. */
export const PREFLIGHT_MAX_AGE_S = 600

/**
 * `METHOD path` → a matcher of concrete request paths (a `:param` is one non-empty segment), unprefixed
 * or under /environments/{environment}: a browser app's client key may name its environment in the URL.
 */
const EVALUATION = EVALUATION_ROUTES.map((route) => {
  const [method, path] = route.split(' ')
  return { method, path: new RegExp(`^(?:/environments/[^/]+)?${path.replace(/:[^/]+/g, '[^/]+')}$`) }
})

/** Is this request (a preflight: the request it announces) one of the evaluation routes? */
function isEvaluation (request: FastifyRequest): boolean {
  const announced = request.headers['access-control-request-method']
  const method = request.method === 'OPTIONS' ? (typeof announced === 'string' ? announced : '') : request.method
  const path = request.url.split('?')[0]
  return EVALUATION.some((route) => (route.method === method || (route.method === 'GET' && method === 'HEAD')) && route.path.test(path))
}

/**
 * CORS (CORS_ORIGINS; unset = no CORS headers, as before). An origin listed by name may call every
 * route (its own origin is allowed back); `*` admits any other origin on EVALUATION_ROUTES only
 * (`Access-Control-Allow-Origin: *`). A refused origin, or a route `*` does not open, gets no
 * Access-Control-Allow-Origin (its preflight still gets 204, so the browser reports a missing grant
 * rather than a missing route). No credentials: keys travel in headers, not cookies.
 * Preflights are answered in an onRequest hook registered before auth and rate limiting, so they need no
 * key and count against no budget; every other response, errors included, carries the headers.
 */
export default fp(async function corsOrigins (app) {
  const listed = new Set(app.config.corsOrigins.filter((o) => o !== '*'))
  const anyOriginForEvaluation = app.config.corsOrigins.includes('*')
  if (listed.size === 0 && !anyOriginForEvaluation) return

  // Every method a route answers, collected as routes are added (this plugin is registered before them).
  const methods = new Set<string>()
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'OPTIONS') methods.add(method)
  })
  let granted: FastifyCorsOptions = {}
  let refused: FastifyCorsOptions = {}
  app.addHook('onReady', async () => {
    const common = {
      methods: [...methods],
      allowedHeaders: ALLOWED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_S,
      credentials: false,
      // A bare OPTIONS (no Access-Control-Request-Method) is answered like a preflight instead of
      // getting the plugin's text/plain 400: the API's errors are problem+json.
      strictPreflight: false
    }
    granted = { ...common, exposedHeaders: EXPOSED_HEADERS }
    refused = { ...common, origin: [] } // a list that matches no origin: no Allow-Origin, no Expose-Headers
  })

  await app.register(cors, {
    hook: 'onRequest',
    delegator: (request, callback) => {
      const origin = request.headers.origin
      // No Origin: not a CORS request, nothing to add (an OPTIONS without one gets the usual 404/405).
      if (origin === undefined) callback(null, { origin: false })
      else if (listed.has(origin)) callback(null, { ...granted, origin })
      else if (anyOriginForEvaluation && isEvaluation(request)) callback(null, { ...granted, origin: '*' })
      else callback(null, refused)
    }
  })
}, { name: 'flagpost-cors', dependencies: ['flagpost-services'] })
