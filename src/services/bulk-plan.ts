import { fixedResult, type CompiledFlag } from '../engine/index.js'
import type { EvaluationResult } from '../engine/types.js'
import { FlagUnservableError } from '../errors.js'
import { isServableMetadata } from '../schemas/storable.js'

export interface EvaluationFailure { name: string, error_code: 'FLAG_NOT_FOUND', error_message: string }
/** A flag whose stored row cannot be served (see FlagUnservableError): reported in bulk results, never failing them. */
export interface EvaluationUnservable { name: string, error_code: 'GENERAL', error_message: string }
export type BulkEntry = EvaluationResult | EvaluationFailure | EvaluationUnservable

/**
 * Whether a result can be sent as the API describes it. Writes refuse anything else; a row written
 * by an older version (metadata `{"x": null}` from a non-finite number) may still hold it.
 */
export const isServable = (result: EvaluationResult): boolean => isServableMetadata(result.metadata)
export const unservable = (name: string): EvaluationUnservable => ({ name, error_code: 'GENERAL', error_message: new FlagUnservableError(name).message })

/**
 * What bulk evaluation of one environment's flags needs beyond the flags, worked out once per
 * snapshot revision instead of on every request: which flags' entries cannot depend on the context
 * (switched off, no targeting, or unservable) and what they are, and which must be evaluated.
 */
export interface BulkPlan {
  /** The environment's flags by name. */
  readonly flags: readonly CompiledFlag[]
  /** Per flag: its entry whatever the context, or null where the context decides. */
  readonly fixed: ReadonlyArray<BulkEntry | null>
  /** The indexes of the flags evaluated per request. */
  readonly evaluated: readonly number[]
  /** The fixed entries that are results (what metrics count as served), in one array that stays the same object. */
  readonly fixedResults: readonly EvaluationResult[]
  /** The flags that cannot be served. */
  readonly unservable: readonly string[]
  /** Whether an evaluated flag has a rule on the evaluation time: then one context's answer can change with no write. */
  readonly readsClock: boolean
}

const plans = new WeakMap<readonly CompiledFlag[], BulkPlan>()

/** The plan for a snapshot's sorted flag list (a new list at every revision that changed the environment), made on first use. */
export function bulkPlanOf (flags: readonly CompiledFlag[]): BulkPlan {
  let plan = plans.get(flags)
  if (plan !== undefined) return plan
  const fixed: Array<BulkEntry | null> = []
  const evaluated: number[] = []
  const fixedResults: EvaluationResult[] = []
  const names: string[] = []
  flags.forEach((flag, i) => {
    const result = fixedResult(flag)
    // Metadata is the flag's, so servable or not whatever the context.
    if (!isServable(result ?? flag.outcomes.disabled)) {
      fixed.push(unservable(flag.name))
      names.push(flag.name)
    } else if (result === null) {
      fixed.push(null)
      evaluated.push(i)
    } else {
      fixed.push(result)
      fixedResults.push(result)
    }
  })
  const readsClock = evaluated.some((i) => flags[i].rules.some((rule) => rule.readsClock))
  plan = { flags, fixed, evaluated, fixedResults, unservable: names, readsClock }
  plans.set(flags, plan)
  return plan
}
