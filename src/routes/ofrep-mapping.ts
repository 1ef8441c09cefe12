import { createHash } from 'node:crypto'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import type { OfrepContextBody, OfrepEvaluationFailureBody, OfrepEvaluationSuccessBody, OfrepFlagNotFoundBody } from '../schemas/ofrep.js'
import { evaluationContext } from '../services/evaluation-context.js'
import type { BulkEntry } from '../services/flag-service.js'

/** Mapping between the OpenFeature Remote Evaluation Protocol and Flagpost's evaluation results. */

/**
 * OFREP context → Flagpost context. The engine reads `targetingKey` as `user_id`; null means unset;
 * nested objects are dotted attributes.
 */
export const toContext = (context: OfrepContextBody): EvaluationContext => evaluationContext(context, 'context')

/** One evaluation as OFREP reports it. `value` is always sent (provider 0.1.3 rejects a 200 without it). */
export function toOfrepSuccess (result: EvaluationResult): OfrepEvaluationSuccessBody {
  return { key: result.name, value: result.value, reason: result.reason, variant: result.variant, metadata: result.metadata }
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Bulk results as OFREP's `flags` array, ordered by key so that the same result is the same bytes
 * (and the same ETag) on every instance, whatever order its snapshot holds the flags in. A flag
 * that could not be evaluated stays in the array with its key and errorCode.
 */
export function toOfrepFlags (results: Record<string, BulkEntry>): Array<OfrepEvaluationSuccessBody | OfrepEvaluationFailureBody | OfrepFlagNotFoundBody> {
  return Object.keys(results).sort(byKey).map((name) => {
    const entry = results[name]
    if (!('error_code' in entry)) return toOfrepSuccess(entry)
    // FLAG_NOT_FOUND, or GENERAL for a flag whose stored row cannot be served.
    return { key: entry.name, errorCode: entry.error_code, errorDetails: entry.error_message }
  })
}

/** A strong ETag over the exact response bytes: it changes exactly when what this context sees changes. */
export const bodyEtag = (body: string): string => `"${createHash('sha256').update(body).digest('base64url')}"`

/** RFC 9110 If-None-Match (weak comparison): `*`, or a list of tags one of which is ours; bare tags are accepted too. */
export function ifNoneMatches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const opaque = etag.slice(1, -1)
  return header.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '')
    return tag === '*' || tag === etag || tag === opaque
  })
}
