import { LogController, type FastifyBaseLogger, type FastifyContextConfig, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino'

/** Methods that change nothing: their requests are logged at `debug` unless they fail or are slow. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export type RequestLogLevel = 'info' | 'debug'

/** Told of each completed request: its method, route pattern (undefined when no route matched), status and duration in ms. */
export type CompletedRequestObserver = (method: string, route: string | undefined, statusCode: number, milliseconds: number) => void

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
 * Fastify's request lines, replaced: one line per request when its response is sent (method, URL with
 * credentials redacted by the app's serializer, status and time) at the level `requestLogLevel` gives
 * it, and at debug one more as it arrives (headers read, before its body: what shows a request that
 * hangs or is still being sent). Fastify's own are two lines per request, both at info.
 * Fastify's other lines (stream and serializer errors) are kept as they are.
 * Event streams take over their response, so they have no completed line: they log their opening
 * themselves (routes/streams.ts).
 */
export class RequestLogController extends LogController {
  private readonly observers: CompletedRequestObserver[] = []

  constructor (private readonly slowMs: number) {
    super()
  }

  /**
   * Call `observer` for every completed request, as its line is decided (plugins/metrics.ts times
   * requests here: one callback Fastify makes anyway, where an onResponse hook would add a hook run
   * to every request).
   */
  observe (observer: CompletedRequestObserver): void {
    this.observers.push(observer)
  }

  override incomingRequest (request: FastifyRequest): void {
    // A level check on the parent logger: at the default level an evaluation builds nothing here.
    if ((request.log as Logger).isLevelEnabled('debug')) request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const ms = reply.elapsedTime
    // Built by a getter on every read: read once.
    const config = request.routeOptions.config as FastifyContextConfig & { url?: string } | undefined
    for (const observer of this.observers) observer(request.method, config?.url, reply.statusCode, ms)
    if (error != null) {
      request.log.error({ req: request, res: reply, err: error, responseTime: ms }, 'request errored')
      return
    }
    const level = requestLogLevel(request.method, reply.statusCode, config?.access === 'evaluate', ms, this.slowMs)
    // Fastify's request logger is a pino logger (app.ts gives pino options).
    if ((request.log as Logger).isLevelEnabled(level)) {
      request.log[level]({ req: request, res: reply, responseTime: ms }, ms >= this.slowMs ? 'slow request' : 'request completed')
    }
  }
}

type LevelName = Level | 'silent'

/**
 * A request's logger made only when the request logs something its level lets through. Fastify
 * gives every request a pino child logger carrying its `reqId`; making one takes 1–3 µs, as much as
 * the rest of what this service adds to an evaluation, and at the default level an evaluation logs
 * nothing (`requestLogLevel` above). So the child is made on the first enabled call, with the same
 * bindings and options it would have had; a disabled call returns at the parent's level check.
 */
class LazyRequestLogger {
  private made: Logger | undefined

  constructor (private readonly parent: Logger, private readonly bindings: Bindings, private readonly options: ChildLoggerOptions) {}

  private real (): Logger {
    this.made ??= this.parent.child(this.bindings, this.options)
    return this.made
  }

  get level (): string { return (this.made ?? this.parent).level }
  set level (level: string) { this.real().level = level }
  isLevelEnabled (level: string): boolean { return (this.made ?? this.parent).isLevelEnabled(level) }
  child (bindings: Bindings, options?: ChildLoggerOptions): Logger { return this.real().child(bindings, options) }

  fatal (...args: unknown[]): void { this.log('fatal', args) }
  error (...args: unknown[]): void { this.log('error', args) }
  warn (...args: unknown[]): void { this.log('warn', args) }
  info (...args: unknown[]): void { this.log('info', args) }
  debug (...args: unknown[]): void { this.log('debug', args) }
  trace (...args: unknown[]): void { this.log('trace', args) }
  silent (): void {}

  private log (level: LevelName, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return
    ;(this.real()[level] as (...a: unknown[]) => void)(...args)
  }
}

/**
 * Fastify's `childLoggerFactory`: the request logger, made lazily unless the route sets a level or
 * serializers of its own (none does; then it is made at once, as Fastify would).
 */
export function requestLogger (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options)
  return new LazyRequestLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger
}
