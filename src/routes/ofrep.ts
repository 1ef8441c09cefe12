import { createHash } from 'node:crypto'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type, { type TSchema } from 'typebox'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import type { EvaluationFailure } from '../services/flag-service.js'
import { errors, readSecurity, ref } from '../schemas/common.js'
import {
  OfrepBulkEvaluationFailure, OfrepBulkEvaluationRequest, OfrepBulkEvaluationSuccess, OfrepEvaluationFailure,
  OfrepEvaluationRequest, OfrepEvaluationSuccess, OfrepFlagNotFound, OfrepGeneralError, ofrepSchemas,
  type OfrepContextBody, type OfrepEvaluationSuccessBody, type OfrepFlagNotFoundBody
} from '../schemas/ofrep.js'
import { createValidatorCompiler, fieldProblems } from '../validation.js'

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP 0.3.0) over the flag service: one flag
 * (server-side providers, dynamic context) and every flag (web providers, static context, polled
 * with ETag/If-None-Match). These routes answer with OFREP's own bodies, errors included; only
 * 401/403, for which OFREP defines no body, stay problem+json from the app's error handler.
 */

const JSON_TYPE = 'application/json; charset=utf-8'

// ---- mapping between OFREP and the flag service ---------------------------------------------

/** OFREP context → Flagpost context. The engine reads `targetingKey` as `user_id`; null means unset. */
export function toContext (context: OfrepContextBody): EvaluationContext {
  const out: EvaluationContext = {}
  for (const [name, value] of Object.entries(context)) if (value !== null) out[name] = value
  return out
}

/** One evaluation as OFREP reports it. `value` is always sent (provider 0.1.3 rejects a 200 without it). */
export function toOfrepSuccess (result: EvaluationResult): OfrepEvaluationSuccessBody {
  // `?? {}` until every engine build returns the flag's metadata with its result.
  return { key: result.name, value: result.value, reason: result.reason, variant: result.variant, metadata: result.metadata ?? {} }
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Bulk results as OFREP's `flags` array, ordered by key so that the same result is the same bytes
 * (and the same ETag) on every instance, whatever order its snapshot holds the flags in. A flag
 * that could not be evaluated stays in the array with its key and errorCode.
 */
export function toOfrepFlags (results: Record<string, EvaluationResult | EvaluationFailure>): Array<OfrepEvaluationSuccessBody | OfrepFlagNotFoundBody> {
  return Object.keys(results).sort(byKey).map((name) => {
    const entry = results[name]
    return 'error_code' in entry
      ? { key: entry.name, errorCode: entry.error_code, errorDetails: entry.error_message }
      : toOfrepSuccess(entry)
  })
}

/** A strong ETag over the exact response bytes: it changes exactly when what this context sees changes. */
export const etagOf = (body: string): string => `"${createHash('sha256').update(body).digest('base64url')}"`

/** RFC 9110 If-None-Match (weak comparison): `*`, or a list of tags one of which is ours; bare tags are accepted too. */
export function ifNoneMatches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const opaque = etag.slice(1, -1)
  return header.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '')
    return tag === '*' || tag === etag || tag === opaque
  })
}

// ---- errors ---------------------------------------------------------------------------------

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** What is wrong with the shape of an OFREP request body, in the terms of the protocol, if that is the problem. */
function shapeProblem (body: unknown): string | undefined {
  if (!isObject(body)) return 'the request body must be a JSON object: {"context": {...}}'
  if (!('context' in body)) return 'context is required: {"context": {"targetingKey": "..."}}'
  const context = body.context
  if (!isObject(context)) return 'context must be a JSON object'
  const nested = Object.keys(context).filter((name) => typeof context[name] === 'object' && context[name] !== null)
  if (nested.length > 0) {
    return `${nested.map((name) => `context.${name}`).join(', ')}: nested objects and arrays are not supported; ` +
      'Flagpost evaluation contexts are flat (strings, numbers, booleans)'
  }
  return undefined
}

type AjvIssues = Parameters<typeof fieldProblems>[0]

function invalidContextDetails (error: FastifyError, request: FastifyRequest): string {
  const shape = shapeProblem(request.body)
  if (shape !== undefined) return shape
  const { validation, validationContext } = error as { validation: AjvIssues, validationContext?: string }
  return fieldProblems(validation, validationContext ?? 'body').map(({ field, message }) => {
    const name = field.replace(/^body\./, '')
    return message === 'is not a known field' && name.startsWith('context.')
      ? `${name}: is not a valid attribute name (letters, digits, _ . -; starting with a letter or _; at most 64 characters)`
      : `${name}: ${message}`
  }).join('; ')
}

/** A client error as [status, OFREP errorCode, errorDetails]. */
function classify (error: FastifyError, request: FastifyRequest, key: string | undefined): [number, string, string] {
  if (error.code === 'FLAGPOST_ERR_FLAG_NOT_FOUND' && key !== undefined) return [404, 'FLAG_NOT_FOUND', error.message]
  if ((error as { validation?: unknown }).validation !== undefined) return [400, 'INVALID_CONTEXT', invalidContextDetails(error, request)]
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return [400, 'PARSE_ERROR', `Unsupported media type ${JSON.stringify(request.headers['content-type'] ?? '')}: send application/json`]
  }
  // Not JSON, empty, too large: the body could not be read as a request.
  if (error.code?.startsWith('FST_ERR_CTP_') === true) return [400, 'PARSE_ERROR', error.message]
  return [400, 'GENERAL', error.message]
}

/**
 * Every error on an OFREP route as an OFREP body: 400 with PARSE_ERROR (the body is not JSON) or
 * INVALID_CONTEXT (wrong shape, validation included), 404 FLAG_NOT_FOUND, 429 with Retry-After (set
 * by the rate limiter), 500 GENERAL. The single-flag route names the key in every error body.
 * 401/403 are rethrown to the app's handler (problem+json, WWW-Authenticate).
 */
function ofrepErrorHandler (route: 'flag' | 'bulk') {
  return function handleOfrepError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if (status === 401 || status === 403) throw error
    const key = route === 'flag' ? (request.params as { key?: string }).key ?? '' : undefined
    const send = (code: number, body: Record<string, unknown>): FastifyReply =>
      reply.code(code).type(JSON_TYPE).send(key === undefined ? body : { key, ...body })

    if (status === 429) {
      request.log.info({ code: error.code, status }, error.message)
      return reply.code(429).type(JSON_TYPE).send({ errorDetails: error.message })
    }
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed')
      return send(500, { errorCode: 'GENERAL', errorDetails: 'An unexpected error occurred' })
    }
    const [code, errorCode, errorDetails] = classify(error, request, key)
    request.log.info({ code: errorCode, status: code }, errorDetails)
    return send(code, { errorCode, errorDetails })
  }
}

// ---- routes ---------------------------------------------------------------------------------

/** A response documented under application/json with a named component. */
const json = (schema: TSchema, description: string) =>
  ({ description, content: { 'application/json': { schema: { $ref: (schema as { $id?: string }).$id } } } })

const RETRY_AFTER = { 'retry-after': { type: 'integer', description: 'Seconds to wait before retrying' } }
const rateLimited = { ...json(OfrepGeneralError, 'Too many evaluation requests from this client; retry after Retry-After seconds'), headers: RETRY_AFTER }

const ofrepRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const flags = app.services.flags
  // The app's validator knows the schemas listed in app.ts; these routes bring their own components.
  app.setValidatorCompiler(createValidatorCompiler(ofrepSchemas))

  app.post('/ofrep/v1/evaluate/flags/:key', {
    config: { access: 'read', rateLimit: {} },
    errorHandler: ofrepErrorHandler('flag'),
    schema: {
      operationId: 'ofrepEvaluateFlag',
      tags: ['ofrep'],
      security: readSecurity,
      summary: 'OFREP: evaluate one flag for a context (server-side providers)',
      params: Type.Object({ key: Type.String({ description: 'The flag key' }) }),
      body: ref(OfrepEvaluationRequest),
      response: {
        200: ref(OfrepEvaluationSuccess, 'The value served to this context, its variant, the reason and the flag\'s metadata'),
        400: json(OfrepEvaluationFailure, 'The body is not JSON (PARSE_ERROR) or not {"context": {...}} with a flat context (INVALID_CONTEXT)'),
        401: errors[401],
        403: errors[403],
        404: json(OfrepFlagNotFound, 'No flag has this key'),
        429: rateLimited,
        500: json(OfrepEvaluationFailure, 'Unexpected server error (GENERAL)')
      }
    }
  }, async (request) => toOfrepSuccess(flags.evaluate(request.params.key, toContext(request.body.context))))

  app.post('/ofrep/v1/evaluate/flags', {
    config: { access: 'read', rateLimit: {} },
    errorHandler: ofrepErrorHandler('bulk'),
    schema: {
      operationId: 'ofrepEvaluateFlagsBulk',
      tags: ['ofrep'],
      security: readSecurity,
      summary: 'OFREP: evaluate every flag for a context (web providers), with ETag / If-None-Match',
      querystring: Type.Object({
        flagConfigEtag: Type.Optional(Type.String({ description: 'Event-stream metadata (OFREP ADR-0008); accepted and ignored' })),
        flagConfigLastModified: Type.Optional(Type.String({ description: 'Event-stream metadata (OFREP ADR-0008); accepted and ignored' }))
      }),
      headers: Type.Object({
        'if-none-match': Type.Optional(Type.String({ description: 'The ETag of a previous response for this context: 304 when nothing this context sees has changed' }))
      }),
      body: ref(OfrepBulkEvaluationRequest),
      response: {
        200: {
          ...json(OfrepBulkEvaluationSuccess, 'Every flag for this context, ordered by key'),
          headers: { etag: { type: 'string', description: 'Identifies this result for this context; send it back as If-None-Match' } }
        },
        304: { type: 'null', description: 'Not Modified: If-None-Match is the current ETag; no body' },
        400: json(OfrepBulkEvaluationFailure, 'The body is not JSON (PARSE_ERROR) or not {"context": {...}} with a flat context (INVALID_CONTEXT)'),
        401: errors[401],
        403: errors[403],
        429: rateLimited,
        500: json(OfrepBulkEvaluationFailure, 'Unexpected server error (GENERAL)')
      }
    }
  }, async (request, reply) => {
    const body = JSON.stringify({ flags: toOfrepFlags(flags.evaluateMany(toContext(request.body.context))) })
    const etag = etagOf(body)
    void reply.header('etag', etag)
    // No payload at all (not `null`, which would be serialized): a 304 has no body and no content type.
    if (ifNoneMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(undefined as never)
    // Already JSON, and exactly the bytes the ETag was computed over: sent as is, not re-serialized.
    return reply.code(200).type(JSON_TYPE).send(body as never)
  })
}

export default ofrepRoutes
