/**
 * The evaluation engine (SPEC §2.4): a pure function of compiled flag + context + time.
 * Everything that does not depend on the context (id sets, the split, the values to serve, whether
 * the flag has any targeting) is worked out once in `compileFlag`, so `evaluate` is a few property
 * reads, at most two Set lookups and, for a split, one hash plus a short loop.
 */
import { bucketIndex, compilePercentageSplit, compileSplit, type CompiledSplit } from './bucketing.js'
import type {
  EvaluationContext,
  EvaluationResult,
  FlagDefinition,
  FlagType,
  JsonValue,
  Reason
} from './types.js'

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
  readonly defaultValue: JsonValue
  readonly offVariant: string
  readonly offValue: JsonValue
  readonly userIds: ReadonlySet<string>
  readonly customerIds: ReadonlySet<string>
  /** No user_ids, customer_ids, rules or rollout: a 100 % fallthrough is then `STATIC`. */
  readonly noTargeting: boolean
  readonly fallthrough: Fallthrough
  /** The fallthrough split when `fallthrough === 'split'`, else null. */
  readonly split: CompiledSplit | null
  /** `definition.variants[split.variants[i]]`, looked up once. */
  readonly splitValues: readonly JsonValue[]
  /** Context attribute the split hashes. */
  readonly bucketBy: string
  /** True when `bucketBy` is `user_id` (or its alias `targetingKey`): read `user_id ?? targetingKey`. */
  readonly bucketByUser: boolean
}

/**
 * A definition the engine cannot compile. Thrown by `compileFlag` only, never by `evaluate`, so
 * the write path can reject the flag with a 400 naming `field` before it ever reaches a snapshot.
 */
export class FlagCompileError extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.name = 'FlagCompileError'
    this.field = field
  }
}

/**
 * Compiles a flag definition once, when it enters the snapshot (and at write time, to validate).
 * Throws `FlagCompileError` when a variant reference or weight is unusable, so that evaluation
 * itself never has to check and never throws.
 */
export function compileFlag(def: FlagDefinition): CompiledFlag {
  const { variants, targeting_rules: tr } = def
  requireVariant(def, def.default_variant, 'default_variant')
  requireVariant(def, def.off_variant, 'off_variant')

  const userIds = new Set(tr.user_ids.map(String))
  const customerIds = new Set(tr.customer_ids.map(String))
  const rollout = tr.rollout
  const noTargeting = userIds.size === 0 && customerIds.size === 0 && tr.rules.length === 0 && rollout == null

  let fallthrough: Fallthrough
  let split: CompiledSplit | null = null
  if (rollout != null) {
    const entries: [string, number][] = []
    for (const [variant, weight] of Object.entries(rollout)) {
      requireVariant(def, variant, `targeting_rules.rollout.${variant}`)
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
        throw new FlagCompileError(
          `targeting_rules.rollout.${variant}`,
          `flag ${def.name}: rollout weight of "${variant}" must be a number >= 0`
        )
      }
      entries.push([variant, weight])
    }
    // An all-zero rollout serves nothing; like flagd it falls back (to the off variant, DEFAULT).
    split = compileSplit(def.name, entries)
    fallthrough = 'split'
  } else {
    const p = tr.percentage
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
      split = compilePercentageSplit(def.name, def.default_variant, def.off_variant, p)
      fallthrough = 'split'
    }
  }

  const bucketBy = tr.bucket_by || 'user_id'
  return {
    definition: def,
    name: def.name,
    type: def.type,
    version: def.version,
    enabled: def.enabled,
    defaultVariant: def.default_variant,
    defaultValue: variants[def.default_variant],
    offVariant: def.off_variant,
    offValue: variants[def.off_variant],
    userIds,
    customerIds,
    noTargeting,
    fallthrough,
    split,
    splitValues: split === null ? [] : split.variants.map((v) => variants[v]),
    bucketBy,
    bucketByUser: bucketBy === 'user_id' || bucketBy === 'targetingKey'
  }
}

function requireVariant(def: FlagDefinition, variant: string, field: string): void {
  if (!Object.hasOwn(def.variants, variant)) {
    throw new FlagCompileError(field, `flag ${def.name}: ${field} "${variant}" is not one of its variants`)
  }
}

/**
 * Evaluates a compiled flag for one context (SPEC §2.4 steps 2, 5, 6 and 8; overrides and rules
 * come later). Pure and total: a missing or odd attribute never throws, it just does not match.
 * `now` (epoch ms) is the evaluation time, passed in so the engine never reads a clock; rules with
 * `before`/`after` will use it. Values are returned by reference from the compiled flag: callers
 * must not mutate them.
 */
export function evaluate(flag: CompiledFlag, context: EvaluationContext, now: number): EvaluationResult {
  void now
  if (!flag.enabled) return result(flag, flag.offVariant, flag.offValue, 'DISABLED', 'disabled')

  if (flag.userIds.size > 0) {
    const userId = userIdOf(context)
    if (userId !== undefined && flag.userIds.has(userId)) {
      return result(flag, flag.defaultVariant, flag.defaultValue, 'TARGETING_MATCH', 'user_ids')
    }
  }
  if (flag.customerIds.size > 0) {
    const customerId = attr(context.customer_id)
    if (customerId !== undefined && flag.customerIds.has(customerId)) {
      return result(flag, flag.defaultVariant, flag.defaultValue, 'TARGETING_MATCH', 'customer_ids')
    }
  }

  switch (flag.fallthrough) {
    case 'static':
      return result(flag, flag.defaultVariant, flag.defaultValue, 'STATIC', 'fallthrough')
    case 'default':
      return result(flag, flag.defaultVariant, flag.defaultValue, 'DEFAULT', 'fallthrough')
    case 'off':
      return result(flag, flag.offVariant, flag.offValue, 'DEFAULT', 'fallthrough')
    case 'split': {
      const split = flag.split as CompiledSplit
      const key = flag.bucketByUser ? userIdOf(context) : attr(context[flag.bucketBy])
      const i = key === undefined ? -1 : bucketIndex(split, key)
      if (i < 0) return result(flag, flag.offVariant, flag.offValue, 'DEFAULT', 'fallthrough')
      return result(flag, split.variants[i], flag.splitValues[i], 'SPLIT', 'fallthrough')
    }
  }
}

/** `user_id`, else its alias `targetingKey` (what OpenFeature clients send). */
function userIdOf(context: EvaluationContext): string | undefined {
  return attr(context.user_id) ?? attr(context.targetingKey)
}

/**
 * A context value as the string that is matched and hashed: numbers and booleans by `String()`.
 * Absent, empty and non-scalar values (null from JSON, anything inherited from Object.prototype)
 * count as missing.
 */
function attr(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

function result(flag: CompiledFlag, variant: string, value: JsonValue, reason: Reason, rule: string): EvaluationResult {
  return { name: flag.name, value, variant, reason, type: flag.type, version: flag.version, rule }
}
