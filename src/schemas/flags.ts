import Type, { type Static, type TSchema } from 'typebox'
import { FLAG_TYPES, OPERATORS } from '../engine/types.js'
import { FlagName, NextCursor, Pagination, ref } from './common.js'
import { ATTRIBUTE_NAME_RULE } from './names.js'

export const RULE_ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$'
export const LIMITS = { ids: 10_000, rules: 100, clauses: 20, values: 10_000, variants: 100, tags: 50, metadata: 50, description: 1000, bucketingSeed: 256, metadataKey: 64, variantName: 64, customerName: 256 } as const
export const VARIANT_NAME_PATTERN = `^[A-Za-z0-9_.-]{1,${LIMITS.variantName}}$`

// Named ($id) and referred to with ref(): generated clients get these names, not ones made up from the path to them.
export const FlagType = Type.Union([Type.Literal(FLAG_TYPES[0]), Type.Literal(FLAG_TYPES[1]), Type.Literal(FLAG_TYPES[2]), Type.Literal(FLAG_TYPES[3])], { $id: 'FlagType', description: 'Every value of the flag is of this type' })
// Postgres text cannot hold NUL, and no id or description needs one: refuse it at the door.
const NO_NUL = '^[^\\u0000]*$'
export const TargetingId = Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL }), Type.Integer()], {
  $id: 'TargetingId', description: 'A user or customer id: a string, or an integer taken as its decimal string'
})
const AnyValue = Type.Unknown({ description: 'A value of the flag\'s type (strings are coerced: "true", "12.5", JSON text)' })
export const Variants = Type.Record(Type.String({ pattern: VARIANT_NAME_PATTERN }), AnyValue, { $id: 'Variants', maxProperties: LIMITS.variants, description: 'Named values of the flag' })
const Weight = Type.Number({ minimum: 0, maximum: 10_000 })
export const Rollout = Type.Record(Type.String({ pattern: VARIANT_NAME_PATTERN }), Weight, {
  $id: 'Rollout', minProperties: 1, maxProperties: LIMITS.variants, description: 'Variant → weight: each context is bucketed into a variant in proportion'
})
// In a merge patch (RFC 7396) a null member removes that variant from the rollout; the merged result is validated whole.
export const RolloutPatch = Type.Record(Type.String({ pattern: VARIANT_NAME_PATTERN }), Type.Union([Weight, Type.Null()]), {
  $id: 'RolloutPatch', minProperties: 1, maxProperties: LIMITS.variants, description: 'Variant → weight, merged into the stored rollout; null removes that variant'
})

export const Operator = Type.Enum(OPERATORS, { $id: 'Operator', description: 'How the attribute is compared (SPEC §2.2)' })
export const ClauseValue = Type.Union([Type.String({ maxLength: 1024, pattern: NO_NUL }), Type.Number(), Type.Boolean()], { $id: 'ClauseValue' })

export const Clause = Type.Object({
  attribute: Type.String({ pattern: ATTRIBUTE_NAME_RULE.pattern, description: 'Context attribute; `now` is the evaluation time' }),
  operator: ref(Operator),
  values: Type.Optional(Type.Array(ref(ClauseValue), {
    maxItems: LIMITS.values, description: 'What the attribute is compared with (empty for `exists`)'
  })),
  negate: Type.Optional(Type.Boolean({ description: 'Invert the clause (a missing attribute then matches)' })),
  case_insensitive: Type.Optional(Type.Boolean({ description: 'Compare strings case-insensitively' }))
}, { $id: 'Clause', additionalProperties: false, description: 'One condition; a clause on an attribute missing from the context is false' })

export const ServeVariant = Type.Object({ variant: Type.String({ pattern: VARIANT_NAME_PATTERN }) }, { $id: 'ServeVariant', additionalProperties: false, description: 'Serve this variant' })
export const ServeRollout = Type.Object({ rollout: ref(Rollout) }, { $id: 'ServeRollout', additionalProperties: false, description: 'Serve a variant by weight, bucketed by `bucket_by`' })
export const RuleServe = Type.Union([ref(ServeVariant), ref(ServeRollout)], { $id: 'RuleServe', description: 'A variant, or a weighted rollout bucketed by `bucket_by`' })

export const Rule = Type.Object({
  id: Type.Optional(Type.String({ pattern: RULE_ID_PATTERN, description: 'Unique within the flag; default `rule-<n>`' })),
  description: Type.Optional(Type.String({ maxLength: 500, pattern: NO_NUL })),
  clauses: Type.Array(ref(Clause), { maxItems: LIMITS.clauses, description: 'All must hold' }),
  serve: ref(RuleServe)
}, { $id: 'Rule', additionalProperties: false, description: 'Rules are tried in order; the first whose clauses all hold serves' })

/** targeting_rules as written: on create, and (`patch`) merged into the stored ones on PUT. */
const targetingRulesInput = (patch: boolean) => Type.Object({
  user_ids: Type.Optional(Type.Union([Type.Array(ref(TargetingId), { maxItems: LIMITS.ids }), Type.Null()])),
  customer_ids: Type.Optional(Type.Union([Type.Array(ref(TargetingId), { maxItems: LIMITS.ids }), Type.Null()])),
  rules: Type.Optional(Type.Union([Type.Array(ref(Rule), { maxItems: LIMITS.rules }), Type.Null()])),
  percentage: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100, description: 'Share (two decimals) of unmatched contexts served the default variant' }), Type.Null()])),
  rollout: Type.Optional(Type.Union([patch ? ref(RolloutPatch) : ref(Rollout), Type.Null()])),
  bucket_by: Type.Optional(Type.Union([Type.String({ pattern: ATTRIBUTE_NAME_RULE.pattern }), Type.Null()]))
}, { $id: patch ? 'TargetingRulesPatch' : 'TargetingRulesInput', additionalProperties: false })
export const TargetingRulesInput = targetingRulesInput(false)
export const TargetingRulesPatch = targetingRulesInput(true)

/**
 * Flag fields as written. `null` clears a field back to its default; in a JSON Merge Patch (PUT,
 * `patch`) a null member of a nested object removes that member, at every depth.
 */
const writableFields = (patch: boolean) => ({
  description: Type.Optional(Type.Union([Type.String({ maxLength: LIMITS.description, pattern: NO_NUL }), Type.Null()])),
  type: Type.Optional(Type.Union([ref(FlagType), Type.Null()])),
  enabled: Type.Optional(Type.Union([Type.Boolean({ description: 'Kill switch: false serves the off variant to everyone' }), Type.Null()])),
  default_value: Type.Optional(AnyValue),
  off_value: Type.Optional(AnyValue),
  variants: Type.Optional(Type.Union([ref(Variants), Type.Null()])),
  default_variant: Type.Optional(Type.Union([Type.String({ pattern: VARIANT_NAME_PATTERN }), Type.Null()])),
  off_variant: Type.Optional(Type.Union([Type.String({ pattern: VARIANT_NAME_PATTERN }), Type.Null()])),
  targeting_rules: Type.Optional(Type.Union([patch ? ref(TargetingRulesPatch) : ref(TargetingRulesInput), Type.Null()])),
  tags: Type.Optional(Type.Union([Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), { maxItems: LIMITS.tags }), Type.Null()])),
  bucketing_seed: Type.Optional(Type.Union([Type.String({
    maxLength: LIMITS.bucketingSeed,
    pattern: NO_NUL,
    description: 'Prefix hashed with the bucket value (default: the name at creation; kept on rename; "" hashes the bucket value alone). Changing it reshuffles every rollout bucket; null resets it to the current name'
  }), Type.Null()]))
})
export const MetadataValue = Type.Union([Type.String({ maxLength: 1024, pattern: NO_NUL }), Type.Number(), Type.Boolean()], { $id: 'MetadataValue' })
const metadata = <T extends TSchema>(value: T, $id: string, description: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: LIMITS.metadataKey }), value, { $id, maxProperties: LIMITS.metadata, description })
export const MetadataInput = metadata(ref(MetadataValue), 'MetadataInput', 'Facts about the flag (owner, ticket…), returned with evaluations')
// In a merge patch a null metadata value removes that key.
export const MetadataPatch = metadata(Type.Union([ref(MetadataValue), Type.Null()]), 'MetadataPatch',
  'Facts about the flag (owner, ticket…), merged into the stored ones; null removes that key')
const metadataField = <T extends TSchema>(value: T) => Type.Optional(Type.Union([ref(value), Type.Null()]))

/** What Swagger UI's "Try it out" sends: a flag that can be created as it is (test/openapi-examples.test.ts creates it). */
const FLAG_CREATE_EXAMPLE = {
  name: 'new_checkout_flow',
  description: 'The redesigned checkout',
  type: 'boolean',
  targeting_rules: {
    user_ids: ['alice'],
    rules: [{ id: 'germany', clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }], serve: { variant: 'on' } }],
    percentage: 10
  },
  tags: ['checkout'],
  metadata: { owner: 'payments', ticket: 'PAY-42' }
}
export const FlagCreate = Type.Object({ name: FlagName, ...writableFields(false), metadata: metadataField(MetadataInput) }, {
  $id: 'FlagCreate',
  additionalProperties: false,
  examples: [FLAG_CREATE_EXAMPLE]
})
export const FlagPatch = Type.Object({ name: Type.Optional(FlagName), ...writableFields(true), metadata: metadataField(MetadataPatch) }, {
  $id: 'FlagPatch', additionalProperties: false, examples: [{ enabled: true, targeting_rules: { percentage: 50, user_ids: ['alice', 'bob'] }, metadata: { ticket: null } }], description: 'JSON Merge Patch (RFC 7396) of a flag; `name` may only repeat the current name'
})
export type FlagCreateBody = Static<typeof FlagCreate>
export type FlagPatchBody = Static<typeof FlagPatch>

export const RolloutWeights = Type.Record(Type.String(), Type.Number(), { $id: 'RolloutWeights', description: 'Variant → weight, as stored' })

export const TargetingRules = Type.Object({
  user_ids: Type.Array(Type.String()),
  customer_ids: Type.Array(Type.String()),
  rules: Type.Array(ref(Rule)),
  percentage: Type.Union([Type.Number(), Type.Null()]),
  rollout: Type.Union([ref(RolloutWeights), Type.Null()]),
  bucket_by: Type.String()
}, { $id: 'TargetingRules' })

export const Flag = Type.Object({
  name: Type.String(),
  bucketing_seed: Type.String({ description: 'What rollouts hash before the bucket value: the name at creation unless set, kept on rename' }),
  description: Type.String(),
  type: ref(FlagType),
  enabled: Type.Boolean(),
  default_value: Type.Unknown(),
  off_value: Type.Unknown(),
  variants: Type.Record(Type.String(), Type.Unknown()),
  default_variant: Type.String(),
  off_variant: Type.String(),
  targeting_rules: ref(TargetingRules),
  tags: Type.Array(Type.String()),
  metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  version: Type.Integer({ minimum: 1 }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' })
}, { $id: 'Flag' })
export type FlagBody = Static<typeof Flag>

export const FlagList = Type.Object({
  flags: Type.Array(ref(Flag)),
  next_cursor: ref(NextCursor)
}, { $id: 'FlagList' })

export const FlagListQuery = Type.Object({
  ...Pagination,
  tag: Type.Optional(Type.String({ maxLength: 64, description: 'Only flags with this tag' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Case-insensitive substring of name or description' }))
}, { additionalProperties: false })

export const FlagParams = Type.Object({ name: Type.String({ maxLength: 256, description: 'Flag name' }) })
export const RenameBody = Type.Object({ new_name: FlagName }, { $id: 'RenameRequest', additionalProperties: false })
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 64, description: 'The ETag (version) the change was based on; 412 when stale' }))
})

export const flagSchemas = [
  FlagType, TargetingId, Variants, Rollout, RolloutPatch, Operator, ClauseValue, Clause, ServeVariant, ServeRollout, RuleServe, Rule,
  TargetingRulesInput, TargetingRulesPatch, MetadataValue, MetadataInput, MetadataPatch, RolloutWeights, TargetingRules,
  Flag, FlagList, FlagCreate, FlagPatch, RenameBody
]
