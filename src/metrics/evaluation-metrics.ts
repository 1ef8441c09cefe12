import { Counter, type Registry } from 'prom-client'
import { resultMemo } from '../engine/index.js'
import { REASONS, type EvaluationResult, type Reason } from '../engine/types.js'
import { perPlan, type BulkPlan } from '../services/bulk-plan.js'
import type { EvaluationObserver } from '../services/flag-service.js'

/** The `flag` label of evaluations of flags that do not exist (flag names cannot start with `_`). */
export const UNKNOWN_FLAG = '__unknown__'
/**
 * Distinct result arrays counted by `servedAll` before they are expanded without waiting for a scrape:
 * one per environment's fixed results and one per kept bulk answer (services/bulk-answers.ts), so
 * polls cycling through a few hundred contexts bump one number per request, not one per flag.
 */
const MAX_PENDING = 1024
/**
 * Counts by plan position (`servedEvaluated`) held before they are added to the tallies without waiting
 * for a scrape: 8 MiB of them (at 10,000 flags, about 30 revisions' plans).
 */
const MAX_PLAN_CELLS = 1 << 20
/**
 * Single evaluations by plan position noted in a row before they are added to their counts: at 10,000
 * flags a count is a cache line from memory, one per request, where the row's next slot is in the
 * caches; adding a full row's counts at once lets the CPU fetch those lines together (bench/README,
 * twenty-sixth session).
 */
const SERVED_ROW = 1024

/** One plan's single evaluations (`servedAt`): see `byOutcome`. */
interface ByOutcome { environment: string, outcomes: BulkPlan['outcomes'], counts: Float64Array, row: Int32Array, noted: number }

/** One flag's evaluations by reason, for the counter that made it (so that a result can hold it directly: see `heldTally`). */
type Tally = Record<Reason, number> & { readonly counter: object }
const emptyTally = (counter: object): Tally => ({ counter, ...Object.fromEntries(REASONS.map((r) => [r, 0])) }) as Tally

/** Per outcome of a plan, its reason's index in REASONS (-1 for an entry that is not a result): what servedEvaluated counts by. */
const reasonsOf = perPlan((plan) => Int8Array.from(plan.outcomes, (entry) => 'reason' in entry ? REASONS.indexOf(entry.reason) : -1))

/**
 * Each result's tally, kept with the result by the first counter that counts it (one memo index for
 * every counter; the tally names its counter, so finding it is one object away from the result).
 */
const heldTally = resultMemo<EvaluationResult, Tally>()

/** Per environment, then per name. */
type Tallies<T> = Map<string, Map<string, T>>
function entryOf<T> (tallies: Tallies<T>, environment: string, name: string, fresh: () => T): T {
  let byName = tallies.get(environment)
  if (byName === undefined) tallies.set(environment, byName = new Map())
  let entry = byName.get(name)
  if (entry === undefined) byName.set(name, entry = fresh())
  return entry
}

/**
 * Count every evaluation the flag service answers, by environment, flag and reason, in `flagpost_evaluations_total`
 * of `registry` (the service tells its observers). The hot path only bumps a number found by the result
 * object; the labelled counter is built from those numbers when it is scraped.
 * Unknown names are counted under one fixed label, so requests cannot create series at will.
 */
export function evaluationCounter (registry: Registry): EvaluationObserver {
  const tallies: Tallies<Tally> = new Map()
  const notFound = new Map<string, number>()
  const unservable: Tallies<{ n: number }> = new Map()
  // A result is the engine's object for one flag of one environment (made once per compile), so its
  // tally is found once and then kept with the object (engine/memo.ts): no lookup by name per evaluation.
  // Kept there for the counter that counted it first; another counter of the same results (two apps on
  // one container, in tests) keeps its tallies in a WeakMap of its own.
  const me = {}
  const fresh = (): Tally => emptyTally(me)
  const mine = new WeakMap<EvaluationResult, Tally>()
  const tallyOf = (environment: string, result: EvaluationResult): Tally => {
    const held = heldTally.get(result)
    if (held?.counter === me) return held
    let tally = mine.get(result)
    if (tally === undefined) {
      tally = entryOf(tallies, environment, result.name, fresh)
      if (held === undefined) heldTally.set(result, tally)
      else mine.set(result, tally)
    }
    return tally
  }
  const count = (environment: string, result: EvaluationResult, n = 1): void => { tallyOf(environment, result)[result.reason] += n }
  // servedAll's arrays, counted whole: a bulk request adds 1 here for all of its fixed results, and
  // each of them gets its share when the counter is collected (or when too many arrays are pending).
  const pending = new Map<readonly EvaluationResult[], { environment: string, n: number }>()
  // servedEvaluated's counts, per plan: `counts[r * K + k]` is how often the plan's k-th evaluated flag
  // (of K) was served with REASONS[r]. A bulk request adds 1 to one cell per flag, rows it writes in
  // order, instead of finding each result's tally; they are added to the tallies by flag name with
  // servedAll's arrays, or when too many wait. A Float64Array counts exactly far past any request rate.
  // Held by the plan's revision with the names of its evaluated flags, not by the plan: counts wait
  // for a scrape, and the plan would keep everything made of it alive until then (bulk-plan.ts, perPlan).
  const byPlan = new Map<object, { environment: string, names: readonly string[], counts: Float64Array }>()
  // servedAt's counts, per plan: `counts[j]` is how often the entry `outcomes[j]` (a result) was served
  // by a single evaluation, once the first `noted` entries of `row` (each an index j) are added to them;
  // the plan's outcomes are held, not the plan (as above).
  const byOutcome = new Map<object, ByOutcome>()
  const addRow = (counted: ByOutcome): void => {
    const { counts, row } = counted
    for (let k = 0; k < counted.noted; k++) counts[row[k]]++
    counted.noted = 0
  }
  let planCells = 0
  const expand = (): void => {
    for (const [results, { environment, n }] of pending) for (const result of results) count(environment, result, n)
    pending.clear()
    for (const { environment, names, counts } of byPlan.values()) {
      const K = names.length
      for (let r = 0; r < REASONS.length; r++) {
        for (let k = 0; k < K; k++) if (counts[r * K + k] > 0) entryOf(tallies, environment, names[k], fresh)[REASONS[r]] += counts[r * K + k]
      }
    }
    byPlan.clear()
    for (const counted of byOutcome.values()) {
      addRow(counted)
      const { environment, outcomes, counts } = counted
      for (let j = 0; j < counts.length; j++) if (counts[j] > 0) count(environment, outcomes[j] as EvaluationResult, counts[j])
    }
    byOutcome.clear()
    planCells = 0
  }

  // Built from the tallies at each scrape.
  registry.registerMetric(new Counter({
    name: 'flagpost_evaluations_total',
    help: 'Flag evaluations served over HTTP (GET/POST /evaluate, OFREP), by environment, flag and reason; unknown flags as flag="__unknown__", reason="ERROR", error_code="FLAG_NOT_FOUND"',
    labelNames: ['environment', 'flag', 'reason', 'error_code'] as const,
    registers: [],
    collect () {
      expand()
      this.reset()
      for (const [environment, byName] of tallies) {
        for (const [flag, tally] of byName) {
          for (const reason of REASONS) if (tally[reason] > 0) this.inc({ environment, flag, reason }, tally[reason])
        }
      }
      for (const [environment, n] of notFound) this.inc({ environment, flag: UNKNOWN_FLAG, reason: 'ERROR', error_code: 'FLAG_NOT_FOUND' }, n)
      // Flags whose stored row cannot be served (a row an older version wrote): existing flags, so by name.
      for (const [environment, byName] of unservable) {
        for (const [flag, { n }] of byName) this.inc({ environment, flag, reason: 'ERROR', error_code: 'GENERAL' }, n)
      }
    }
  }))

  return {
    served: count,
    servedAll (environment, results) {
      const entry = pending.get(results)
      if (entry !== undefined) { entry.n++; return }
      if (pending.size >= MAX_PENDING) expand()
      pending.set(results, { environment, n: 1 })
    },
    servedEvaluated (environment, plan, chosen) {
      const { evaluated } = plan
      const K = evaluated.length
      let counted = byPlan.get(plan.revision)
      if (counted === undefined) {
        if (planCells + REASONS.length * K > MAX_PLAN_CELLS) expand()
        const names = evaluated.map((i) => plan.flags[i].name)
        byPlan.set(plan.revision, counted = { environment, names, counts: new Float64Array(REASONS.length * K) })
        planCells += REASONS.length * K
      }
      const { counts } = counted
      const reasons = reasonsOf(plan)
      for (let k = 0; k < K; k++) counts[reasons[chosen[evaluated[k]]] * K + k]++
    },
    servedAt (environment, plan, index) {
      let counted = byOutcome.get(plan.revision)
      if (counted === undefined) {
        if (planCells + plan.outcomes.length > MAX_PLAN_CELLS) expand()
        byOutcome.set(plan.revision, counted = { environment, outcomes: plan.outcomes, counts: new Float64Array(plan.outcomes.length), row: new Int32Array(SERVED_ROW), noted: 0 })
        planCells += plan.outcomes.length
      }
      counted.row[counted.noted++] = index
      if (counted.noted === SERVED_ROW) addRow(counted)
    },
    // Only environments that exist reach here (the service refuses the others first): the label is bounded.
    missing: (environment) => { notFound.set(environment, (notFound.get(environment) ?? 0) + 1) },
    unservable: (environment, name) => { entryOf(unservable, environment, name, () => ({ n: 0 })).n++ }
  }
}
