import Type, { type Static } from 'typebox'
import { MAX_CONTEXT_ATTRIBUTES } from '../engine/context.js'
import { REASONS } from '../engine/types.js'
import { ref } from './common.js'
import { contextValue } from './evaluate.js'
import { ATTRIBUTE_NAME_RULE } from './names.js'

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP 0.3.0, `../shared/reference/ofrep/openapi.yaml`)
 * as Flagpost speaks it. Names follow the protocol's components, prefixed `Ofrep`.
 */

const Key = Type.String({ description: 'The flag key', examples: ['new_checkout_flow'] })
const ErrorDetails = Type.String({ description: 'What went wrong, for logs and debugging' })

export const OfrepMetadata = Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.String(), Type.Number()]), {
  $id: 'OfrepMetadata',
  description: 'The flag\'s metadata (owner, ticket…): string, number and boolean values'
})

/** A context attribute; OFREP's may also be null (unset). */
export const OfrepContextValue = contextValue('OfrepContextValue', Type.Null())

export const OfrepContext = Type.Record(
  Type.String({ pattern: ATTRIBUTE_NAME_RULE.pattern }),
  ref(OfrepContextValue),
  {
    $id: 'OfrepContext',
    additionalProperties: false,
    maxProperties: MAX_CONTEXT_ATTRIBUTES,
    description: 'The evaluation context. `targetingKey` is the user (Flagpost\'s `user_id`); every other attribute is passed to ' +
      'targeting as is: strings, numbers or booleans (null means unset); a nested object is read as dotted attributes ' +
      '({"user": {"plan": "pro"}} is user.plan); arrays are ignored. A missing `targetingKey` is not an error: flags that need one ' +
      'serve their off variant (reason DEFAULT).',
    examples: [{ targetingKey: 'user-123', customer_id: 'acme', country: 'DE', user: { plan: 'pro' } }]
  }
)
export type OfrepContextBody = Static<typeof OfrepContext>

export const OfrepEvaluationRequest = Type.Object({ context: ref(OfrepContext) }, {
  $id: 'OfrepEvaluationRequest',
  description: 'The context one flag is evaluated for'
})

export const OfrepBulkEvaluationRequest = Type.Object({ context: ref(OfrepContext) }, {
  $id: 'OfrepBulkEvaluationRequest',
  description: 'The context every flag is evaluated for'
})

export const OfrepReason = Type.Enum(REASONS, {
  $id: 'OfrepReason',
  description: 'STATIC (no targeting), DEFAULT (fallthrough), TARGETING_MATCH, SPLIT (bucketed), DISABLED (kill switch)'
})

export const OfrepEvaluationSuccess = Type.Object({
  key: Key,
  value: Type.Unknown({ description: 'The served value: a boolean, string, number or (json flags) any JSON value' }),
  reason: ref(OfrepReason),
  variant: Type.String({ description: 'The name of the served variant' }),
  metadata: ref(OfrepMetadata)
}, { $id: 'OfrepEvaluationSuccess', description: 'The value served to this context, the variant and why' })
export type OfrepEvaluationSuccessBody = Static<typeof OfrepEvaluationSuccess>

export const OfrepEvaluationFailure = Type.Object({
  key: Key,
  errorCode: Type.Enum(['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL'], {
    description: 'PARSE_ERROR: the body is not JSON; INVALID_CONTEXT: the body or its context has the wrong shape; GENERAL: anything else'
  }),
  errorDetails: ErrorDetails
}, { $id: 'OfrepEvaluationFailure', description: 'The flag could not be evaluated' })
export type OfrepEvaluationFailureBody = Static<typeof OfrepEvaluationFailure>

export const OfrepFlagNotFound = Type.Object({
  key: Key,
  errorCode: Type.Literal('FLAG_NOT_FOUND'),
  errorDetails: ErrorDetails
}, { $id: 'OfrepFlagNotFound', description: 'No flag has this key' })
export type OfrepFlagNotFoundBody = Static<typeof OfrepFlagNotFound>

export const OfrepBulkEvaluationItem = Type.Union([ref(OfrepEvaluationSuccess), ref(OfrepEvaluationFailure), ref(OfrepFlagNotFound)], {
  $id: 'OfrepBulkEvaluationItem', description: 'One flag of a bulk evaluation: its value, or why it could not be evaluated'
})

/** An event stream a provider connects to for change notifications (OFREP ADR-0008). */
export const OfrepEventStream = Type.Object({
  type: Type.String({ description: '`sse`: server-sent events', examples: ['sse'] }),
  endpoint: Type.Object({
    requestUri: Type.String({ description: 'Path and query of the stream, on the provider\'s OFREP base URL origin; the query holds a short-lived stream token, never the API key' })
  }, { additionalProperties: false }),
  inactivityDelaySec: Type.Integer({ minimum: 1, description: 'Seconds of client inactivity (a hidden tab) after which the provider closes the stream' })
}, { $id: 'OfrepEventStream', additionalProperties: false })

export const OfrepBulkEvaluationSuccess = Type.Object({
  flags: Type.Array(ref(OfrepBulkEvaluationItem), {
    description: 'Every flag, ordered by key; a flag that could not be evaluated is reported here with its key and errorCode'
  }),
  eventStreams: Type.Optional(Type.Array(ref(OfrepEventStream), {
    description: 'Where to hear of changes (OFREP ADR-0008): on a `refetchEvaluation` event, re-fetch with its etag as flagConfigEtag'
  }))
}, { $id: 'OfrepBulkEvaluationSuccess', description: 'Every flag evaluated for one context' })

export const OfrepBulkEvaluationFailure = Type.Object({
  errorCode: Type.Enum(['PARSE_ERROR', 'INVALID_CONTEXT', 'GENERAL'], {
    description: 'PARSE_ERROR: the body is not JSON; INVALID_CONTEXT: the body or its context has the wrong shape; GENERAL: anything else'
  }),
  errorDetails: ErrorDetails
}, { $id: 'OfrepBulkEvaluationFailure', description: 'The request as a whole could not be evaluated' })

export const OfrepGeneralError = Type.Object({
  errorDetails: ErrorDetails
}, { $id: 'OfrepGeneralError', description: 'Rate limited, or an unexpected server error' })

/** Registered once with `app.addSchema` (OpenAPI components) and with the OFREP routes' validator. */
export const ofrepSchemas = [
  OfrepMetadata, OfrepReason, OfrepContextValue, OfrepContext, OfrepEvaluationRequest, OfrepBulkEvaluationRequest, OfrepEvaluationSuccess,
  OfrepEvaluationFailure, OfrepFlagNotFound, OfrepBulkEvaluationItem, OfrepEventStream, OfrepBulkEvaluationSuccess, OfrepBulkEvaluationFailure, OfrepGeneralError
]
