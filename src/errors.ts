import createError from '@fastify/error'

/**
 * The error catalogue: every error a client can see, with its stable `FLAGPOST_ERR_*` code and HTTP
 * status, created once here and grouped by what it is about (as Fastify's lib/errors.js). Nothing
 * here knows how an error is shown: problem.ts renders them as problem+json, routes/ofrep-errors.ts
 * as OFREP bodies, cli/failure.ts as a CLI message; the library throws them as they are.
 */
export const ERRORS = {
  /** The request itself: its shape, its size, its route. */
  request: {
    ValidationError: createError<[string]>('FLAGPOST_ERR_VALIDATION', '%s', 400),
    BadRequestError: createError<[string]>('FLAGPOST_ERR_BAD_REQUEST', '%s', 400),
    InvalidJsonError: createError<[string]>('FLAGPOST_ERR_INVALID_JSON', '%s', 400),
    BodyTooLargeError: createError<[string]>('FLAGPOST_ERR_BODY_TOO_LARGE', '%s', 413),
    UnsupportedMediaTypeError: createError<[string]>('FLAGPOST_ERR_UNSUPPORTED_MEDIA_TYPE', '%s', 415),
    RouteNotFoundError: createError<[string, string]>('FLAGPOST_ERR_NOT_FOUND', 'No route %s %s', 404),
    MethodNotAllowedError: createError<[string, string, string]>('FLAGPOST_ERR_METHOD_NOT_ALLOWED', '%s is not allowed on %s: use %s', 405),
    RequestTimeoutError: createError('FLAGPOST_ERR_REQUEST_TIMEOUT', 'The request was not received in time', 408),
    UriTooLongError: createError('FLAGPOST_ERR_URI_TOO_LONG', 'The request line is longer than the server accepts', 414),
    HeadersTooLargeError: createError('FLAGPOST_ERR_HEADERS_TOO_LARGE', 'The request headers are larger than the server accepts', 431),
    /** 429: problem+json on the Flagpost routes; the OFREP routes render it as `{errorDetails}`. */
    RateLimitedError: createError<[number, number]>(
      'FLAGPOST_ERR_RATE_LIMITED',
      'Rate limit exceeded: at most %s evaluation requests per minute from one client; retry in %s s',
      429
    )
  },
  /** Who is asking. */
  auth: {
    UnauthorizedError: createError('FLAGPOST_ERR_UNAUTHORIZED', 'A valid API key is required (X-API-Key or Authorization: Bearer)', 401),
    /** The key is valid but its role or environments do not cover the request; the message says which. */
    ForbiddenError: createError<[string]>('FLAGPOST_ERR_FORBIDDEN', '%s', 403)
  },
  /** Flags. */
  flags: {
    FlagNotFoundError: createError<[string]>('FLAGPOST_ERR_FLAG_NOT_FOUND', 'Flag "%s" does not exist', 404),
    FlagExistsError: createError<[string]>('FLAGPOST_ERR_FLAG_EXISTS', 'Flag "%s" already exists', 409),
    VersionMismatchError: createError<[string, number]>('FLAGPOST_ERR_VERSION_MISMATCH', 'Flag "%s" has changed: its current version is %s', 412),
    /** A write that conflicts with the current state (overrides pinning a removed variant, a concurrent change). */
    ConflictError: createError<[string]>('FLAGPOST_ERR_CONFLICT', '%s', 409),
    /** A flag whose stored row this version cannot serve (e.g. written by an older version); the others are unaffected. */
    FlagUnservableError: createError<[string]>(
      'FLAGPOST_ERR_FLAG_UNSERVABLE',
      'Flag "%s" is stored in a form that cannot be served; rewrite it (PUT /flags/{name}) to repair it',
      500
    )
  },
  /** Environments (SPEC §9). */
  environments: {
    EnvironmentNotFoundError: createError<[string]>('FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND', 'Environment "%s" does not exist', 404),
    EnvironmentExistsError: createError<[string]>('FLAGPOST_ERR_ENVIRONMENT_EXISTS', 'Environment "%s" already exists', 409),
    /** Deleting an environment that still configures flags, or the default one. */
    EnvironmentInUseError: createError<[string]>('FLAGPOST_ERR_ENVIRONMENT_IN_USE', '%s', 409)
  },
  /** History (SPEC §11). */
  history: {
    /** A revert the flag's current type or variants no longer allow, or to a revision the flag did not exist at. */
    RevertConflictError: createError<[string]>('FLAGPOST_ERR_REVERT_CONFLICT', '%s', 409)
  },
  /** Managed API keys (SPEC §10). */
  apiKeys: {
    ApiKeyNotFoundError: createError<[string]>('FLAGPOST_ERR_API_KEY_NOT_FOUND', 'API key "%s" does not exist', 404),
    ApiKeyExistsError: createError<[string]>('FLAGPOST_ERR_API_KEY_EXISTS', 'An API key named "%s" already exists', 409)
  },
  /** Customers, users and their overrides. */
  subjects: {
    CustomerNotFoundError: createError<[string]>('FLAGPOST_ERR_CUSTOMER_NOT_FOUND', 'Customer "%s" does not exist', 404),
    CustomerExistsError: createError<[string]>('FLAGPOST_ERR_CUSTOMER_EXISTS', 'Customer "%s" already exists', 409),
    UserNotFoundError: createError<[string]>('FLAGPOST_ERR_USER_NOT_FOUND', 'User "%s" does not exist', 404),
    UserExistsError: createError<[string]>('FLAGPOST_ERR_USER_EXISTS', 'User "%s" already exists', 409),
    OverrideNotFoundError: createError<[string, string, string]>('FLAGPOST_ERR_OVERRIDE_NOT_FOUND', 'Flag "%s" has no override for %s "%s"', 404)
  },
  /** The service and what it depends on. */
  service: {
    /** The database cannot serve now (unreachable, or stalled past its bound): an outage the service expects and reports. */
    UnavailableError: createError<[string]>('FLAGPOST_ERR_UNAVAILABLE', '%s', 503),
    /** Anything else: a bug. Its detail says nothing about the internals (the log has the stack). */
    InternalError: createError('FLAGPOST_ERR_INTERNAL', 'An unexpected error occurred', 500)
  }
} as const

export const {
  ValidationError, BadRequestError, InvalidJsonError, BodyTooLargeError, UnsupportedMediaTypeError, RouteNotFoundError,
  MethodNotAllowedError, RequestTimeoutError, UriTooLongError, HeadersTooLargeError, RateLimitedError
} = ERRORS.request
export const { UnauthorizedError, ForbiddenError } = ERRORS.auth
export const { FlagNotFoundError, FlagExistsError, VersionMismatchError, ConflictError, FlagUnservableError } = ERRORS.flags
export const { EnvironmentNotFoundError, EnvironmentExistsError, EnvironmentInUseError } = ERRORS.environments
export const { RevertConflictError } = ERRORS.history
export const { ApiKeyNotFoundError, ApiKeyExistsError } = ERRORS.apiKeys
export const { CustomerNotFoundError, CustomerExistsError, UserNotFoundError, UserExistsError, OverrideNotFoundError } = ERRORS.subjects
export const { UnavailableError, InternalError } = ERRORS.service

type CatalogueError = new (...args: never[]) => { code: string, statusCode?: number }

/** The code and status of one catalogue entry (read from an instance: @fastify/error sets both in its constructor). */
export function entryOf (E: CatalogueError): { code: string, statusCode: number } {
  const { code, statusCode } = new (E as unknown as new (...args: string[]) => { code: string, statusCode: number })('', '', '')
  return { code, statusCode }
}

/** Every entry's code and status, in catalogue order. */
const ENTRIES = Object.values(ERRORS).flatMap((group) => Object.values(group).map((E) => entryOf(E as CatalogueError)))

/** The codes a status can carry, in catalogue order (for the API document's descriptions). */
export const codesWith = (status: number): string[] => ENTRIES.filter((e) => e.statusCode === status).map((e) => e.code)

const UNAVAILABLE = entryOf(UnavailableError).code

/**
 * An outage the service expects and reports (the database cannot serve now): logged as one warning
 * line with its code, not as a bug with a stack.
 */
export const isExpectedOutage = (error: { code?: string }): boolean => error.code === UNAVAILABLE

/** One bad field of a request, a command or a call, named in the terms of whoever wrote it. */
export interface FieldProblem {
  field: string
  message: string
}

/** A validation error that lists each bad field. */
export function invalid (problems: FieldProblem[]): Error & { problems: FieldProblem[] } {
  const err = new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '))
  return Object.assign(err, { problems })
}

/** One bad field. */
export function invalidField (field: string, message: string): Error & { problems: FieldProblem[] } {
  return invalid([{ field, message }])
}
