import { LogController, type FastifyBaseLogger, type FastifyContextConfig, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino'

/** Methods that change nothing: their requests are logged at `debug` unless they fail or are slow. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export type RequestLogLevel = 'info' | 'debug'

/** What a request's line and its duration need of its route: its pattern and whether it evaluates. */
interface LoggedRoute { url: string | undefined, evaluation: boolean }

declare module 'fastify' {
  interface FastifyRequest {
    /** Its route, once its handler has started (RequestLogController.track). */
    loggedRoute: LoggedRoute | null
  }
}

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

  /**
   * Registers the decoration and the `onRoute` hook `track` needs: call on the root app before any
   * route is added.
   */
  register (app: { decorateRequest: (name: 'loggedRoute', value: null) => unknown, addHook: (name: 'onRoute', hook: (route: RouteOptions) => void) => unknown }): void {
    app.decorateRequest('loggedRoute', null)
    app.addHook('onRoute', (route) => { this.track(route) })
  }

  /**
   * Wraps `route`'s handler to tell its requests their route as it starts. Fastify's
   * `request.routeOptions` is a getter that builds a 12-field object (and asks the router about
   * version constraints) on every read; a request refused before its handler (401, 400) still reads it.
   * The route's options are read at its first request, when every onRoute hook has run.
   */
  private track (route: RouteOptions): void {
    const handler = route.handler
    let logged: LoggedRoute | undefined
    route.handler = function (this: unknown, request, reply) {
      request.loggedRoute = logged ??= { url: route.url, evaluation: route.config?.access === 'evaluate' }
      return handler.call(this as never, request, reply)
    }
  }

  override incomingRequest (request: FastifyRequest): void {
    // A level check on the parent logger: at the default level an evaluation builds nothing here.
    if ((request.log as Logger).isLevelEnabled('debug')) request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const ms = reply.elapsedTime
    const route = request.loggedRoute ?? routeOf(request)
    for (const observer of this.observers) observer(request.method, route.url, reply.statusCode, ms)
    if (error != null) {
      request.log.error({ req: request, res: reply, err: error, responseTime: ms }, 'request errored')
      return
    }
    const level = requestLogLevel(request.method, reply.statusCode, route.evaluation, ms, this.slowMs)
    // Fastify's request logger is a pino logger (app.ts gives pino options).
    if ((request.log as Logger).isLevelEnabled(level)) {
      request.log[level]({ req: request, res: reply, responseTime: ms }, ms >= this.slowMs ? 'slow request' : 'request completed')
    }
  }
}

/** A request's route read from its options: for requests that ended before their handler (refused, not found). */
function routeOf (request: FastifyRequest): LoggedRoute {
  const config = request.routeOptions.config as FastifyContextConfig & { url?: string } | undefined
  return { url: config?.url, evaluation: config?.access === 'evaluate' }
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
