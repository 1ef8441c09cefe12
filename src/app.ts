import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Container } from './container.js'
import { RouteNotFoundError, toProblem } from './errors.js'
import { stdoutDestination } from './log-destination.js'
import auth from './plugins/auth.js'
import metrics from './plugins/metrics.js'
import rateLimit from './plugins/rate-limit.js'
import services from './plugins/services.js'
import swagger from './plugins/swagger.js'
import { commonSchemas } from './schemas/common.js'
import { evaluateSchemas } from './schemas/evaluate.js'
import { flagSchemas } from './schemas/flags.js'
import { subjectSchemas } from './schemas/subjects.js'
import customerRoutes from './routes/customers.js'
import evaluateRoutes from './routes/evaluate.js'
import flagRoutes from './routes/flags.js'
import healthRoutes from './routes/health.js'
import ofrepRoutes from './routes/ofrep.js'
import overrideRoutes from './routes/overrides.js'
import userRoutes from './routes/users.js'
import { createValidatorCompiler, fieldProblems } from './validation.js'

export interface AppOptions {
  /** pino options (a stream, a level…); API keys are redacted whatever is passed. */
  logger?: Exclude<FastifyServerOptions['logger'], boolean | undefined>
}

const pathOf = (url: string): string => url.split('?')[0]
const REDACT = { paths: ['req.headers["x-api-key"]', 'req.headers.authorization'], censor: '[redacted]' }

/** Build the HTTP app around a finished container: plugins, routes, one error handler. */
export async function buildApp (container: Container, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: container.config.logLevel, stream: stdoutDestination(), ...opts.logger, redact: REDACT },
    bodyLimit: container.config.bodyLimit,
    // While draining on SIGTERM, serve what still arrives on open connections instead of a 503:
    // close() waits for those requests, so clients see no errors.
    return503OnClosing: false,
    routerOptions: { maxParamLength: 512 },
    // Behind a load balancer, request.ip (the rate-limit key) is the client's only if the proxy is trusted.
    trustProxy: container.config.trustProxy
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(createValidatorCompiler([...commonSchemas, ...flagSchemas, ...evaluateSchemas, ...subjectSchemas]))
  // The API speaks JSON only: a text/plain body is a 415, not a string for schema validation to reject.
  app.removeContentTypeParser('text/plain')
  // PUT /flags/{name} is a JSON Merge Patch; accept its media type as JSON.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))

  app.setErrorHandler((error, request, reply) => {
    const { validation, validationContext } = error as { validation?: Parameters<typeof fieldProblems>[0], validationContext?: string }
    const fields = validation === undefined ? undefined : fieldProblems(validation, validationContext ?? 'body')
    const problem = toProblem(error as Parameters<typeof toProblem>[0], pathOf(request.url), fields)
    if (problem.status === 401) void reply.header('www-authenticate', 'Bearer realm="flagpost"')
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: problem.code, status: problem.status }, problem.detail)
    return reply.code(problem.status).type('application/problem+json').send(problem)
  })
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url)
    return reply.code(404).type('application/problem+json').send(toProblem(new RouteNotFoundError(request.method, path), path))
  })

  await app.register(services, { container })
  await app.register(auth)
  await app.register(rateLimit)
  await app.register(metrics)
  await app.register(swagger)
  await app.register(healthRoutes)
  await app.register(flagRoutes)
  await app.register(evaluateRoutes)
  await app.register(ofrepRoutes)
  await app.register(overrideRoutes)
  await app.register(customerRoutes)
  await app.register(userRoutes)
  return app
}
