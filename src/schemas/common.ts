import Type, { type Static, type TSchema } from 'typebox'

/** URL-safe: OpenFeature clients put the key in a path unescaped. */
export const FLAG_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'
/** The flag-name rule for code that is not behind a route schema (services, CLI, library). */
export const FLAG_NAME = new RegExp(FLAG_NAME_PATTERN)
export const FlagName = Type.String({ pattern: FLAG_NAME_PATTERN, description: 'Flag key: letters, digits, `.`, `_`, `-`; at most 128 characters', examples: ['new_checkout_flow'] })

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
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: 'Problem' } } } })

/** Error responses shared by routes, by status. */
export const errors = {
  400: problem('Invalid request: each bad field is listed in `errors`'),
  401: problem('Missing or invalid API key'),
  403: problem('The API key lacks the required scope'),
  404: problem('Not found'),
  409: problem('Conflict with an existing resource or a concurrent change'),
  412: problem('If-Match does not match the current version'),
  413: problem('Request body too large'),
  415: problem('Unsupported content type'),
  429: problem('Rate limited: retry after the number of seconds in Retry-After'),
  503: problem('Service temporarily unavailable')
} as const

/** Security requirements: write routes need a key; read routes take one when AUTH_READS=true. */
type Security = Array<Record<string, string[]>>
export const writeSecurity: Security = [{ apiKey: [] }, { bearer: [] }]
export const readSecurity: Security = [{}, { apiKey: [] }, { bearer: [] }]

export const Pagination = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (≤ 1000)' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The `next_cursor` of the previous page' }))
}

/** The schemas registered once with `app.addSchema` and published as OpenAPI components. */
export const commonSchemas = [FieldProblem, Problem]
