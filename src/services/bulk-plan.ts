import { compileBulk, fixedResult, recordReadsCustomer, runBulk, runOne, type BulkProgram, type CompiledFlag } from '../engine/index.js'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import { FlagUnservableError } from '../errors.js'
import { nameTable, type NameTable } from '../engine/name-table.js'

export interface EvaluationFailure { name: string, error_code: 'FLAG_NOT_FOUND', error_message: string }
/** A flag whose stored row cannot be served (see FlagUnservableError): reported in bulk results, never failing them. */
export interface EvaluationUnservable { name: string, error_code: 'GENERAL', error_message: string }
export type BulkEntry = EvaluationResult | EvaluationFailure | EvaluationUnservable

export const unservable = (name: string): EvaluationUnservable => ({ name, error_code: 'GENERAL', error_message: new FlagUnservableError(name).message })

/**
 * What bulk evaluation of one environment's flags needs beyond the flags, worked out once per
 * snapshot revision instead of on every request: which flags' entries cannot depend on the context
 * (switched off, no targeting, or unservable) and what they are, and which must be evaluated.
 */
export interface BulkPlan {
  /** The environment's flags by name. */
  readonly flags: readonly CompiledFlag[]
  /**
   * Where a single evaluation finds each flag's entry, by the flag's name, without reaching the flag:
   * for an evaluated flag its record in `program` (0 and above), for a fixed one `fixedAt` of its
   * entry's index in `outcomes`. One lookup in a table laid out for it (engine/name-table.ts), and no
   * array of places read after it: at 10,000 flags each is a cache line from memory (bench/README,
   * twenty-sixth session). `chooseOne` reads it, `isUnservableAt` tells a flag that cannot be served.
   */
  readonly found: NameTable
  /** The indexes of the flags evaluated per request. */
  readonly evaluated: readonly number[]
  /** The fixed entries that are results (what metrics count as served), in one array that stays the same object. */
  readonly fixedResults: readonly EvaluationResult[]
  /** The flags that cannot be served. */
  readonly unservable: readonly string[]
  /** Whether an evaluated flag has a rule on the evaluation time: then one context's answer can change with no write. */
  readonly readsClock: boolean
  /**
   * Every entry the plan can serve, flag after flag: a fixed flag's one entry, an evaluated flag's
   * results (`CompiledFlag.results`). A bulk answer is said as one index into it per flag (`choose`),
   * so what a route makes of each entry (its bytes, a metrics label) is made once per plan, laid out
   * in this order (`perPlan`), and a request never reads the entries themselves.
   */
  readonly outcomes: readonly BulkEntry[]
  /** Where each flag's entries start in `outcomes`, and after the last flag, `outcomes.length`. */
  readonly starts: readonly number[]
  /** The evaluated flags as bulk evaluation reads them (engine/bulk-program.ts), saying each result as its index in `outcomes`. */
  readonly program: BulkProgram
  /**
   * An object of its own that stands for this plan where something must tell plans apart without
   * keeping one alive: a kept answer (services/bulk-answers.ts) outlives its revision until it is
   * asked for or pushed out, and the plan would keep everything made of it (`perPlan`) alive with it.
   */
  readonly revision: object
}

/** `make(key)`, made on the key's first use and kept as long as the key is. */
function keptWith<K extends object, T> (make: (key: K) => T): (key: K) => T {
  const made = new WeakMap<K, T>()
  return (key) => {
    let value = made.get(key)
    if (value === undefined) made.set(key, value = make(key))
    return value
  }
}

/** The plan for a snapshot's sorted flag list (a new list at every revision that changed the environment), made on first use. */
export const bulkPlanOf = keptWith((flags: readonly CompiledFlag[]): BulkPlan => {
  const evaluated: number[] = []
  const fixedResults: EvaluationResult[] = []
  const names: string[] = []
  const outcomes: BulkEntry[] = []
  const starts: number[] = []
  flags.forEach((flag, i) => {
    starts.push(outcomes.length)
    const result = fixedResult(flag)
    // Metadata is the flag's, so servable or not whatever the context.
    if (!flag.servable) {
      outcomes.push(unservable(flag.name))
      names.push(flag.name)
    } else if (result === null) {
      // A loop, not a spread: a spread passes every result as an argument, for each of 10,000 flags.
      for (const result of flag.results) outcomes.push(result)
      evaluated.push(i)
    } else {
      outcomes.push(result)
      fixedResults.push(result)
    }
  })
  starts.push(outcomes.length)
  const readsClock = evaluated.some((i) => flags[i].rules.some((rule) => rule.readsClock))
  const program = compileBulk(flags, evaluated, starts)
  const found = nameTable(flags.map((flag) => flag.name), flags.map((flag, i) => program.records[i] >= 0 ? program.records[i] : fixedAt(starts[i], !flag.servable)))
  return { flags, found, evaluated, fixedResults, unservable: names, readsClock, outcomes, starts, program, revision: {} }
})

/** A fixed entry's place in `found`: below 0, its index in `outcomes` and whether its flag cannot be served in one number. */
const fixedAt = (index: number, unservable: boolean): number => ~(2 * index + (unservable ? 1 : 0))

/** Whether the flag at `at` (`found`) cannot be served (its entry is `unservable`'s). */
export const isUnservableAt = (at: number): boolean => at < 0 && (~at & 1) === 1

/**
 * Each flag's entry for one context, evaluated at `now` where the context decides, as its index in
 * `plan.outcomes`, in flag order: a fixed flag's one entry, an evaluated flag's result as the plan's
 * program gives it (the object `evaluate` returns).
 */
export function choose (plan: BulkPlan, context: EvaluationContext, now: number): number[] {
  // A fixed flag's entry is the first (and only) of its own: `starts` says it.
  const chosen = plan.starts.slice(0, plan.flags.length)
  runBulk(plan.program, context, now, chosen)
  return chosen
}

/**
 * The entry of the flag at `at` (`found`) for one context, evaluated at `now` where the context
 * decides, as its index in `plan.outcomes`: `choose` for one flag. A flag that can read `customer_id`
 * evaluates `inferred(context)` (the flag service adds a registered user's customer).
 */
export function chooseOne (plan: BulkPlan, at: number, context: EvaluationContext, now: number, inferred: (context: EvaluationContext) => EvaluationContext): number {
  if (at < 0) return ~at >> 1
  const { program } = plan
  return runOne(program, at, recordReadsCustomer(program, at) ? inferred(context) : context, now)
}

/**
 * `make(plan)`, made on a plan's first use and kept as long as the plan is (one per revision of an
 * environment's flags): what a route or an observer derives from a plan's outcomes, once.
 */
export const perPlan = <T>(make: (plan: BulkPlan) => T): ((plan: BulkPlan) => T) => keptWith(make)
