import Type, { type Static, type TSchema } from 'typebox'
import { codesWith } from '../errors.js'
import { FLAG_NAME_RULE } from './names.js'

export const FlagName = Type.String({ pattern: FLAG_NAME_RULE.pattern, description: 'Flag key: letters, digits, `.`, `_`, `-`; at most 128 characters', examples: ['new_checkout_flow'] })

/**
 * Refer to a shared component schema by its `$id`, keeping the static type. The description
 * becomes the response's description in the OpenAPI document.
 */
export function ref<T extends TSchema> (schema: T, description?: string) {
  const id = (schema as { $id?: unknown }).$id
  if (typeof id !== 'string') throw new Error('ref() needs a schema with an $id')
  return Type.Unsafe<Static<T>>(description === undefined ? { $ref: id } : { $ref: id, description })
}

export const FieldProblem = Type.Object({
  field: Type.String({ description: 'Where the problem is, e.g. `body.targeting_rules.percentage`' }),
  message: Type.String()
}, { $id: 'FieldProblem' })

/** RFC 9457 problem details; `code` is stable and meant for programs. */
export const Problem = Type.Object({
  type: Type.String({ description: 'A URI naming the problem type' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'Stable error code, e.g. FLAGPOST_ERR_FLAG_NOT_FOUND' }),
  instance: Type.String({ description: 'The request path' }),
  errors: Type.Optional(Type.Array(ref(FieldProblem), { description: 'Each invalid field (validation errors only)' }))
}, { $id: 'Problem', description: 'Problem details (application/problem+json)' })

/** An error response: problem details under their own media type. */
const problem = (description: string, headers?: Record<string, unknown>) =>
  ({ description, content: { 'application/problem+json': { schema: { $ref: 'Problem' } } }, ...(headers === undefined ? {} : { headers }) })

/** The catalogue's codes for a status, for a response's description. */
const codes = (status: number): string => codesWith(status).join(', ')

/**
 * Error responses shared by routes, by status: every code of the error catalogue (errors.ts) and
 * Fastify's own client errors land on one of these. Routes pick theirs with `standardResponses`.
 */
export const errors = {
  400: problem(`Invalid request: each bad field is listed in \`errors\` (${codes(400)})`),
  401: problem(`Missing or invalid API key (${codes(401)})`, {
    'www-authenticate': { type: 'string', description: 'Bearer realm="flagpost"' }
  }),
  403: problem(`The API key may not perform writes (${codes(403)})`),
  404: problem(`Not found (${codes(404)})`),
  409: problem(`Conflict with an existing resource or a concurrent change (${codes(409)})`),
  412: problem(`If-Match does not match the current version (${codes(412)})`),
  413: problem(`Request body too large (${codes(413)})`),
  415: problem(`Unsupported content type: send application/json (${codes(415)})`),
  429: problem(`Rate limited (${codes(429)}): retry after the number of seconds in Retry-After`, {
    'retry-after': { type: 'integer', minimum: 1, description: 'Seconds until the client\'s window resets' }
  }),
  500: problem('The flag is stored in a form this version cannot serve (FLAGPOST_ERR_FLAG_UNSERVABLE): rewrite it with PUT /flags/{name}'),
  503: problem(`The database cannot serve now: unreachable, or stalled past its bound (${codes(503)}); retry shortly`)
} as const

export type ErrorStatus = keyof typeof errors

/**
 * The standard error responses of a route, by status (as Unleash's `getStandardResponses`): each
 * route lists every status it can return, from one definition of each. Which statuses apply:
 * 400 any input (params, query, headers, body); 401 `access` write, or read (AUTH_READS=true);
 * 403 write routes only; 404 a named flag/customer/user/override; 409 creates, renames and flag
 * writes (concurrent change, pinned variants); 412 If-Match; 413 and 415 a request body; 429 the
 * rate-limited evaluation routes; 500 a stored flag that cannot be served; 503 every route that
 * reads or writes the database (evaluation reads the in-process snapshot, not the database).
 */
export function standardResponses<S extends ErrorStatus> (...statuses: S[]): { [K in S]: (typeof errors)[K] } {
  return Object.fromEntries(statuses.map((status) => [status, errors[status]])) as { [K in S]: (typeof errors)[K] }
}

/** A time a client sends (RFC 3339), checked by pattern: the format alone admits what Date cannot parse. */
export const DateTimeInput = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$', maxLength: 40, description: 'RFC 3339 date-time' })

/** A page's cursor, shared by every paginated list. */
export const NextCursor = Type.Union([Type.String(), Type.Null()], {
  $id: 'NextCursor', description: 'Pass as `cursor` for the next page; null on the last page'
})

/** Liveness and readiness: a status and, for readiness, the snapshot's revision and each dependency's check. */
export const Health = Type.Object({
  status: Type.String({ description: '`ok` (liveness); `ready`, `degraded` or `not ready` (readiness)' }),
  revision: Type.Optional(Type.Integer({ description: 'The revision this instance serves' })),
  checks: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Each dependency: `ok`, or what is wrong' }))
}, { $id: 'Health' })

/** Security requirements: write routes need a key; read routes take one when AUTH_READS=true. */
type Security = Array<Record<string, string[]>>
export const writeSecurity: Security = [{ apiKey: [] }, { bearer: [] }]
export const readSecurity: Security = [{}, { apiKey: [] }, { bearer: [] }]

export const Pagination = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (≤ 1000)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The `next_cursor` of the previous page' }))
}

/** The schemas registered once with `app.addSchema` and published as OpenAPI components. */
export const commonSchemas = [FieldProblem, Problem, NextCursor, Health]
