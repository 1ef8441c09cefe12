import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'

/** Methods that change nothing: their requests are logged at `debug` unless they fail or are slow. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export type RequestLogLevel = 'info' | 'debug'

/**
 * The level of a request's log line (README, "Logs"):
 * - `info`: a failure or refusal (4xx, 5xx: the error handler has already logged why, a 5xx at warn or
 *   error), a write (any method but GET, HEAD and OPTIONS, except the evaluation POSTs), or a request
 *   that took `slowMs` or more;
 * - `debug`: everything else, that is evaluations and reads: the hot path, tens of thousands a second
 *   per instance, whose two lines each cost a third of an evaluation request and say nothing the
 *   metrics (`flagpost_http_request_duration_seconds`, `flagpost_evaluations_total`) do not.
 * So the default level (`info`) keeps what an operator looks for, and `LOG_LEVEL=debug` logs every request.
 */
export function requestLogLevel (method: string, statusCode: number, evaluation: boolean, ms: number, slowMs: number): RequestLogLevel {
  if (statusCode >= 400 || ms >= slowMs) return 'info'
  return SAFE_METHODS.has(method) || evaluation ? 'debug' : 'info'
}

/**
 * One log line per request, when its response is sent: method, URL (credentials redacted by the app's
 * serializer), status and time, at the level `requestLogLevel` gives it; at debug also one as it arrives.
 * Replaces Fastify's two lines per request ("incoming request" and "request completed", both at info),
 * which the app turns off.
 * Event streams take over their response and log their opening themselves (routes/streams.ts).
 */
export default fp<{ slowMs: number }>(async function requestLog (app, { slowMs }) {
  // At debug, a line as each request arrives too (headers read, before its body): what shows a request
  // that hangs or is still being sent. Registered only then: at info the hot path has no such hook.
  if ((app.log as Logger).isLevelEnabled('debug')) {
    app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done) => {
      request.log.debug({ req: request }, 'incoming request')
      done()
    })
  }
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const ms = reply.elapsedTime
    const level = requestLogLevel(request.method, reply.statusCode, request.routeOptions.config?.access === 'evaluate', ms, slowMs)
    // At the default level an evaluation ends here, having built nothing.
    // Fastify's request logger is a pino child logger (app.ts gives pino options).
    if ((request.log as Logger).isLevelEnabled(level)) {
      request.log[level]({ req: request, res: reply, responseTime: ms }, ms >= slowMs ? 'slow request' : 'request completed')
    }
    done()
  })
}, { name: 'flagpost-request-log' })
