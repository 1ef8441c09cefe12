import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { LRUCache } from 'lru-cache'
import Type, { type TSchema } from 'typebox'
import { ANONYMOUS_REF } from '../services/stream-tokens.js'
import { readSecurity, ref, standardResponses } from '../schemas/common.js'
import {
  OfrepBulkEvaluationFailure, OfrepBulkEvaluationRequest, OfrepBulkEvaluationSuccess, OfrepEvaluationFailure,
  OfrepEvaluationRequest, OfrepEvaluationSuccess, OfrepFlagNotFound, OfrepGeneralError
} from '../schemas/ofrep.js'
import { ofrepErrorHandler } from './ofrep-errors.js'
import { bulkTail, ifNoneMatches, ofrepBulk, ofrepBulkBody, OFREP_SUCCESS, toContext, type BulkTail } from './ofrep-mapping.js'
import { JSON_TYPE } from './json-text.js'
import { giveBackWhenClosed } from './lent-bytes.js'
import { environmentOf } from './environment-scope.js'

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP 0.3.0) over the flag service: one flag
 * (server-side providers, dynamic context) and every flag (web providers, static context, polled
 * with ETag/If-None-Match). These routes answer with OFREP's own bodies, errors included; only
 * 401/403, for which OFREP defines no body, stay problem+json from the app's error handler. Both are
 * read routes, so 403 is never sent; it is listed because the OFREP spec lists it, and the document
 * keeps to the spec's statuses. They are served from the in-process snapshot (no 503: ofrep-errors.ts
 * answers any 5xx as 500 GENERAL), and a body the parser refuses (too large, not JSON) is a 400
 * PARSE_ERROR, not 413/415.
 */

/** A response documented under application/json with a named component. */
const json = (schema: TSchema, description: string) =>
  ({ description, content: { 'application/json': { schema: { $ref: (schema as { $id?: string }).$id } } } })

const RETRY_AFTER = { 'retry-after': { type: 'integer', description: 'Seconds to wait before retrying' } }
const rateLimited = { ...json(OfrepGeneralError, 'Too many evaluation requests from this client; retry after Retry-After seconds'), headers: RETRY_AFTER }

/** Seconds of inactivity (a hidden tab) after which a provider closes its stream (ADR-0008's default). */
const INACTIVITY_DELAY_S = 120

/**
 * The end of a bulk answer's body, `,"eventStreams":[…]}`: the stream it advertises is this
 * environment's, under the prefix the request used, on the provider's own origin (a relative
 * `requestUri`, so proxies in front need no configuration), with a stream token for the key that
 * asked instead of the key. A token is the same for an environment and key for an hour, so each
 * tail is written once per token and URL (`tails`), text and bytes, and every answer is closed with it.
 */
function tailOf (tails: LRUCache<string, BulkTail>, request: FastifyRequest, environment: string): BulkTail {
  const token = request.server.services.streamTokens.issue(environment, request.principal?.ref ?? ANONYMOUS_REF)
  const prefix = typeof (request.params as { environment?: unknown }).environment === 'string' ? `/environments/${environment}` : ''
  const requestUri = `${prefix}/ofrep/v1/event-stream?token=${token}`
  let tail = tails.get(requestUri)
  if (tail === undefined) {
    const stream = { type: 'sse', endpoint: { requestUri }, inactivityDelaySec: INACTIVITY_DELAY_S }
    tails.set(requestUri, tail = bulkTail(`,"eventStreams":${JSON.stringify([stream])}}`))
  }
  return tail
}

const ofrepRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The flag service counts each evaluation for /metrics (plugins/metrics.ts observes it).
  const flags = app.services.flags
  // One per environment, key and URL prefix in use within the hour; the last 1,000 used.
  const tails = new LRUCache<string, BulkTail>({ max: 1_000 })

  app.post('/ofrep/v1/evaluate/flags/:key', {
    config: { access: 'evaluate', rateLimit: {} },
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
        ...standardResponses(401, 403),
        404: json(OfrepFlagNotFound, 'No flag has this key'),
        429: rateLimited,
        500: json(OfrepEvaluationFailure, 'GENERAL: the flag is stored in a form that cannot be served, or an unexpected server error')
      }
    }
    // Synchronous (a throw is the error reply): no promise per request.
  }, (request, reply) => {
    // Already JSON, made once per result (ofrep-mapping.ts): not serialized per request.
    reply.type(JSON_TYPE).send(flags.serveOne(environmentOf(request), request.params.key, toContext(request.body.context), OFREP_SUCCESS) as never)
  })

  app.post('/ofrep/v1/evaluate/flags', {
    config: { access: 'evaluate', rateLimit: {} },
    errorHandler: ofrepErrorHandler('bulk'),
    schema: {
      operationId: 'ofrepEvaluateFlagsBulk',
      tags: ['ofrep'],
      security: readSecurity,
      summary: 'OFREP: evaluate every flag for a context (web providers), with ETag / If-None-Match',
      querystring: Type.Object({
        flagConfigEtag: Type.Optional(Type.String({
          pattern: '^"\\d{1,16}"$',
          description: 'The etag of the `refetchEvaluation` event that triggered this re-fetch (OFREP ADR-0008): the answer reflects at least that revision'
        })),
        flagConfigLastModified: Type.Optional(Type.String({
          maxLength: 40,
          description: 'The lastModified of that event (Unix seconds or RFC 3339): without an etag, the instance catches up with the database before answering'
        }))
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
        ...standardResponses(401, 403),
        429: rateLimited,
        500: json(OfrepBulkEvaluationFailure, 'Unexpected server error (GENERAL)')
      }
    }
  }, async (request, reply) => {
    const { flagConfigEtag: etagOfEvent, flagConfigLastModified: eventTime } = request.query
    // Re-fetched because of an event: answer from at least the revision the event announced, even on
    // an instance that has not heard of it yet (behind a load balancer the stream and the re-fetch
    // may reach different instances).
    if (etagOfEvent !== undefined || eventTime !== undefined) await flags.freshAsOf(etagOfEvent === undefined ? undefined : Number(etagOfEvent.slice(1, -1)))
    const environment = environmentOf(request)
    // A flag whose stored row cannot be served is reported in the array (GENERAL), never failing the others.
    // Kept per context by the flag service while the environment's flags stay as they are.
    // The body's end: the stream it advertises, with a token issued for a known environment only.
    let made: BulkTail | undefined
    const tail = (): BulkTail => (made ??= tailOf(tails, request, environment))
    const answer = flags.answerAll(environment, toContext(request.body.context), ofrepBulk(tail))
    const { etag } = answer
    // Sent from lent memory when made for this request; lent again once the response is closed.
    giveBackWhenClosed(reply.raw, answer.body)
    // The ETag is the evaluated result's alone, as before event streams: the stream's token changes every
    // hour and with the key, and must not make a poll see a change that no flag made.
    void reply.header('etag', etag)
    // No payload at all (not `null`, which would be serialized): a 304 has no body and no content type.
    if (ifNoneMatches(request.headers['if-none-match'], etag)) return reply.code(304).send(undefined as never)
    // Already JSON bytes: sent as they are, not re-serialized.
    return reply.code(200).type(JSON_TYPE).send(ofrepBulkBody(answer, tail()) as never)
  })
}

export default ofrepRoutes
