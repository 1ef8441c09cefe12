/**
 * Engine types. The engine is pure: it imports nothing from db, cache, fastify or node I/O.
 * A flag definition is what the domain stores; a compiled flag is what the snapshot keeps
 * and the hot path evaluates.
 */

export type FlagType = 'boolean' | 'string' | 'number' | 'json'

/** Any JSON value; a flag's values are of its `type` (json flags take any JSON). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

export type Reason = 'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED'

export interface TargetingRules {
  user_ids: string[]
  customer_ids: string[]
  /** Rule objects (SPEC §2.2); evaluated from a later issue, empty until then. */
  rules: unknown[]
  /** 0–100, two decimals; null only when `rollout` is set. */
  percentage: number | null
  /** Weights over variant names; replaces `percentage` when set. */
  rollout: Record<string, number> | null
  /** Context attribute hashed by rollouts (default `user_id`). */
  bucket_by: string
}

/** The evaluable part of a stored flag. */
export interface FlagDefinition {
  name: string
  type: FlagType
  enabled: boolean
  variants: Record<string, JsonValue>
  default_variant: string
  off_variant: string
  targeting_rules: TargetingRules
  version: number
}

/** Evaluation context: `user_id`, `customer_id` and any other scalar attributes. */
export type EvaluationContext = Record<string, string | number | boolean | undefined>

export interface EvaluationResult {
  name: string
  value: JsonValue
  variant: string
  reason: Reason
  type: FlagType
  version: number
  /** Which step matched: `disabled`, `user_ids`, `customer_ids`, `fallthrough`. */
  rule: string
}
