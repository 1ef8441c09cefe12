/**
 * The evaluation engine (SPEC §2.4): a pure function of compiled flag + context + time.
 * Everything that does not depend on the context (id sets, rule predicates, the splits, the values
 * to serve, whether the flag has any targeting) is worked out once in `compileFlag`, so `evaluate`
 * is a few property reads, at most two Set lookups, one predicate call per rule tried and, for a
 * split, one hash plus a short loop.
 */
import { bucketIndex, bucketingSeedOf, compilePercentageSplit, compileSplit, type CompiledSplit } from './bucketing.js'
import { FlagCompileError } from './compile-error.js'
import { sealResult } from './memo.js'
import { compileRules, CUSTOMER_ATTRIBUTE, type CompiledRule } from './rules.js'
import type {
  EvaluationContext,
  EvaluationResult,
  FlagDefinition,
  FlagOverrides,
  FlagType,
  JsonValue,
  OverrideSpec,
  Reason
} from './types.js'

export { FlagCompileError }

/** What the fallthrough step (8) does, decided at compile time. */
export type Fallthrough =
  /** 100 % and no targeting at all: default variant, `STATIC`. */
  | 'static'
  /** 100 % with some targeting: default variant, `DEFAULT`. */
  | 'default'
  /** 0 %: off variant, `DEFAULT`. */
  | 'off'
  /** A percentage strictly between 0 and 100, or a rollout: bucketed, `SPLIT`. */
  | 'split'

/** A flag as the snapshot keeps it: the definition plus everything precomputed for the hot path. */
export interface CompiledFlag {
  /** The definition this was compiled from, kept for callers (listing, overrides, responses). */
  readonly definition: FlagDefinition
  readonly name: string
  readonly type: FlagType
  readonly version: number
  readonly enabled: boolean
  readonly defaultVariant: string
  readonly offVariant: string
  readonly userIds: ReadonlySet<string>
  readonly customerIds: ReadonlySet<string>
  /** No user_ids, customer_ids, rules or rollout: a 100 % fallthrough is then `STATIC`. */
  readonly noTargeting: boolean
  /** Per-subject overrides with what each serves, resolved at compile time; null when there are none. */
  readonly userOverrides: ReadonlyMap<string, Served> | null
  readonly customerOverrides: ReadonlyMap<string, Served> | null
  readonly fallthrough: Fallthrough
  /** The fallthrough split when `fallthrough === 'split'`, else null. */
  readonly split: CompiledSplit | null
  /** What every split of the flag (fallthrough and rules) hashes before the bucket value; already in their prefixes. */
  readonly bucketingSeed: string
  /** Context attribute the split hashes. */
  readonly bucketBy: string
  /** True when `bucketBy` is `user_id` (or its alias `targetingKey`): read `user_id ?? targetingKey`. */
  readonly bucketByUser: boolean
  /** Targeting rules (step 7), in order. */
  readonly rules: readonly CompiledRule[]
  /** `definition.metadata`, returned by reference with every result. */
  readonly metadata: Readonly<Record<string, string | number | boolean>>
  /** Every result the flag can serve, made once (`evaluate` returns one of these, never a new object). */
  readonly outcomes: Outcomes
  /**
   * Every result made for the flag (those in `outcomes` and those its overrides serve), in the order
   * made: `evaluate` returns one of these and nothing else, so bulk evaluation says each flag's result
   * as its place among them (engine/bulk-program.ts).
   */
  readonly results: readonly EvaluationResult[]
  /**
   * Whether the result can depend on `customer_id` (on, and customer overrides, `customer_ids`, a
   * rule's clause or a split by it): the flag service infers a registered user's customer for such a
   * flag only, as the others evaluate alike without it.
   */
  readonly readsCustomer: boolean
  /**
   * Whether its results can be sent as the API describes them (`isServableMetadata` of its metadata,
   * which every result carries): worked out once, so that serving a flag never walks its metadata.
   */
  readonly servable: boolean
}

/**
 * The results of a compiled flag, one frozen object per step and variant it can serve: evaluation
 * allocates nothing, and a caller may key what it derives from a result (a serialized form) on the
 * object itself. Null where the flag cannot reach that step.
 */
export interface Outcomes {
  /** The kill switch (step 2): off variant, `DISABLED`. */
  readonly disabled: EvaluationResult
  /** `user_ids` and `customer_ids` (steps 5 and 6): default variant, `TARGETING_MATCH`. */
  readonly userIds: EvaluationResult | null
  readonly customerIds: EvaluationResult | null
  /** Per rule (step 7), in order. */
  readonly rules: readonly RuleOutcomes[]
  /** The fallthrough (step 8) when it is not a split; for a split, what a context without the bucket value gets (off, `DEFAULT`). */
  readonly fallthrough: EvaluationResult
  /** The fallthrough split's results, by split index (empty unless `fallthrough === 'split'`). */
  readonly split: readonly EvaluationResult[]
}

/** What one rule serves: its variant, or for a rollout rule the split's results and the miss (off, `DEFAULT`). */
export interface RuleOutcomes {
  readonly match: EvaluationResult
  readonly split: readonly EvaluationResult[]
}

const NO_METADATA: Readonly<Record<string, string | number | boolean>> = Object.freeze({})

/**
 * Metadata as results carry it: string, finite number or boolean values only. Writes refuse anything
 * else; a row written by an older version (metadata `{"x": null}` from a non-finite number) may
 * still hold it, and such a flag's results cannot be served.
 */
export function isServableMetadata (metadata: Readonly<Record<string, unknown>> | undefined): boolean {
  if (metadata == null) return true
  for (const key in metadata) {
    const v = metadata[key]
    if (typeof v === 'string' || typeof v === 'boolean') continue
    if (typeof v === 'number' && Number.isFinite(v)) continue
    return false
  }
  return true
}

const NO_RESULTS: readonly EvaluationResult[] = Object.freeze([])
// Most flags have no id lists: they share this instead of allocating their own (10k flags).
const NO_IDS: ReadonlySet<string> = new Set()
// Stryker disable next-line ConditionalExpression: an empty Set of its own behaves like the shared NO_IDS (allocation only)
const idSet = (ids: ReadonlyArray<string | number>): ReadonlySet<string> => (ids.length === 0 ? NO_IDS : new Set(ids.map(String)))

/**
 * Compiles a flag definition once, when it enters the snapshot (and at write time, to validate).
 * Throws `FlagCompileError` when a variant reference or weight is unusable, so that evaluation
 * itself never has to check and never throws.
 */
export function compileFlag (def: FlagDefinition, overrides?: FlagOverrides): CompiledFlag {
  const { variants, targeting_rules: tr } = def
  requireVariant(def, def.default_variant, 'default_variant')
  requireVariant(def, def.off_variant, 'off_variant')

  const userIds = idSet(tr.user_ids)
  const customerIds = idSet(tr.customer_ids)
  const rollout = tr.rollout
  const rules = compileRules(def)
  const metadata = def.metadata ?? NO_METADATA
  const results: EvaluationResult[] = []
  const make = (variant: string, reason: Reason, rule: string): EvaluationResult => {
    const result = sealResult({ name: def.name, value: variants[variant], variant, reason, type: def.type, version: def.version, rule, metadata })
    results.push(result)
    return result
  }
  const userOverrides = compileOverrides(def, overrides?.users, 'user_override', make, results)
  const customerOverrides = compileOverrides(def, overrides?.customers, 'customer_override', make, results)
  const noTargeting = userIds.size === 0 && customerIds.size === 0 && rules.length === 0 && rollout == null &&
    userOverrides === null && customerOverrides === null

  const bucketingSeed = bucketingSeedOf(def)
  let fallthrough: Fallthrough
  let split: CompiledSplit | null = null
  if (rollout != null) {
    // Stryker disable next-line ArrayDeclaration: a seeded string entry would be a weight that is not a number, which compileSplit scales to 0 and drops
    const entries: [string, number][] = []
    for (const [variant, weight] of Object.entries(rollout)) {
      requireVariant(def, variant, `targeting_rules.rollout.${variant}`)
      // Stryker disable next-line ConditionalExpression: Number.isFinite is false for every non-number, so dropping the typeof test changes nothing
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
        throw new FlagCompileError(
          `targeting_rules.rollout.${variant}`,
          `flag ${def.name}: rollout weight of "${variant}" must be a number >= 0`
        )
      }
      entries.push([variant, weight])
    }
    // An all-zero rollout serves nothing; like flagd it falls back (to the off variant, DEFAULT).
    split = compileSplit(bucketingSeed, entries)
    fallthrough = 'split'
  } else {
    const p = tr.percentage
    // Stryker disable next-line ConditionalExpression: Number.isFinite is false for every non-number, so dropping the typeof test changes nothing
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) {
      throw new FlagCompileError(
        'targeting_rules.percentage',
        `flag ${def.name}: percentage must be a number from 0 to 100 when there is no rollout`
      )
    }
    // Compare at the two-decimal precision the split uses, so 99.999 does not become a 1-in-10^5 split.
    const scaled = Math.round(p * 100)
    if (scaled >= 10000) fallthrough = noTargeting ? 'static' : 'default'
    else if (scaled <= 0) fallthrough = 'off'
    else {
      split = compilePercentageSplit(bucketingSeed, def.default_variant, def.off_variant, p)
      fallthrough = 'split'
    }
  }

  const bucketBy = tr.bucket_by || 'user_id'
  const off = (rule: string): EvaluationResult => make(def.off_variant, 'DEFAULT', rule)
  const outcomes: Outcomes = {
    disabled: make(def.off_variant, 'DISABLED', 'disabled'),
    userIds: userIds.size === 0 ? null : make(def.default_variant, 'TARGETING_MATCH', 'user_ids'),
    customerIds: customerIds.size === 0 ? null : make(def.default_variant, 'TARGETING_MATCH', 'customer_ids'),
    rules: rules.map((rule) => rule.split === null
      ? { match: make(rule.variant, 'TARGETING_MATCH', rule.label), split: NO_RESULTS }
      : { match: off(rule.label), split: rule.split.variants.map((v) => make(v, 'SPLIT', rule.label)) }),
    fallthrough: fallthrough === 'static'
      ? make(def.default_variant, 'STATIC', 'fallthrough')
      : fallthrough === 'default' ? make(def.default_variant, 'DEFAULT', 'fallthrough') : off('fallthrough'),
    split: split === null ? NO_RESULTS : split.variants.map((v) => make(v, 'SPLIT', 'fallthrough'))
  }
  // In the order a single evaluation reads them (the flag service, then `evaluate`): V8 lays an object
  // literal's fields out in this order, so the fields read together sit together. With 10,000 flags
  // each request's flag is out of the CPU's caches, and every cache line reached costs.
  return {
    servable: isServableMetadata(metadata),
    readsCustomer: def.enabled && (customerOverrides !== null || customerIds.size > 0 || bucketBy === CUSTOMER_ATTRIBUTE || rules.some((rule) => rule.readsCustomer)),
    outcomes,
    enabled: def.enabled,
    userOverrides,
    customerOverrides,
    userIds,
    customerIds,
    rules,
    fallthrough,
    split,
    bucketByUser: bucketBy === 'user_id' || bucketBy === 'targetingKey',
    bucketBy,
    definition: def,
    name: def.name,
    type: def.type,
    version: def.version,
    defaultVariant: def.default_variant,
    offVariant: def.off_variant,
    noTargeting,
    bucketingSeed,
    metadata,
    results
  }
}

function requireVariant (def: FlagDefinition, variant: string, field: string): void {
  if (!Object.hasOwn(def.variants, variant)) {
    throw new FlagCompileError(field, `flag ${def.name}: ${field} "${variant}" is not one of its variants`)
  }
}

/**
 * Evaluates a compiled flag for one context (SPEC §2.4 steps 2 to 8; the overrides of steps 3 and 4
 * were compiled into the flag, see compileOverrides). Pure and total: a missing or odd attribute never throws, it just does not match.
 * `now` (epoch ms) is the evaluation time, passed in so the engine never reads a clock; it is the
 * value of the clause attribute `now` (`before`/`after`). Values and metadata are returned by
 * reference from the compiled flag: callers must not mutate them.
 */
export function evaluate (flag: CompiledFlag, context: EvaluationContext, now: number): EvaluationResult {
  const outcomes = flag.outcomes
  if (!flag.enabled) return outcomes.disabled

  if (flag.userOverrides !== null) {
    const userId = userIdOf(context)
    // Stryker disable next-line ConditionalExpression: the map's keys are strings, so get(undefined) is undefined as well
    const hit = userId === undefined ? undefined : flag.userOverrides.get(userId)
    if (hit !== undefined) return hit.result
  }
  if (flag.customerOverrides !== null) {
    const customerId = attr(context.customer_id)
    // Stryker disable next-line ConditionalExpression: the map's keys are strings, so get(undefined) is undefined as well
    const hit = customerId === undefined ? undefined : flag.customerOverrides.get(customerId)
    if (hit !== undefined) return hit.result
  }

  // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty set matches no one either; the size test only skips the lookup
  if (flag.userIds.size > 0) {
    const userId = userIdOf(context)
    // Stryker disable next-line ConditionalExpression: the set holds strings only, so has(undefined) is false as well
    if (userId !== undefined && flag.userIds.has(userId)) return outcomes.userIds as EvaluationResult
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty set matches no one either; the size test only skips the lookup
  if (flag.customerIds.size > 0) {
    const customerId = attr(context.customer_id)
    // Stryker disable next-line ConditionalExpression: the set holds strings only, so has(undefined) is false as well
    if (customerId !== undefined && flag.customerIds.has(customerId)) return outcomes.customerIds as EvaluationResult
  }

  const rules = flag.rules
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r]
    if (!rule.matches(context, now)) continue
    const served = outcomes.rules[r]
    const split = rule.split
    if (split === null) return served.match
    const key = bucketValue(flag, context)
    const i = key === undefined ? -1 : bucketIndex(split, key)
    return i < 0 ? served.match : served.split[i]
  }

  if (flag.fallthrough !== 'split') return outcomes.fallthrough
  const key = bucketValue(flag, context)
  const i = key === undefined ? -1 : bucketIndex(flag.split as CompiledSplit, key)
  return i < 0 ? outcomes.fallthrough : outcomes.split[i]
}

/**
 * The result `evaluate` gives this flag for every context at every time, or null when the context
 * can change it: switched off, or nothing that reads the context (no overrides, ids, rules or split).
 * Bulk evaluation serves such a flag's result without evaluating it per request.
 */
export function fixedResult (flag: CompiledFlag): EvaluationResult | null {
  if (!flag.enabled) return flag.outcomes.disabled
  const readsContext = flag.userOverrides !== null || flag.customerOverrides !== null || flag.userIds.size > 0 ||
    flag.customerIds.size > 0 || flag.rules.length > 0 || flag.fallthrough === 'split'
  return readsContext ? null : flag.outcomes.fallthrough
}

/** The value rollouts hash: the `bucket_by` attribute (`user_id` with its alias). */
function bucketValue (flag: CompiledFlag, context: EvaluationContext): string | undefined {
  return flag.bucketByUser ? userIdOf(context) : attr(context[flag.bucketBy])
}

/** `user_id`, else its alias `targetingKey` (what OpenFeature clients send). */
export function userIdOf (context: EvaluationContext): string | undefined {
  return attr(context.user_id) ?? attr(context.targetingKey)
}

/**
 * A context value as the string that is matched and hashed: numbers and booleans by `String()`.
 * Absent, empty and non-scalar values (null from JSON, anything inherited from Object.prototype)
 * count as missing.
 */
export function attr (value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

/**
 * What an override serves, looked up once when the flag is compiled: one object per variant served,
 * shared by every override serving it. `place` is its result's index in the flag's `results`, the
 * form bulk evaluation says a result in (engine/bulk-program.ts).
 */
export interface Served { readonly variant: string, readonly value: JsonValue, readonly result: EvaluationResult, readonly place: number }

/**
 * Resolve each override to the variant it serves: its own variant, else the default variant when
 * enabled and the off variant when not. An override naming a variant the flag no longer has (the
 * flag was edited since) falls back the same way rather than failing the whole flag.
 */
function compileOverrides (
  def: FlagDefinition, specs: ReadonlyMap<string, OverrideSpec> | undefined, rule: 'user_override' | 'customer_override',
  make: (variant: string, reason: Reason, rule: string) => EvaluationResult, results: readonly EvaluationResult[]
): ReadonlyMap<string, Served> | null {
  if (specs === undefined || specs.size === 0) return null
  const byVariant = new Map<string, Served>()
  const servedAs = (variant: string): Served => {
    let served = byVariant.get(variant)
    if (served === undefined) {
      const result = make(variant, 'TARGETING_MATCH', rule)
      byVariant.set(variant, served = { variant, value: def.variants[variant], result, place: results.indexOf(result) })
    }
    return served
  }
  const served = new Map<string, Served>()
  for (const [id, spec] of specs) {
    served.set(id, servedAs(spec.variant !== null && Object.hasOwn(def.variants, spec.variant)
      ? spec.variant
      : spec.enabled ? def.default_variant : def.off_variant))
  }
  return served
}
