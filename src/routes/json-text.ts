import type { BulkEntry } from '../services/flag-service.js'

/** JSON a route sends as text it built itself (Fastify sends a string as text/plain unless told). */
export const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * What a bulk answer derives from each entry (its JSON), made once per entry object and kept as long
 * as the object lives: results are the engine's shared objects, one per flag, step and variant
 * (engine/evaluate.ts, `Outcomes`), and fixed entries the bulk plan's, so a bulk request looks its
 * pieces up instead of serializing 350 objects. An entry made per request (a name no flag has) is
 * collected with its piece.
 */
export function perEntry<T> (make: (entry: BulkEntry) => T): (entry: BulkEntry) => T {
  const made = new WeakMap<BulkEntry, T>()
  return (entry) => {
    let piece = made.get(entry)
    if (piece === undefined) made.set(entry, piece = make(entry))
    return piece
  }
}
