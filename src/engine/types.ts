/**
 * Engine types. The engine is pure: it imports nothing from db, cache, fastify or node I/O.
 * A flag definition is what the domain stores; a compiled flag is what the snapshot keeps
 * and the hot path evaluates.
 */

/** The type every value of a flag has. */
// Stryker disable next-line ArrayDeclaration,StringLiteral: the list is read by the edges (schemas, CLI, library), not by evaluation; their tests pin it
export const FLAG_TYPES = ['boolean', 'string', 'number', 'json'] as const
export type FlagType = typeof FLAG_TYPES[number]

/** Any JSON value; a flag's values are of its `type` (json flags take any JSON). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Why a value was served: STATIC (no targeting), DEFAULT (fallthrough), TARGETING_MATCH, SPLIT (bucketed), DISABLED (kill switch). */
export const REASONS = ['STATIC', 'DEFAULT', 'TARGETING_MATCH', 'SPLIT', 'DISABLED'] as const
export type Reason = typeof REASONS[number]

/** Clause operators (SPEC §2.2). */
export const OPERATORS = [
  'in', 'not_in', 'eq', 'neq', 'contains', 'starts_with', 'ends_with', 'matches',
  'lt', 'lte', 'gt', 'gte', 'before', 'after',
  'semver_eq', 'semver_lt', 'semver_lte', 'semver_gt', 'semver_gte', 'exists'
] as const
export type Operator = typeof OPERATORS[number]

/**
 * One condition on a context attribute. A clause on an attribute missing from the context is
 * false (true under `negate`). The attribute `now` is the evaluation time, never a context value.
 */
export interface Clause {
  attribute: string
  operator: Operator
  values: Array<string | number | boolean>
  negate?: boolean
  /** String operators compare case-insensitively. */
  case_insensitive?: boolean
}

/** What a matching rule serves: one variant, or a weighted split bucketed like the fallthrough. */
export type Serve = { variant: string } | { rollout: Record<string, number> }

/** All clauses must hold; rules are tried in order and the first match serves. */
export interface Rule {
  id: string
  description?: string
  clauses: Clause[]
  serve: Serve
}

export interface TargetingRules {
  user_ids: string[]
  customer_ids: string[]
  rules: Rule[]
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
  /**
   * What rollouts hash before the bucket value (SPEC §2.4): fixed when the flag is created (its name
   * then, unless written) and kept on rename. Absent means the name, flagd's default.
   */
  bucketing_seed?: string
  type: FlagType
  enabled: boolean
  variants: Record<string, JsonValue>
  default_variant: string
  off_variant: string
  targeting_rules: TargetingRules
  /** Facts about the flag (owner, ticket…), returned with every evaluation. */
  metadata: Record<string, string | number | boolean>
  version: number
}

/** An explicit per-subject switch (SPEC §2.3): serves `variant`, else the default/off variant by `enabled`. */
export interface OverrideSpec {
  enabled: boolean
  variant: string | null
}

/** A flag's overrides by subject id, as the snapshot holds them. */
export interface FlagOverrides {
  users: ReadonlyMap<string, OverrideSpec>
  customers: ReadonlyMap<string, OverrideSpec>
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
  /** Which step matched: `disabled`, `user_override`, `customer_override`, `user_ids`, `customer_ids`, `rule:<id>`, `fallthrough`. */
  rule: string
  /** The flag's metadata (by reference: callers must not mutate it). */
  metadata: Record<string, string | number | boolean>
}
