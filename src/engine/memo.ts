import type { EvaluationResult } from './types.js'

/**
 * What callers derive from an engine result and keep with it: a result is one of the frozen objects
 * a compiled flag makes once per step and variant (evaluate.ts, `Outcomes`), so a serialized form or a
 * metrics tally made for it once serves every later request that gets the same result. Each result
 * carries a small array (a non-enumerable symbol property: invisible to JSON, spread, `Object.keys`
 * and deep equality), and each kind of derived value has its own index in it: a lookup is two property
 * loads, where a `WeakMap` keyed by the result hashes into a table of every result (10,000 flags: tens
 * of thousands of entries, a cache miss or two per flag in a bulk request).
 */
const MEMO = Symbol('flagpost.result-memo')
let slots = 0

interface WithMemo { readonly [MEMO]?: unknown[] }

/** `result` with its memo, frozen: how the engine makes every result it returns. */
export function sealResult (result: EvaluationResult): EvaluationResult {
  Object.defineProperty(result, MEMO, { value: [] })
  return Object.freeze(result)
}

/** One kind of value derived from results, kept with each result; objects without a memo (made elsewhere) keep theirs in a WeakMap. */
export interface ResultMemo<K extends object, T> {
  get: (result: K) => T | undefined
  set: (result: K, value: T) => void
}

/**
 * A new kind of derived value: its own index in every result's memo, for as long as the process runs
 * (indexes are never given back): make one per kind, at module level, never one per request or app.
 */
export function resultMemo<K extends object, T> (): ResultMemo<K, T> {
  const slot = slots++
  const others = new WeakMap<K, T>()
  return {
    get: (result) => {
      const memo = (result as WithMemo)[MEMO]
      return memo === undefined ? others.get(result) : memo[slot] as T | undefined
    },
    set: (result, value) => {
      const memo = (result as WithMemo)[MEMO]
      if (memo === undefined) others.set(result, value)
      else memo[slot] = value
    }
  }
}

/** `make(result)`, made once per result and then found in its memo. */
export function memoized<K extends object, T> (make: (result: K) => T): (result: K) => T {
  const memo = resultMemo<K, T>()
  return (result) => {
    let value = memo.get(result)
    if (value === undefined) memo.set(result, value = make(result))
    return value
  }
}
