import Type, { type Static } from 'typebox'
import { MAX_CONTEXT_ATTRIBUTES, MAX_CONTEXT_STRING } from '../engine/context.js'
import { REASONS } from '../engine/types.js'
import { FlagName, ref } from './common.js'
import { FlagType, MetadataValue } from './flags.js'
import { ATTRIBUTE_NAME_RULE } from './names.js'

/**
 * A context attribute as clients send it: a scalar, or (OpenFeature's nested contexts) an object read
 * as dotted attributes (`user: {plan}` is `user.plan`); arrays are ignored. engine/context.ts reads it.
 */
export const CONTEXT_VALUE_DESCRIPTION = 'A string, number or boolean; an object is read as dotted attributes ' +
  '({"user": {"plan": "pro"}} is the attribute user.plan), nesting at most 8 levels; arrays, and nested names that ' +
  'cannot be attribute names, are ignored'
export const ContextObject = Type.Object({}, {
  $id: 'ContextObject', additionalProperties: true, description: 'Nested attributes: {"plan": "pro"} under "user" is the attribute user.plan'
})
export const contextValue = ($id: string, ...extra: ReturnType<typeof Type.Null>[]) => Type.Union([
  Type.String({ maxLength: MAX_CONTEXT_STRING }), Type.Number(), Type.Boolean(), ...extra, ref(ContextObject), Type.Array(Type.Unknown())
], { $id, description: CONTEXT_VALUE_DESCRIPTION })
export const ContextValue = contextValue('ContextValue')

export const Reason = Type.Union(REASONS.map((r) => Type.Literal(r)), {
  $id: 'Reason',
  description: 'Why this value: STATIC (no targeting), DEFAULT (fallthrough), TARGETING_MATCH, SPLIT (bucketed), DISABLED (kill switch)'
})

export const EvaluationResult = Type.Object({
  name: Type.String(),
  value: Type.Unknown({ description: 'The served value, of the flag\'s type' }),
  variant: Type.String(),
  reason: ref(Reason),
  type: ref(FlagType),
  version: Type.Integer(),
  rule: Type.String({ description: 'Which step matched: disabled, user_override, customer_override, user_ids, customer_ids, rule:<id>, fallthrough' }),
  metadata: Type.Record(Type.String(), ref(MetadataValue), { description: 'The flag\'s metadata' })
}, { $id: 'EvaluationResult' })
export type EvaluationResultBody = Static<typeof EvaluationResult>

export const EvaluationErrorCode = Type.Union([Type.Literal('FLAG_NOT_FOUND'), Type.Literal('GENERAL')], {
  $id: 'EvaluationErrorCode',
  description: 'FLAG_NOT_FOUND: no flag has this name; GENERAL: the flag is stored in a form that cannot be served (rewrite it to repair it)'
})

export const EvaluationError = Type.Object({
  name: Type.String(),
  error_code: ref(EvaluationErrorCode),
  error_message: Type.String()
}, { $id: 'EvaluationError', description: 'A named flag that could not be evaluated (bulk evaluation)' })

export const EvaluateQuery = Type.Object({
  user_id: Type.Optional(Type.String({ maxLength: 256 })),
  customer_id: Type.Optional(Type.String({ maxLength: 256 }))
}, {
  additionalProperties: Type.String({ maxLength: MAX_CONTEXT_STRING }),
  maxProperties: MAX_CONTEXT_ATTRIBUTES,
  description: 'The evaluation context: user_id, customer_id and any other attribute (country=DE…)'
})

/**
 * The query string of GET /evaluate/{name} holds any attribute (`country=DE`, `user.plan=pro`), which
 * Fastify's swagger drops from the document (it lists named properties only): one exploded object
 * parameter says so, and generated clients serialize its members as query parameters of their own.
 */
export const EVALUATE_QUERY_ATTRIBUTES = {
  name: 'attributes',
  in: 'query',
  required: false,
  style: 'form',
  explode: true,
  description: 'Any other context attribute, each as its own query parameter (country=DE, user.plan=pro)',
  schema: { type: 'object', additionalProperties: { type: 'string', maxLength: MAX_CONTEXT_STRING }, maxProperties: MAX_CONTEXT_ATTRIBUTES - 2 }
} as const

export const EvaluationContext = Type.Record(Type.String({ pattern: ATTRIBUTE_NAME_RULE.pattern }), ref(ContextValue), {
  $id: 'EvaluationContext',
  // A record's key pattern alone lets any other key through unchecked.
  additionalProperties: false,
  maxProperties: MAX_CONTEXT_ATTRIBUTES,
  description: 'user_id (or targetingKey), customer_id and any other attributes; nested objects are read as dotted attributes',
  examples: [{ user_id: 'alice', country: 'DE', user: { plan: 'pro' } }]
})

export const BulkEvaluateBody = Type.Object({
  context: Type.Optional(ref(EvaluationContext)),
  flags: Type.Optional(Type.Array(FlagName, { maxItems: 1000, description: 'Only these flags (default: all)' }))
}, { $id: 'BulkEvaluateRequest', additionalProperties: false })

export const BulkEvaluationEntry = Type.Union([ref(EvaluationResult), ref(EvaluationError)], {
  $id: 'BulkEvaluationEntry', description: 'One flag\'s result, or why it could not be evaluated'
})

export const BulkEvaluateResponse = Type.Object({
  results: Type.Record(Type.String(), ref(BulkEvaluationEntry))
}, { $id: 'BulkEvaluateResponse' })

export const evaluateSchemas = [
  ContextObject, ContextValue, Reason, EvaluationErrorCode, EvaluationResult, EvaluationError, BulkEvaluationEntry, EvaluationContext,
  BulkEvaluateBody, BulkEvaluateResponse
]
