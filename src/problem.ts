import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  BadRequestError, BodyTooLargeError, entryOf, InternalError, InvalidJsonError, isExpectedOutage, UnsupportedMediaTypeError,
  ValidationError, type FieldProblem
} from './errors.js'
import { separatedField } from './services/field-names.js'

/**
 * The HTTP renderer of the error catalogue (errors.ts): any thrown error as RFC 9457 problem details
 * (application/problem+json). The OFREP routes render the same errors as OFREP bodies instead
 * (routes/ofrep-errors.ts).
 */

/** RFC 9457 problem details as every error response carries them. */
export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  code: string
  instance: string
  errors?: FieldProblem[]
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

const PREFIX = 'FLAGPOST_ERR_'
const VALIDATION = entryOf(ValidationError).code
const INTERNAL = entryOf(InternalError).code
const BAD_REQUEST = entryOf(BadRequestError).code

// Fastify's own client errors, renamed into the catalogue so clients see one family of codes.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: entryOf(BodyTooLargeError).code,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: entryOf(UnsupportedMediaTypeError).code,
  FST_ERR_CTP_EMPTY_JSON_BODY: entryOf(InvalidJsonError).code,
  FST_ERR_CTP_INVALID_JSON_BODY: entryOf(InvalidJsonError).code,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: BAD_REQUEST
}

export interface ErrorLike {
  statusCode?: number
  code?: string
  message?: string
  problems?: FieldProblem[]
  validation?: unknown
}

/**
 * Render any thrown error as problem details. Client errors keep their message; anything else
 * becomes a 500 whose detail says nothing about the internals (the log has the stack).
 */
export function toProblem (error: ErrorLike, instance: string, problems?: FieldProblem[]): ProblemBody {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  const clientError = status < 500 || error.code?.startsWith(PREFIX) === true
  const code = problems !== undefined
    ? VALIDATION
    : error.code?.startsWith(PREFIX) === true
      ? error.code
      : (error.code !== undefined && FASTIFY_CODES[error.code]) || (status < 500 ? BAD_REQUEST : INTERNAL)
  const fields = problems ?? error.problems
  const detail = problems !== undefined
    ? problems.map((p) => `${p.field}: ${p.message}`).join('; ')
    : clientError && error.message ? error.message : new InternalError().message
  return {
    type: `urn:flagpost:problem:${code.slice(PREFIX.length).toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? (status < 500 ? 'Bad Request' : 'Internal Server Error'),
    status,
    detail,
    code,
    instance,
    ...(fields !== undefined ? { errors: fields } : {})
  }
}

/** A request URL without its query string: the `instance` of a problem. */
export const pathOf = (url: string): string => url.split('?')[0]

const PARTS = new Set(['body', 'params', 'query', 'headers', 'path'])
const has = (part: unknown, name: string): boolean => typeof part === 'object' && part !== null && Object.hasOwn(part, name)

/**
 * A domain field (`defaultValue`, `targetingRules.rollout.blue`, `id`) as this request wrote it
 * (`body.default_value`, `params.id`, `query.cursor`): the part that carries it, body first, and its
 * name in snake_case. Fields already named by part (the route schemas' own problems) stay as they are.
 */
export function requestField (field: string, request: Pick<FastifyRequest, 'body' | 'params' | 'query'>): string {
  const written = separatedField(field, '_')
  const head = written.split('.')[0]
  if (PARTS.has(head)) return field
  const part = has(request.body, head) ? 'body' : has(request.params, head) ? 'params' : has(request.query, head) ? 'query' : 'body'
  return `${part}.${written}`
}

/** Every error as problem+json, logged by what it is: a client's mistake, an expected outage, or a bug. */
export function sendProblem (error: ErrorLike, request: FastifyRequest, reply: FastifyReply, fields?: FieldProblem[]): FastifyReply {
  const written = fields ?? error.problems?.map(({ field, message }) => ({ field: requestField(field, request), message }))
  const problem = toProblem(error, pathOf(request.url), written)
  if (problem.status === 401) void reply.header('www-authenticate', 'Bearer realm="flagpost"')
  if (problem.status >= 500 && isExpectedOutage(problem)) request.log.warn({ code: problem.code, status: problem.status }, problem.detail)
  else if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code: problem.code, status: problem.status }, problem.detail)
  return reply.code(problem.status).type('application/problem+json').send(problem)
}
