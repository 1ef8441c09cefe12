import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { clientErrorHandler } from './client-errors.js'
import type { Container } from './container.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './config.js'
import { invalidField, MethodNotAllowedError, RouteNotFoundError } from './errors.js'
import { pathOf, sendProblem, toProblem, type ErrorLike } from './problem.js'
import { stdoutDestination } from './log-destination.js'
import { RequestLogController, requestLogger } from './request-log.js'
import auth from './plugins/auth.js'
import cors from './plugins/cors.js'
import metrics from './plugins/metrics.js'
import rateLimit from './plugins/rate-limit.js'
import services from './plugins/services.js'
import swagger from './plugins/swagger.js'
import customerRoutes from './routes/customers.js'
import customerFlagRoutes from './routes/customer-flags.js'
import environmentRoutes from './routes/environments.js'
import apiKeyRoutes from './routes/api-keys.js'
import { environmentScoped } from './routes/environment-scope.js'
import evaluateRoutes from './routes/evaluate.js'
import flagRoutes from './routes/flags.js'
import healthRoutes from './routes/health.js'
import flagHistoryRoutes from './routes/history.js'
import changeRoutes from './routes/changes.js'
import { changeStreamRoutes, ofrepStreamRoutes } from './routes/streams.js'
import ofrepRoutes from './routes/ofrep.js'
import { ofrepErrorHandler } from './routes/ofrep-errors.js'
import overrideRoutes from './routes/overrides.js'
import userRoutes from './routes/users.js'
import { uiRoutes } from './routes/ui.js'
import { createValidatorCompiler, fieldProblems } from './validation.js'
import { lazySerializers } from './serialization.js'

export interface AppOptions {
  /** pino options (a stream, a level…); API keys are redacted whatever is passed. */
  logger?: Exclude<FastifyServerOptions['logger'], boolean | undefined>
}

const REDACT = { paths: ['req.headers["x-api-key"]', 'req.headers.authorization'], censor: '[redacted]' }
/** A stream token in a URL (SPEC §12) is a credential: request logs show `token=[redacted]`. */
export const redactUrl = (url: string): string => url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]')
/** Fastify's request log fields, with the URL's credentials taken out. */
const requestSerializer = (req: FastifyRequest) => ({
  method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort
})
const OFREP_FLAGS_PATH = '/ofrep/v1/evaluate/flags'

/** The OFREP route a path is, unprefixed or under /environments/{environment}: its errors are OFREP bodies. */
function ofrepRouteOf (path: string): 'flag' | 'bulk' | undefined {
  const rest = path.replace(/^\/environments\/[^/]*/, '')
  if (rest === OFREP_FLAGS_PATH) return 'bulk'
  return rest.startsWith(`${OFREP_FLAGS_PATH}/`) ? 'flag' : undefined
}
/** The methods a path may answer, for `Allow` on a 405 (OPTIONS is CORS preflight, not a route of the API). */
const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
/** Longer than any flag name (128) or subject id (256) in a path, so only junk is cut off by the router. */
const MAX_PARAM_LENGTH = 512
// Longer than the idle timeout of common load balancers (60 s), so they, not we, close idle connections.
const KEEP_ALIVE_TIMEOUT_MS = 72_000

/** The router's own refusals, which happen before any route (and so before the error handler). */
function routerError (error: { code?: string }): Error {
  if (error.code === 'FST_ERR_BAD_URL') return invalidField('path', 'is not valid percent-encoded UTF-8')
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return invalidField('params', `a path segment is longer than ${MAX_PARAM_LENGTH} characters`)
  return error as Error
}

/** Build the HTTP app around a finished container: plugins, routes, one error handler. */
export async function buildApp (container: Container, opts: AppOptions = {}): Promise<FastifyInstance> {
  const requestTimeout = container.config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const requestLog = new RequestLogController(container.config.logSlowMs)
  const app = Fastify({
    logger: { level: container.config.logLevel, stream: stdoutDestination(), ...opts.logger, redact: REDACT, serializers: { req: requestSerializer } },
    // One line per request, at a level by what it was, instead of Fastify's two at info (request-log.ts).
    logController: requestLog,
    // Each request's child logger is made only if the request logs (request-log.ts).
    childLoggerFactory: requestLogger,
    bodyLimit: container.config.bodyLimit,
    // While draining on SIGTERM, serve what still arrives on open connections instead of a 503:
    // close() waits for those requests, so clients see no errors.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Response serializers are built on a route's first answer, not all at start-up (serialization.ts).
    schemaController: { compilersFactory: { buildSerializer: lazySerializers() } },
    // Bad percent-encoding and over-long path segments: problem+json like every other error, or an
    // OFREP error body on the OFREP routes (a key, or an environment, in the path).
    frameworkErrors: (error, request, reply) => {
      const ofrep = ofrepRouteOf(pathOf(request.url))
      return ofrep === undefined ? sendProblem(routerError(error), request, reply) : ofrepErrorHandler(ofrep)(routerError(error) as FastifyError, request, reply)
    },
    // What Node's HTTP parser refuses (too slow, request line or headers too large, not HTTP): problem+json too.
    clientErrorHandler,
    // Behind a load balancer, request.ip (the rate-limit key) is the client's only if the proxy is trusted.
    trustProxy: container.config.trustProxy,
    // A client dribbling its headers or body gets 408 and is disconnected instead of holding a connection.
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Node looks for expired requests every connectionsCheckingInterval (30 s by default): often enough to honour the bound.
    http: { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))), headersTimeout: requestTimeout }
  }).withTypeProvider<TypeBoxTypeProvider>()

  requestLog.register(app)
  app.setValidatorCompiler(createValidatorCompiler())
  // The API speaks JSON only: a text/plain body is a 415, not a string for schema validation to reject.
  app.removeContentTypeParser('text/plain')
  // PUT /flags/{name} is a JSON Merge Patch; accept its media type as JSON.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  app.setErrorHandler((error, request, reply) => {
    const { validation, validationContext } = error as { validation?: Parameters<typeof fieldProblems>[0], validationContext?: string }
    const fields = validation === undefined ? undefined : fieldProblems(validation, validationContext ?? 'body')
    return sendProblem(error as ErrorLike, request, reply, fields)
  })
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url)
    // A known path asked with a method it does not take: 405 with the methods it does take (RFC 9110 §15.5.6).
    const allowed = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null)
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '))
      return reply.code(405).type('application/problem+json').send(toProblem(new MethodNotAllowedError(request.method, path, allowed.join(', ')), path))
    }
    return reply.code(404).type('application/problem+json').send(toProblem(new RouteNotFoundError(request.method, path), path))
  })

  await app.register(services, { container })
  await app.register(cors) // before auth and rate limiting: preflights carry no key
  await app.register(auth)
  await app.register(rateLimit)
  await app.register(metrics, { requestLog })
  await app.register(swagger)
  await app.register(healthRoutes)
  // What addresses one environment: the default one here, any one under /environments/{environment}.
  const scoped = [flagRoutes, flagHistoryRoutes, evaluateRoutes, ofrepRoutes, ofrepStreamRoutes, overrideRoutes, customerFlagRoutes]
  await app.register(environmentScoped(scoped, { prefixed: false }))
  await app.register(environmentScoped(scoped, { prefixed: true }), { prefix: '/environments/:environment' })
  await app.register(environmentRoutes)
  await app.register(apiKeyRoutes)
  await app.register(changeRoutes)
  await app.register(changeStreamRoutes)
  // Streams never finish on their own: end them before the server waits for its requests to (SIGTERM).
  app.addHook('preClose', async () => { container.services.streams.shutdown() })
  await app.register(customerRoutes)
  await app.register(userRoutes)
  await app.register(uiRoutes)
  return app
}
