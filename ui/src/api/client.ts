import { createFlagpostClient, type FlagpostClient, type Problem, type Schemas } from '../../../src/client/index.js'

export type { Schemas }
export type Flag = Schemas['Flag']
export type Environment = Schemas['Environment']
export type Change = Schemas['Change']
export type Role = Schemas['ApiKey']['role']
export type CurrentKey = Schemas['CurrentApiKey']

/**
 * A refusal or failure, in words for the person using the page: the server's problem detail when it
 * sent one (with the fields it names), else what went wrong on the way.
 */
export class ApiError extends Error {
  constructor (
    message: string,
    readonly status: number,
    readonly code: string,
    /** Each invalid field, by the path the server names (`body.targeting_rules.percentage`). */
    readonly fields: Array<{ field: string, message: string }> = []
  ) {
    super(message)
  }

  /** The message the server gave for one field (matched by suffix: `targeting_rules.percentage`). */
  fieldMessage (path: string): string | undefined {
    return this.fields.find((f) => f.field === `body.${path}` || f.field.endsWith(`.${path}`) || f.field === path)?.message
  }
}

const isProblem = (body: unknown): body is Problem =>
  typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string' && typeof (body as Problem).detail === 'string'

/** Turns openapi-fetch's `{data, error, response}` into the data, or an ApiError in words. */
export async function unwrap<T> (call: Promise<{ data?: T, error?: unknown, response: Response }>): Promise<T> {
  let result
  try {
    result = await call
  } catch (err) {
    throw new ApiError(`The server could not be reached (${(err as Error).message}). Check your connection and try again.`, 0, 'NETWORK')
  }
  const { data, error, response } = result
  if (response.ok) return data as T
  if (isProblem(error)) throw new ApiError(error.detail, response.status, error.code, error.errors ?? [])
  throw new ApiError(`The server answered ${response.status} ${response.statusText}`.trim(), response.status, 'HTTP')
}

/** The generated client, on the page's own origin, sending the signed-in key as X-API-Key. */
export const clientFor = (apiKey: string): FlagpostClient => createFlagpostClient({ baseUrl: window.location.origin, apiKey })

/** Where the signed-in key lives: this tab's session storage only (SPEC §13), never a URL, a cookie or a log. */
const KEY_ITEM = 'flagpost.apiKey'
export const storedKey = (): string | null => sessionStorage.getItem(KEY_ITEM)
export const storeKey = (key: string | null): void => {
  if (key === null) sessionStorage.removeItem(KEY_ITEM)
  else sessionStorage.setItem(KEY_ITEM, key)
}
