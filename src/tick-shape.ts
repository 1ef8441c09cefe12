import { createHook } from 'node:async_hooks'

/**
 * One of Node's own `process.nextTick` queue entries, held for the life of the process so that the
 * hidden classes ("maps") of every later entry stay alive.
 *
 * Why: Node 20 builds each entry as an object literal with two computed symbol keys
 * (`{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`), so its four properties are
 * defined one at a time. V8 records, for each, the map the object had before it, and holds that map
 * weakly. The maps after the first are reached only through live entries, and an entry lives from
 * `nextTick` until its callback runs, so a full garbage collection that comes while none is queued or
 * running frees them.
 * The next entry then gets new maps, V8 finds its record no longer matches and marks the site
 * megamorphic for good, and from then on every `nextTick` (eight or so per HTTP request) defines
 * those properties through a runtime call instead of the optimized code's inline stores.
 *
 * Measured (bench/README, the thirtieth session): a server whose first full collection came during a
 * quiet second after its first write ran `GET /evaluate` at 37–40 µs of main-thread CPU a request, one
 * that served a request first at 33; `node --expose-gc` on a nextTick loop went from 57 to 230 ns a
 * tick after five collections with no entry alive, and ran at 44–53 with one entry held. Which
 * collection came when (the first mark-compact, V8's memory reducer after an idle spell) decided a
 * process's speed for its whole life. test/tick-shape.test.ts reads V8's own record of the site.
 *
 * How: an async hook's `init`, which Node calls with the entry itself while any hook is enabled, is
 * the public way to reach one (`executionAsyncResource` would too, but it sets a flag that keeps Node
 * tracking the current resource for the rest of the process). One hook is enabled for a single
 * `nextTick` and disabled at once, so no hook runs after this returns. Idempotent.
 */
let kept: object | null = null

export function keepTickShape (): void {
  if (kept !== null) return
  const hook = createHook({
    init (_asyncId: number, type: string, _triggerAsyncId: number, resource: object) {
      if (type === 'TickObject' && kept === null) kept = resource
    }
  }).enable()
  try {
    process.nextTick(noop)
  } finally {
    hook.disable()
  }
}

function noop (): void {}
