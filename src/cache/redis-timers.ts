import { Command, Redis } from 'ioredis'

/**
 * ioredis's command timeout (`commandTimeout`) and stall detection (`socketTimeout`) are plain timers.
 * When the event loop was blocked for longer than they last (Fastify compiles its schemas for seconds
 * at start-up on a small machine; a GC pause or a large promote can do it too), they fire before the
 * reply that arrived meanwhile is read, because the timers phase of a loop turn comes before its poll
 * phase: a healthy connection is then failed (the command rejected, the socket destroyed and
 * reconnected) and pub/sub announcements are lost while it reconnects. Here each of the two timers
 * acts one turn later, on setImmediate (after the poll phase): a reply already received is read
 * first and the timer finds nothing to do. A Redis that really stalled still times out, one loop
 * turn late. (Patched on the prototypes because ioredis offers no hook; checked against ioredis 5.)
 */
export function patientRedisTimers (): void {
  if (patched) return
  patched = true
  type TimedCommand = { _commandTimeoutTimer?: NodeJS.Timeout, isResolved: boolean, reject (err: Error): void }
  const command = Command.prototype as unknown as { setTimeout (this: TimedCommand, ms: number): void }
  command.setTimeout = function (this: TimedCommand, ms: number): void {
    if (this._commandTimeoutTimer !== undefined) return
    this._commandTimeoutTimer = setTimeout(() => {
      setImmediate(() => { if (!this.isResolved) this.reject(new Error('Command timed out')) })
    }, ms)
  }
  type Stalled = { socketTimeoutTimer?: NodeJS.Timeout, stream: NodeJS.EventEmitter & { destroy (err: Error): void }, commandQueue: { length: number }, options: { socketTimeout?: number } }
  const redis = Redis.prototype as unknown as { setSocketTimeout (this: Stalled): void }
  redis.setSocketTimeout = function (this: Stalled): void {
    // The timer judges the stream it was armed on, never a later one: ioredis 5 leaves it armed when
    // that stream closes for another reason, and it then destroyed the reconnected, healthy stream
    // (and no command on the new stream armed its own timer while the stale one stood). ioredis 6
    // fixed the same (redis/ioredis#2147); this method replaces theirs, so it carries the fix itself.
    const stream = this.stream
    const disarm = (): void => {
      clearTimeout(timer)
      if (this.socketTimeoutTimer === timer) this.socketTimeoutTimer = undefined
    }
    const timer: NodeJS.Timeout = setTimeout(() => {
      setImmediate(() => {
        // Data read meanwhile cleared (or replaced) the timer: the connection is alive.
        if (this.socketTimeoutTimer !== timer) return
        this.socketTimeoutTimer = undefined
        stream.destroy(new Error(`Socket timeout. Expecting data, but didn't receive any in ${this.options.socketTimeout}ms.`))
      })
    }, this.options.socketTimeout)
    this.socketTimeoutTimer = timer
    stream.once('close', disarm)
    // As ioredis does: the next data clears it, and re-arms it while replies are still awaited.
    stream.once('data', () => {
      disarm()
      stream.off('close', disarm)
      if (this.commandQueue.length === 0) return
      if (this.socketTimeoutTimer === undefined) redis.setSocketTimeout.call(this)
    })
  }
}
let patched = false
