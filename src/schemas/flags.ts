import Type, { type Static, type TSchema } from 'typebox'
import { ATTRIBUTE_NAME } from '../engine/context.js'
import { OPERATORS } from '../engine/types.js'
import { FlagName, Pagination, ref } from './common.js'

export const VARIANT_NAME_PATTERN = '^[A-Za-z0-9_.-]{1,64}$'
export const ATTRIBUTE_PATTERN = ATTRIBUTE_NAME.source
export const RULE_ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$'
export const LIMITS = { ids: 10_000, rules: 100, clauses: 20, values: 10_000, variants: 100, tags: 50, metadata: 50, description: 1000, bucketingSeed: 256 } as const

const FlagType = Type.Union([Type.Literal('boolean'), Type.Literal('string'), Type.Literal('number'), Type.Literal('json')], { description: 'Every value of the flag is of this type' })
// Postgres text cannot hold NUL, and no id or description needs one: refuse it at the door.
const NO_NUL = '^[^\\u0000]*$'
const SubjectId = Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL }), Type.Integer()])
const AnyValue = Type.Unknown({ description: 'A value of the flag\'s type (strings are coerced: "true", "12.5", JSON text)' })
const Variants = Type.Record(Type.String({ pattern: VARIANT_NAME_PATTERN }), AnyValue, { maxProperties: LIMITS.variants, description: 'Named values of the flag' })
const Weight = Type.Number({ minimum: 0, maximum: 10_000 })
const Weights = Type.Record(Type.String({ pattern: VARIANT_NAME_PATTERN }), Weight, { minProperties: 1, maxProperties: LIMITS.variants })
// In a merge patch (RFC 7396) a null member removes that variant from the rollout; the merged result is validated whole.
const WeightsPatch = Type.Record(Type.String({ pattern: VARIANT_NAME_PATTERN }), Type.Union([Weight, Type.Null()]), { minProperties: 1, maxProperties: LIMITS.variants })

export const Clause = Type.Object({
  attribute: Type.String({ pattern: ATTRIBUTE_PATTERN, description: 'Context attribute; `now` is the evaluation time' }),
  operator: Type.Enum(OPERATORS, { description: 'How the attribute is compared (SPEC §2.2)' }),
  values: Type.Optional(Type.Array(Type.Union([Type.String({ maxLength: 1024, pattern: NO_NUL }), Type.Number(), Type.Boolean()]), {
    maxItems: LIMITS.values, description: 'What the attribute is compared with (empty for `exists`)'
  })),
  negate: Type.Optional(Type.Boolean({ description: 'Invert the clause (a missing attribute then matches)' })),
  case_insensitive: Type.Optional(Type.Boolean({ description: 'Compare strings case-insensitively' }))
}, { $id: 'Clause', additionalProperties: false, description: 'One condition; a clause on an attribute missing from the context is false' })

export const Rule = Type.Object({
  id: Type.Optional(Type.String({ pattern: RULE_ID_PATTERN, description: 'Unique within the flag; default `rule-<n>`' })),
  description: Type.Optional(Type.String({ maxLength: 500, pattern: NO_NUL })),
  clauses: Type.Array(ref(Clause), { maxItems: LIMITS.clauses, description: 'All must hold' }),
  serve: Type.Union([
    Type.Object({ variant: Type.String({ pattern: VARIANT_NAME_PATTERN }) }, { additionalProperties: false }),
    Type.Object({ rollout: Weights }, { additionalProperties: false })
  ], { description: 'A variant, or a weighted rollout bucketed by `bucket_by`' })
}, { $id: 'Rule', additionalProperties: false, description: 'Rules are tried in order; the first whose clauses all hold serves' })

/**
 * Flag fields as written. `null` clears a field back to its default; in a JSON Merge Patch (PUT,
 * `patch`) a null member of a nested object removes that member, at every depth.
 */
const writableFields = (patch: boolean) => ({
  description: Type.Optional(Type.Union([Type.String({ maxLength: LIMITS.description, pattern: NO_NUL }), Type.Null()])),
  type: Type.Optional(Type.Union([FlagType, Type.Null()])),
  enabled: Type.Optional(Type.Union([Type.Boolean({ description: 'Kill switch: false serves the off variant to everyone' }), Type.Null()])),
  default_value: Type.Optional(AnyValue),
  off_value: Type.Optional(AnyValue),
  variants: Type.Optional(Type.Union([Variants, Type.Null()])),
  default_variant: Type.Optional(Type.Union([Type.String({ pattern: VARIANT_NAME_PATTERN }), Type.Null()])),
  off_variant: Type.Optional(Type.Union([Type.String({ pattern: VARIANT_NAME_PATTERN }), Type.Null()])),
  targeting_rules: Type.Optional(Type.Union([Type.Object({
    user_ids: Type.Optional(Type.Union([Type.Array(SubjectId, { maxItems: LIMITS.ids }), Type.Null()])),
    customer_ids: Type.Optional(Type.Union([Type.Array(SubjectId, { maxItems: LIMITS.ids }), Type.Null()])),
    rules: Type.Optional(Type.Union([Type.Array(ref(Rule), { maxItems: LIMITS.rules }), Type.Null()])),
    percentage: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100, description: 'Share (two decimals) of unmatched contexts served the default variant' }), Type.Null()])),
    rollout: Type.Optional(Type.Union([patch ? WeightsPatch : Weights, Type.Null()])),
    bucket_by: Type.Optional(Type.Union([Type.String({ pattern: ATTRIBUTE_PATTERN }), Type.Null()]))
  }, { additionalProperties: false }), Type.Null()])),
  tags: Type.Optional(Type.Union([Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), { maxItems: LIMITS.tags }), Type.Null()])),
  bucketing_seed: Type.Optional(Type.Union([Type.String({
    maxLength: LIMITS.bucketingSeed,
    pattern: NO_NUL,
    description: 'Prefix hashed with the bucket value (default: the name at creation; kept on rename; "" hashes the bucket value alone). Changing it reshuffles every rollout bucket; null resets it to the current name'
  }), Type.Null()]))
})
const MetadataValue = Type.Union([Type.String({ maxLength: 1024, pattern: NO_NUL }), Type.Number(), Type.Boolean()])
const metadataField = <T extends TSchema>(value: T) => Type.Optional(Type.Union([
  Type.Record(Type.String({ minLength: 1, maxLength: 64 }), value, { maxProperties: LIMITS.metadata, description: 'Facts about the flag (owner, ticket…), returned with evaluations' }),
  Type.Null()
]))

export const FlagCreate = Type.Object({ name: FlagName, ...writableFields(false), metadata: metadataField(MetadataValue) }, { $id: 'FlagCreate', additionalProperties: false })
// In a merge patch a null metadata value removes that key.
export const FlagPatch = Type.Object({ name: Type.Optional(FlagName), ...writableFields(true), metadata: metadataField(Type.Union([MetadataValue, Type.Null()])) }, {
  $id: 'FlagPatch', additionalProperties: false, description: 'JSON Merge Patch (RFC 7396) of a flag; `name` may only repeat the current name'
})
export type FlagCreateBody = Static<typeof FlagCreate>
export type FlagPatchBody = Static<typeof FlagPatch>

export const TargetingRules = Type.Object({
  user_ids: Type.Array(Type.String()),
  customer_ids: Type.Array(Type.String()),
  rules: Type.Array(ref(Rule)),
  percentage: Type.Union([Type.Number(), Type.Null()]),
  rollout: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
  bucket_by: Type.String()
}, { $id: 'TargetingRules' })

export const Flag = Type.Object({
  name: Type.String(),
  bucketing_seed: Type.String({ description: 'What rollouts hash before the bucket value: the name at creation unless set, kept on rename' }),
  description: Type.String(),
  type: FlagType,
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
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' })
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

export const flagSchemas = [Clause, Rule, TargetingRules, Flag, FlagList, FlagCreate, FlagPatch, RenameBody]
