/**
 * Bulk evaluation's form of a list of compiled flags (services/bulk-plan.ts, once per revision):
 * what `evaluate` reads of each flag, its splits' hash starts and thresholds too (bucketing.ts,
 * `splitWords`), laid out in flag order in one Int32Array, and every flag's overrides and id lists
 * in one table (name-table.ts). Evaluating hundreds of flags for one context then reads a few
 * arrays front to back, instead of a dozen objects per flag spread over the heap: in a server,
 * between two requests' evaluations, the HTTP work and the answer's bytes push the flags' objects
 * out of the CPU's caches, and a bulk request's evaluation cost about three times what the same
 * loop costs on its own (bench/README, eighteenth session). A clause that several flags hold (the
 * same attribute, operator and values, as a segment reused across flags) is tested once per context.
 *
 * `runBulk` follows `evaluate`'s steps exactly, and says each flag's result as its index among the
 * outcomes the program was made with (a flag's `results`, laid out from its start), the very object
 * `evaluate` returns; `runOne` does the same for one flag's record, for a single evaluation (the
 * single-flag routes, once an environment's plan is made: services/flag-service.ts, `serveOne`). The
 * property tests in test/services/bulk-plan.test.ts hold both to it for every flag, context and time.
 */
import { bucketIndexAt, splitWords, type CompiledSplit } from './bucketing.js'
import { attr, userIdOf, type CompiledFlag } from './evaluate.js'
import { nameTable, type NameTable } from './name-table.js'
import type { CompiledRule, Predicate } from './rules.js'
import type { Clause, EvaluationContext, EvaluationResult } from './types.js'

/** A record's `steps` (its third word): which of `evaluate`'s steps 3 to 6 the flag has. */
const USER_OVERRIDES = 1
const CUSTOMER_OVERRIDES = 2
const USER_IDS = 4
const CUSTOMER_IDS = 8
/** Not a step: the flag can read `customer_id` (CompiledFlag.readsCustomer), so its caller infers a user's customer. */
const READS_CUSTOMER = 16

/** Where nothing is (a split, an object slot, an id list's result). */
const NONE = -1
/** Any of steps 3 to 6: the steps read from `subjects`. */
const SUBJECTS = USER_OVERRIDES | CUSTOMER_OVERRIDES | USER_IDS | CUSTOMER_IDS
/**
 * A value of `subjects`: the override's place among the flag's results plus one (0: no override),
 * shifted left once, and below it whether the id list holds the subject.
 */
const IN_IDS = 1
const overrideValue = (place: number): number => (place + 1) << 1
/** Above this many results, a flag's are found by a map made for the purpose rather than by a scan. */
const SCAN = 16

export interface BulkProgram {
  /**
   * One record per flag, in order: `index, end, steps, bucketBy`, the fallthrough's `split, index,
   * splitStart`, then if the flag has any of the steps 3 to 6 (see USER_OVERRIDES…) its owner in
   * `subjects` (its user ids'; its customer ids' is the next), the index of its first result (which
   * an override's place counts from) and the indexes its user id list and customer id list serve
   * (NONE: no list), then the rule count and per rule `clauses, id…, split, index, splitStart`,
   * then the words of the splits these name (`splitWords`). `index` is the flag's
   * place in the list (what `chosen` is indexed by), `end` where the next record starts, `bucketBy`
   * the slot of the attribute the splits hash (NONE: the user), `split` where the split's words start
   * in `code` (NONE: no split), and `splitStart` the index of its first variant's result. A record
   * is read from its first word on; what a single evaluation reads of it is a line or two.
   */
  readonly code: Int32Array
  /** Per flag of the list the program was made from, where its record starts in `code`; NONE for a flag without one. */
  readonly records: Int32Array
  /** The bucketing attributes the records name by slot. */
  readonly objects: readonly unknown[]
  /**
   * Every flag's overrides and id lists, in one table: for the k-th flag that has any, a user id for
   * owner `2k`, a customer id for `2k + 1`, each with what it is served (see IN_IDS). One lookup per
   * side answers both steps of that side, and reads two cache lines, where a flag's own `Map` and
   * `Set` read several each (name-table.ts). Made again only when those flags change (`subjectsOf`).
   */
  readonly subjects: NameTable
  /** Each distinct clause once. */
  readonly clauses: readonly Predicate[]
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
  const slot = (object: unknown): number => objects.push(object) - 1
  // The record's words that name a split, with the split: its words are written after the rules.
  const named: Array<{ at: number, split: CompiledSplit }> = []
  const splitAt = (split: CompiledSplit | null): number => {
    if (split !== null) named.push({ at: code.length, split })
    return NONE
  }
  // The flags with overrides or id lists, in order: the k-th's subjects are owned by 2k and 2k + 1.
  const holders: CompiledFlag[] = []
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
    code.push(splitAt(flag.fallthrough === 'split' ? flag.split : null), indexOf(flag.outcomes.fallthrough), firstOf(flag.outcomes.split))
    if ((steps & SUBJECTS) !== 0) {
      // What an override serves says its result's place among the flag's results (a flag can have 100,000 overrides and a handful of results).
      code.push(2 * (holders.push(flag) - 1), starts[i], flag.userIds.size > 0 ? indexOf(flag.outcomes.userIds) : NONE, flag.customerIds.size > 0 ? indexOf(flag.outcomes.customerIds) : NONE)
    }
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
      code.push(splitAt(rule.split), indexOf(served.match), firstOf(served.split))
    })
    for (const { at, split } of named) {
      code[at] = code.length
      code.push(...splitWords(split))
    }
    named.length = 0
    code[records[i] + 1] = code.length
  }
  return { code: Int32Array.from(code), records, objects, subjects: subjectsOf(holders), clauses, tested: new Int8Array(clauses.length) }
}

/**
 * Per environment, found by its first flag that has overrides or id lists, the last subjects table
 * made and the flags it was made of. A plan is made at every revision of an environment, and most
 * writes leave those flags as they are (the same compiled objects: cache/flag-snapshot.ts compiles
 * only the flags a write changed), while at 10,000 flags and 100,000 overrides making the table is
 * most of the plan's cost (bench/README, twenty-sixth session). Weak: an environment that is gone,
 * or whose first such flag changed, lets its table go.
 */
const madeSubjects = new WeakMap<CompiledFlag, { holders: readonly CompiledFlag[], table: NameTable }>()

/** The subjects table of `holders` (`BulkProgram.subjects`): the one made last for the same flags in the same order, else a new one. */
function subjectsOf (holders: readonly CompiledFlag[]): NameTable {
  const made = holders.length === 0 ? undefined : madeSubjects.get(holders[0])
  if (made !== undefined && made.holders.length === holders.length && made.holders.every((flag, k) => flag === holders[k])) return made.table
  const ids: string[] = []
  const values: number[] = []
  const owners: number[] = []
  const subject = (owner: number, id: string, value: number): void => { ids.push(id); values.push(value); owners.push(owner) }
  holders.forEach((flag, k) => {
    // forEach, not for…of: no entry array per override (a flag can have 100,000).
    flag.userOverrides?.forEach(({ place }, id) => { subject(2 * k, id, overrideValue(place)) })
    flag.customerOverrides?.forEach(({ place }, id) => { subject(2 * k + 1, id, overrideValue(place)) })
    flag.userIds.forEach((id) => { subject(2 * k, id, IN_IDS) })
    flag.customerIds.forEach((id) => { subject(2 * k + 1, id, IN_IDS) })
  })
  // A subject with an override and on the id list too: one value says both.
  const table = nameTable(ids, values, { owners, merge: (held, given) => held | given })
  if (holders.length > 0) madeSubjects.set(holders[0], { holders, table })
  return table
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
  const { code, objects, clauses } = program
  const at = pc
  const steps = code[pc + 2]
  const bucketBy = code[pc + 3]
  pc += 7
  let found = NONE
  // Steps 3 to 6: the user's override, the customer's, then the id lists, from one lookup per side.
  if ((steps & SUBJECTS) !== 0) {
    const { subjects } = program
    const owner = code[pc]
    const user = userId !== undefined && (steps & (USER_OVERRIDES | USER_IDS)) !== 0 ? subjects.get(userId, owner) ?? 0 : 0
    if (user > IN_IDS) return code[pc + 1] + (user >> 1) - 1
    const customer = customerId !== undefined && (steps & (CUSTOMER_OVERRIDES | CUSTOMER_IDS)) !== 0 ? subjects.get(customerId, owner + 1) ?? 0 : 0
    if (customer > IN_IDS) return code[pc + 1] + (customer >> 1) - 1
    if ((user & IN_IDS) !== 0) return code[pc + 2]
    if ((customer & IN_IDS) !== 0) return code[pc + 3]
    pc += 4
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
    if (holds) found = served(code, pc, bucketValue)
    pc += 3
  }
  // Step 8: the fallthrough.
  return found !== NONE ? found : served(code, at + 4, bucketValue)
}

/**
 * What the rule or fallthrough whose `split, index, splitStart` are at `pc` serves: `index`, unless
 * its split (NONE: none) places the bucket value, then that variant's.
 */
function served (code: Int32Array, pc: number, bucketValue: string | undefined): number {
  const split = code[pc]
  const index = code[pc + 1]
  const splitStart = code[pc + 2]
  if (split === NONE) return index
  const i = bucketValue === undefined ? -1 : bucketIndexAt(code, split, bucketValue)
  return i < 0 ? index : splitStart + i
}
