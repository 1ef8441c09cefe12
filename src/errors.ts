import createError from '@fastify/error'

/**
 * Every error a client can see, as a stable code. Services throw these; the one error handler
 * in app.ts renders them as application/problem+json.
 */
export interface FieldProblem {
  field: string
  message: string
}

export const ValidationError = createError<[string]>('FLAGPOST_ERR_VALIDATION', '%s', 400)
export const FlagNotFoundError = createError<[string]>('FLAGPOST_ERR_FLAG_NOT_FOUND', 'Flag "%s" does not exist', 404)
export const FlagExistsError = createError<[string]>('FLAGPOST_ERR_FLAG_EXISTS', 'Flag "%s" already exists', 409)
export const VersionMismatchError = createError<[string, number]>(
  'FLAGPOST_ERR_VERSION_MISMATCH',
  'Flag "%s" has changed: its current version is %s',
  412
)
export const UnauthorizedError = createError('FLAGPOST_ERR_UNAUTHORIZED', 'A valid API key is required (X-API-Key or Authorization: Bearer)', 401)
export const ForbiddenError = createError('FLAGPOST_ERR_FORBIDDEN', 'This API key may not perform writes', 403)
export const RouteNotFoundError = createError<[string, string]>('FLAGPOST_ERR_NOT_FOUND', 'No route %s %s', 404)
export const MethodNotAllowedError = createError<[string, string, string]>('FLAGPOST_ERR_METHOD_NOT_ALLOWED', '%s is not allowed on %s: use %s', 405)
export const UnavailableError = createError<[string]>('FLAGPOST_ERR_UNAVAILABLE', '%s', 503)
/** A flag whose stored row this version cannot serve (e.g. written by an older version); the others are unaffected. */
export const FlagUnservableError = createError<[string]>(
  'FLAGPOST_ERR_FLAG_UNSERVABLE',
  'Flag "%s" is stored in a form that cannot be served; rewrite it (PUT /flags/{name}) to repair it',
  500
)

/**
 * An outage the service expects and reports (the database cannot serve now): logged as one warning
 * line with its code, not as a bug with a stack.
 */
export const isExpectedOutage = (error: { code?: string }): boolean => error.code === 'FLAGPOST_ERR_UNAVAILABLE'

/** A validation error that lists each bad field. */
export function invalid (problems: FieldProblem[]): Error & { problems: FieldProblem[] } {
  const err = new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '))
  return Object.assign(err, { problems })
}

/** One bad field. */
export function invalidField (field: string, message: string): Error & { problems: FieldProblem[] } {
  return invalid([{ field, message }])
}
export const ConflictError = createError<[string]>('FLAGPOST_ERR_CONFLICT', '%s', 409)
/** 429: problem+json on the Flagpost routes; the OFREP routes render it as `{errorDetails}`. */
export const RateLimitedError = createError<[number, number]>(
  'FLAGPOST_ERR_RATE_LIMITED',
  'Rate limit exceeded: at most %s evaluation requests per minute from one client; retry in %s s',
  429
)

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

// Fastify's own client errors, renamed into our namespace so clients see one family of codes.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'FLAGPOST_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'FLAGPOST_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'FLAGPOST_ERR_INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'FLAGPOST_ERR_BAD_REQUEST'
}

interface ErrorLike {
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
  const clientError = status < 500 || error.code?.startsWith('FLAGPOST_ERR_') === true
  const code = problems !== undefined
    ? 'FLAGPOST_ERR_VALIDATION'
    : error.code?.startsWith('FLAGPOST_ERR_') === true
      ? error.code
      : (error.code !== undefined && FASTIFY_CODES[error.code]) || (status < 500 ? 'FLAGPOST_ERR_BAD_REQUEST' : 'FLAGPOST_ERR_INTERNAL')
  const fields = problems ?? error.problems
  const detail = problems !== undefined
    ? problems.map((p) => `${p.field}: ${p.message}`).join('; ')
    : clientError && error.message ? error.message : 'An unexpected error occurred'
  return {
    type: `urn:flagpost:problem:${code.replace(/^FLAGPOST_ERR_/, '').toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? (status < 500 ? 'Bad Request' : 'Internal Server Error'),
    status,
    detail,
    code,
    instance,
    ...(fields !== undefined ? { errors: fields } : {})
  }
}
export const CustomerNotFoundError = createError<[string]>('FLAGPOST_ERR_CUSTOMER_NOT_FOUND', 'Customer "%s" does not exist', 404)
export const CustomerExistsError = createError<[string]>('FLAGPOST_ERR_CUSTOMER_EXISTS', 'Customer "%s" already exists', 409)
export const UserNotFoundError = createError<[string]>('FLAGPOST_ERR_USER_NOT_FOUND', 'User "%s" does not exist', 404)
export const UserExistsError = createError<[string]>('FLAGPOST_ERR_USER_EXISTS', 'User "%s" already exists', 409)
export const OverrideNotFoundError = createError<[string, string, string]>('FLAGPOST_ERR_OVERRIDE_NOT_FOUND', 'Flag "%s" has no override for %s "%s"', 404)
