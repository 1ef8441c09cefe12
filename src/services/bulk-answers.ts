import { LRUCache } from 'lru-cache'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'

/**
 * Bulk answers kept for the contexts that ask again. A web provider polls every flag with the same
 * static context, and anonymous visitors all send the same one, so most bulk requests would evaluate
 * every flag and build the same answer again. An answer is kept with the bulk plan it was made from
 * (one per environment revision): a write, an override or a new environment gives a new plan and
 * the kept answer is never served again. Contexts the plan's flags read the clock for (`now` clauses)
 * are never kept (services/flag-service.ts decides). An answer is kept the second time its context
 * asks within the last SEEN_KEYS contexts, so that a stream of contexts that never come back costs a
 * key each and evicts nothing. Least recently used answers go first once the kept answers pass the
 * budget (`BULK_CACHE_MB`; at 0 the container makes no cache and nothing is kept).
 */

/**
 * One kept answer: the plan it was made from, the results of the flags that plan evaluates per
 * context (told to metrics on every hit, as one array) and the answer.
 */
export interface KeptAnswer<T> { readonly plan: object, readonly served: readonly EvaluationResult[], readonly answer: T }

/**
 * A context as a key: each attribute's name and value, the value's type kept apart (`"1"`, `1` and
 * `true` are different contexts; JSON alone would also make `Infinity` and `null` one key). Two
 * contexts with one key evaluate alike; two with the same attributes in another order merely get two
 * keys.
 */
export function contextKey (context: EvaluationContext): string {
  let key = ''
  for (const name in context) {
    const value = context[name]
    if (value === undefined) continue
    key += `${JSON.stringify(name)}:${typeof value === 'string' ? JSON.stringify(value) : String(value)},`
  }
  return key
}

/** Contexts asked once, remembered to keep their answer the next time they ask; forgotten all at once past this many. */
export const SEEN_KEYS = 4096

export interface BulkAnswerCache {
  /**
   * The answer kept under `key` for this very plan, refreshed as most recently used; undefined when
   * there is none. One kept for an earlier plan is dropped, and `key` is then admitted at once.
   */
  get: <T>(key: string, plan: object) => KeptAnswer<T> | undefined
  /** Whether the answer to `key`, not kept now, should be: true when `key` asked before (then it is no longer remembered as seen). */
  admits: (key: string) => boolean
  /** Keep an answer of `size` bytes under `key` (larger than the whole budget: not kept). */
  set: <T>(key: string, kept: KeptAnswer<T>, size: number) => void
  /** Bytes held now (keys included). */
  readonly size: number
}

export function createBulkAnswerCache (budget: number): BulkAnswerCache {
  // lru-cache bounds the total of the sizes given to `set`, least recently used out first, and does not
  // keep an entry larger than the whole budget.
  const kept = new LRUCache<string, KeptAnswer<unknown>>({ maxSize: budget })
  const seen = new Set<string>()
  return {
    get <T>(key: string, plan: object): KeptAnswer<T> | undefined {
      const found = kept.get(key)
      if (found === undefined) return undefined
      // Made from an earlier revision: never served again. Its context has asked before, so its new answer is kept at once.
      if (found.plan !== plan) {
        kept.delete(key)
        seen.add(key)
        return undefined
      }
      return found as KeptAnswer<T>
    },
    admits (key: string): boolean {
      if (seen.delete(key)) return true
      if (seen.size >= SEEN_KEYS) seen.clear()
      seen.add(key)
      return false
    },
    set <T>(key: string, answer: KeptAnswer<T>, size: number): void {
      // The key's text and the results' references count too.
      kept.set(key, answer, { size: size + key.length + 8 * answer.served.length })
    },
    get size () { return kept.calculatedSize }
  }
}
