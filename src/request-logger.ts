import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino'

type LevelName = Level | 'silent'

/**
 * A request's logger made only when the request logs something its level lets through. Fastify
 * gives every request a pino child logger carrying its `reqId`; making one takes 1–3 µs, as much as
 * the rest of what this service adds to an evaluation, and at the default level an evaluation logs
 * nothing (plugins/request-log.ts). So the child is made on the first enabled call, with the same
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
