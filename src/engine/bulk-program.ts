/**
 * Bulk evaluation's form of a list of compiled flags (services/bulk-plan.ts, once per revision):
 * what `evaluate` reads of each flag, laid out in flag order in one Int32Array, with the splits'
 * hash starts and thresholds in two more (bucketing.ts, `splitTable`). Evaluating hundreds of flags
 * for one context then reads a few arrays front to back, instead of a dozen objects per flag spread
 * over the heap: in a server, between two requests' evaluations, the HTTP work and the answer's
 * bytes push the flags' objects out of the CPU's caches, and a bulk request's evaluation cost about
 * three times what the same loop costs on its own (bench/README, eighteenth session). A clause that
 * several flags hold (the same attribute, operator and values, as a segment reused across flags) is
 * tested once per context.
 *
 * `runBulk` follows `evaluate`'s steps exactly, and says each flag's result as its index among the
 * outcomes the program was made with (a flag's `results`, laid out from its start), the very object
 * `evaluate` returns; `runOne` does the same for one flag's record, for a single evaluation (the
 * single-flag routes, once an environment's plan is made: services/flag-service.ts, `serveOne`). The
 * property tests in test/services/bulk-plan.test.ts hold both to it for every flag, context and time.
 */
import { bucketIndexIn, splitTable, type CompiledSplit, type SplitTable } from './bucketing.js'
import { attr, userIdOf, type CompiledFlag, type Served } from './evaluate.js'
import type { CompiledRule, Predicate } from './rules.js'
import type { Clause, EvaluationContext, EvaluationResult } from './types.js'

/** A record's `steps` (its third word): which of `evaluate`'s steps 3 to 6 the flag has. */
const USER_OVERRIDES = 1
const CUSTOMER_OVERRIDES = 2
const USER_IDS = 4
const CUSTOMER_IDS = 8
/** Not a step: the flag can read `customer_id` (CompiledFlag.readsCustomer), so its caller infers a user's customer. */
const READS_CUSTOMER = 16

/** Where nothing is (a split, an object slot). */
const NONE = -1
/** Either override step. */
const OVERRIDES = USER_OVERRIDES | CUSTOMER_OVERRIDES
/** Above this many results, a flag's are found by a map made for the purpose rather than by a scan. */
const SCAN = 16

export interface BulkProgram {
  /**
   * One record per flag, in order: `index, end, steps, bucketBy`, then per step the flag has (see
   * USER_OVERRIDES…) its object slot (after the overrides' slots, the index of the flag's first result,
   * which a `Served` place counts from; for the id lists, the index served), then the rule count
   * and per rule `clauses, id…, split, index, splitStart`, then the fallthrough's `split, index,
   * splitStart`. `index` is the flag's place in the list (what `chosen` is indexed by), `end` where
   * the next record starts, `bucketBy` the slot of the attribute the splits hash (NONE: the user),
   * `split` a split of `splits` (NONE: none), and `splitStart` the index of its first variant's result.
   */
  readonly code: Int32Array
  /** Per flag of the list the program was made from, where its record starts in `code`; NONE for a flag without one. */
  readonly records: Int32Array
  /** The overrides' maps, the id sets and the bucketing attributes the records name by slot. */
  readonly objects: readonly unknown[]
  /** Each distinct clause once. */
  readonly clauses: readonly Predicate[]
  readonly splits: SplitTable
  /** Per clause, for the context being evaluated: 0 not tested yet, 1 holds, 2 does not. */
  readonly tested: Int8Array
}

/**
 * A clause with more values than this is not looked for among the others: its key would be as long
 * as its values, and kept as long as its rule.
 */
const SHARED_VALUES = 64

/**
 * What makes clauses the same test (compiled alike whatever flag holds them: the flag's name is only
 * for error messages), for each clause of a rule; undefined for a clause of more than SHARED_VALUES
 * values. Made once per compiled rule, which stays the same object at every revision that leaves its
 * flag alone.
 */
const clauseKeys = new WeakMap<CompiledRule, ReadonlyArray<string | undefined>>()
function keysOf (rule: CompiledRule, clauses: readonly Clause[]): ReadonlyArray<string | undefined> {
  let keys = clauseKeys.get(rule)
  if (keys === undefined) {
    keys = clauses.map((clause) => (clause.values?.length ?? 0) > SHARED_VALUES
      ? undefined
      : JSON.stringify([clause.attribute, clause.operator, clause.values ?? null, clause.negate === true, clause.case_insensitive === true]))
    clauseKeys.set(rule, keys)
  }
  return keys
}

/**
 * The program for `flags[i]` at each `i` of `indexes`, whose results are laid out from `starts[i]` in
 * their `results` order. The flags must be switched on (a switched-off flag's entry is fixed).
 */
export function compileBulk (flags: readonly CompiledFlag[], indexes: readonly number[], starts: readonly number[]): BulkProgram {
  const code: number[] = []
  const records = new Int32Array(flags.length).fill(NONE)
  const objects: unknown[] = []
  const clauseIds = new Map<string, number>()
  const clauses: Predicate[] = []
  const splits: CompiledSplit[] = []
  const slot = (object: unknown): number => objects.push(object) - 1
  const splitId = (split: CompiledSplit | null): number => split === null ? NONE : splits.push(split) - 1
  for (const i of indexes) {
    const flag = flags[i]
    if (!flag.enabled) throw new Error(`flag ${flag.name} is switched off: its entry is fixed, not evaluated`)
    const { results } = flag
    // Most flags have a handful of results: a scan costs less than a map of them.
    const place = results.length > SCAN ? new Map(results.map((result, k) => [result, k])) : undefined
    const indexOf = (result: EvaluationResult | null): number => {
      const k = result === null ? -1 : place === undefined ? results.indexOf(result) : place.get(result) ?? -1
      if (k < 0) throw new Error(`flag ${flag.name}: a result its compiled flag does not list`)
      return starts[i] + k
    }
    /** The index of a split's first result; its others follow it, as compileFlag makes them. */
    const firstOf = (results: readonly EvaluationResult[]): number => {
      if (results.length === 0) return NONE
      const first = indexOf(results[0])
      results.forEach((result, k) => { if (indexOf(result) !== first + k) throw new Error(`flag ${flag.name}: a split's results are not in a row`) })
      return first
    }
    records[i] = code.length
    const steps = (flag.userOverrides === null ? 0 : USER_OVERRIDES) | (flag.customerOverrides === null ? 0 : CUSTOMER_OVERRIDES) |
      (flag.userIds.size === 0 ? 0 : USER_IDS) | (flag.customerIds.size === 0 ? 0 : CUSTOMER_IDS) | (flag.readsCustomer ? READS_CUSTOMER : 0)
    code.push(i, NONE, steps, flag.bucketByUser ? NONE : slot(flag.bucketBy))
    if (flag.userOverrides !== null) code.push(slot(flag.userOverrides))
    if (flag.customerOverrides !== null) code.push(slot(flag.customerOverrides))
    // What an override serves says its result's place among the flag's results (a flag can have 100,000 overrides and a handful of results).
    if ((steps & OVERRIDES) !== 0) code.push(starts[i])
    if (flag.userIds.size > 0) code.push(slot(flag.userIds), indexOf(flag.outcomes.userIds))
    if (flag.customerIds.size > 0) code.push(slot(flag.customerIds), indexOf(flag.outcomes.customerIds))
    const defined = (flag.definition.targeting_rules.rules ?? []) as ReadonlyArray<{ readonly clauses: readonly Clause[] }>
    code.push(flag.rules.length)
    flag.rules.forEach((rule, r) => {
      const specs = defined[r].clauses
      if (specs.length !== rule.clauses.length) throw new Error(`flag ${flag.name}: rule ${rule.id}'s clauses are not its definition's`)
      code.push(specs.length)
      keysOf(rule, specs).forEach((key, c) => {
        let id = key === undefined ? undefined : clauseIds.get(key)
        if (id === undefined) {
          id = clauses.push(rule.clauses[c]) - 1
          if (key !== undefined) clauseIds.set(key, id)
        }
        code.push(id)
      })
      const served = flag.outcomes.rules[r]
      code.push(splitId(rule.split), indexOf(served.match), firstOf(served.split))
    })
    code.push(splitId(flag.fallthrough === 'split' ? flag.split : null), indexOf(flag.outcomes.fallthrough), firstOf(flag.outcomes.split))
    code[records[i] + 1] = code.length
  }
  return { code: Int32Array.from(code), records, objects, clauses, splits: splitTable(splits), tested: new Int8Array(clauses.length) }
}

/**
 * Each flag's result for `context` at `now` (epoch ms), as `evaluate` gives it, written to
 * `chosen[index]` as its index among the outcomes. Synchronous: `tested` is the program's own.
 */
export function runBulk (program: BulkProgram, context: EvaluationContext, now: number, chosen: number[]): void {
  const { code, tested } = program
  tested.fill(0)
  const userId = userIdOf(context)
  const customerId = attr(context.customer_id)
  for (let pc = 0; pc < code.length; pc = code[pc + 1]) chosen[code[pc]] = runRecord(program, pc, context, now, userId, customerId, tested)
}

/**
 * The result of the flag whose record is at `at` (`records`) for `context` at `now`, as `evaluate`
 * gives it, as its index among the outcomes: a single evaluation that reads the program's arrays,
 * not the flag's objects spread over the heap (at 10,000 flags, each request's flag is out of the
 * CPU's caches: bench/README, twenty-first session).
 */
export function runOne (program: BulkProgram, at: number, context: EvaluationContext, now: number): number {
  return runRecord(program, at, context, now, userIdOf(context), attr(context.customer_id), null)
}

/** Whether the flag whose record is at `at` can read `customer_id` (CompiledFlag.readsCustomer). */
export const recordReadsCustomer = (program: BulkProgram, at: number): boolean => (program.code[at + 2] & READS_CUSTOMER) !== 0

/**
 * `evaluate`'s steps 3 to 8 over the record at `pc`: the result's index among the outcomes. A clause
 * is tested once per context where `tested` is given (bulk: several flags may hold it), else each time.
 */
function runRecord (
  program: BulkProgram, pc: number, context: EvaluationContext, now: number,
  userId: string | undefined, customerId: string | undefined, tested: Int8Array | null
): number {
  const { code, objects, clauses, splits } = program
  const end = code[pc + 1]
  const steps = code[pc + 2]
  const bucketBy = code[pc + 3]
  pc += 4
  let found = NONE
  // Steps 3 to 6: the overrides, then the id lists.
  if ((steps & OVERRIDES) !== 0) {
    let hit: Served | undefined
    if ((steps & USER_OVERRIDES) !== 0) {
      if (userId !== undefined) hit = (objects[code[pc]] as ReadonlyMap<string, Served>).get(userId)
      pc++
    }
    if ((steps & CUSTOMER_OVERRIDES) !== 0) {
      if (hit === undefined && customerId !== undefined) hit = (objects[code[pc]] as ReadonlyMap<string, Served>).get(customerId)
      pc++
    }
    if (hit !== undefined) return code[pc] + hit.place
    pc++
  }
  if ((steps & USER_IDS) !== 0) {
    if (userId !== undefined && (objects[code[pc]] as ReadonlySet<string>).has(userId)) return code[pc + 1]
    pc += 2
  }
  if ((steps & CUSTOMER_IDS) !== 0) {
    if (customerId !== undefined && (objects[code[pc]] as ReadonlySet<string>).has(customerId)) return code[pc + 1]
    pc += 2
  }
  const bucketValue = bucketBy === NONE ? userId : attr(context[objects[bucketBy] as string])
  // Step 7: the first rule whose clauses all hold.
  const rules = code[pc++]
  for (let r = 0; r < rules && found === NONE; r++) {
    const count = code[pc]
    let holds = true
    for (let c = 1; c <= count && holds; c++) {
      const id = code[pc + c]
      if (tested === null) holds = clauses[id](context, now)
      else {
        let state = tested[id]
        if (state === 0) tested[id] = state = clauses[id](context, now) ? 1 : 2
        holds = state === 1
      }
    }
    pc += count + 1
    if (holds) found = served(splits, code[pc], code[pc + 1], code[pc + 2], bucketValue)
    pc += 3
  }
  // Step 8: the fallthrough.
  return found !== NONE ? found : served(splits, code[end - 3], code[end - 2], code[end - 1], bucketValue)
}

/** What a rule or the fallthrough serves: `index`, unless its split (NONE: none) places the bucket value, then that variant's. */
function served (splits: SplitTable, split: number, index: number, splitStart: number, bucketValue: string | undefined): number {
  if (split === NONE) return index
  const i = bucketValue === undefined ? -1 : bucketIndexIn(splits, split, bucketValue)
  return i < 0 ? index : splitStart + i
}
