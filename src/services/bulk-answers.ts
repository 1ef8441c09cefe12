import { LRUCache } from 'lru-cache'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import { fnv1a } from '../engine/string-hash.js'

/**
 * Bulk answers kept for the contexts that ask again. A web provider polls every flag with the same
 * static context, and anonymous visitors all send the same one, so most bulk requests would evaluate
 * every flag and build the same answer again. An answer is kept with the bulk plan it was made from
 * (one per environment revision): a write, an override or a new environment gives a new plan and
 * the kept answer is never served again. Contexts the plan's flags read the clock for (`now` clauses)
 * are never kept (services/flag-service.ts decides). An answer is kept the second time its context
 * asks, within about as many other contexts as the budget holds answers, so that contexts that never
 * come back, or only after the budget has cycled, cost a key each and evict nothing. Least recently
 * used answers go first once the kept answers pass the budget (`BULK_CACHE_MB`; at 0 the container
 * makes no cache and nothing is kept).
 */

/**
 * One kept answer: the plan it was made from (`BulkPlan.revision`, which stands for the plan without
 * keeping it and what was made of it alive), the results of the flags that plan evaluates per context
 * (told to metrics on every hit, as one array) and the answer.
 */
export interface KeptAnswer<T> { readonly plan: object, readonly served: readonly EvaluationResult[], readonly answer: T }

/**
 * A context as a key: each attribute's name and value, the value's type kept apart (`"1"`, `1` and
 * `true` are different contexts). Two contexts with one key evaluate alike; two with the same
 * attributes in another order merely get two keys. Its JSON says all that in one native call, except
 * for NaN and ±Infinity, which JSON writes as `null`: a context holding one is keyed attribute by
 * attribute instead (never `{`-first, so never a JSON key).
 */
export function contextKey (context: EvaluationContext): string {
  for (const name in context) {
    const value = context[name]
    if (typeof value === 'number' && !Number.isFinite(value)) return typedKey(context)
  }
  return JSON.stringify(context)
}

function typedKey (context: EvaluationContext): string {
  let key = ''
  for (const name in context) {
    const value = context[name]
    if (value === undefined) continue
    key += `${JSON.stringify(name)}:${typeof value === 'string' ? JSON.stringify(value) : String(value)},`
  }
  return key
}

export interface BulkAnswerCache {
  /**
   * The answer kept under `key` for this very plan, refreshed as most recently used; undefined when
   * there is none. One kept for an earlier plan is dropped, and `key` is then admitted at once.
   */
  get: <T>(key: string, plan: object) => KeptAnswer<T> | undefined
  /**
   * Whether the answer to `key`, not kept now, should be, given its `size`: true when `key` asked
   * within about as many other contexts as the budget holds answers of this size (it is then no
   * longer remembered as seen); otherwise it is remembered.
   */
  admits: (key: string, size: number) => boolean
  /** Keep an answer of `size` bytes under `key` (larger than the whole budget: not kept). */
  set: <T>(key: string, kept: KeptAnswer<T>, size: number) => void
  /** Bytes held now (keys included). */
  readonly size: number
}

export function createBulkAnswerCache (budget: number): BulkAnswerCache {
  // lru-cache bounds the total of the sizes given to `set`, least recently used out first, and does not
  // keep an entry larger than the whole budget.
  const kept = new LRUCache<string, KeptAnswer<unknown>>({ maxSize: budget })
  // The keys seen once, by a 32-bit hash of each (fnv1a), not by the key itself. Keeping the keys
  // themselves kept a string per request that asks once, hundreds at a time: they outlived the young
  // generation, were copied into the old one, and were collected there by full collections, which also
  // cost every other request the CPU's cache (a never-repeating bulk request took ~17 % longer with
  // answers kept than without: bench/README, tenth session). Two keys with one hash only admit a
  // context one ask early.
  const seen = new Set<number>()
  return {
    get <T>(key: string, plan: object): KeptAnswer<T> | undefined {
      const found = kept.get(key)
      if (found === undefined) return undefined
      // Made from an earlier revision: never served again. Its context has asked before, so its new answer is kept at once.
      if (found.plan !== plan) {
        kept.delete(key)
        seen.add(fnv1a(key))
        return undefined
      }
      return found as KeptAnswer<T>
    },
    admits (key: string, size: number): boolean {
      const hash = fnv1a(key)
      if (seen.delete(hash)) return true
      // Contexts that come back only after more others than the budget holds would each push out an
      // answer no one asks for again before it is pushed out itself (least recently used, cycled through):
      // remembering no more contexts than that keeps those out, at the cost of a number each.
      if (seen.size >= Math.max(1, Math.floor(budget / size))) seen.clear()
      seen.add(hash)
      return false
    },
    set <T>(key: string, answer: KeptAnswer<T>, size: number): void {
      // The key's text and the results' references count too.
      kept.set(key, answer, { size: size + key.length + 8 * answer.served.length })
    },
    get size () { return kept.calculatedSize }
  }
}
