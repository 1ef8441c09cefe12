/** OFREP error bodies: how a failed OFREP request is reported in the protocol's own terms. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { FlagNotFoundError, isExpectedOutage } from '../errors.js'
import { ATTRIBUTE_NAME_RULE } from '../schemas/names.js'
import { fieldProblems } from '../validation.js'
import { JSON_TYPE } from './json-text.js'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** What is wrong with the shape of an OFREP request body, in the terms of the protocol, if that is the problem. */
function shapeProblem (body: unknown): string | undefined {
  if (!isObject(body)) return 'the request body must be a JSON object: {"context": {...}}'
  if (!('context' in body)) return 'context is required: {"context": {"targetingKey": "..."}}'
  const context = body.context
  if (!isObject(context)) return 'context must be a JSON object'
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
      ? `${name}: is not a valid attribute name (${ATTRIBUTE_NAME_RULE.message})`
      : `${name}: ${message}`
  }).join('; ')
}

/** A client error as [status, OFREP errorCode, errorDetails]. */
function classify (error: FastifyError, request: FastifyRequest, key: string | undefined): [number, string, string] {
  if (error instanceof FlagNotFoundError && key !== undefined) return [404, 'FLAG_NOT_FOUND', error.message]
  if ((error as { validation?: unknown }).validation !== undefined) return [400, 'INVALID_CONTEXT', invalidContextDetails(error, request)]
  // A context over the limits of nested attributes (engine/context.ts), found when it is read.
  const problems = (error as { problems?: Array<{ field: string }> }).problems
  if (problems?.some((p) => p.field.startsWith('context')) === true) return [400, 'INVALID_CONTEXT', error.message]
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
export function ofrepErrorHandler (route: 'flag' | 'bulk') {
  return function handleOfrepError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if (status === 401 || status === 403) throw error
    // params is null on a path the router refused (bad percent-encoding, over-long key).
    const key = route === 'flag' ? (request.params as { key?: string } | null)?.key ?? '' : undefined
    const send = (code: number, body: Record<string, unknown>): FastifyReply =>
      reply.code(code).type(JSON_TYPE).send(key === undefined ? body : { key, ...body })

    if (status === 429) {
      request.log.info({ code: error.code, status }, error.message)
      return reply.code(429).type(JSON_TYPE).send({ errorDetails: error.message })
    }
    if (status >= 500) {
      if (isExpectedOutage(error)) request.log.warn({ code: error.code, status }, error.message)
      else request.log.error({ err: error }, 'request failed')
      return send(500, { errorCode: 'GENERAL', errorDetails: 'An unexpected error occurred' })
    }
    const [code, errorCode, errorDetails] = classify(error, request, key)
    request.log.info({ code: errorCode, status: code }, errorDetails)
    return send(code, { errorCode, errorDetails })
  }
}
