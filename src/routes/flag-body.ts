import type { FlagCreateBody, FlagPatchBody } from '../schemas/flags.js'
import type { FlagChange, NewFlag } from '../services/flag-commands.js'
import { camelField } from '../services/field-names.js'

/**
 * A flag as the API takes it (snake_case, checked by the route schema) → the flag service's command:
 * the HTTP edge's one mapping. The domain's names are the API's in camelCase, so each written field
 * (null included: a merge patch's removal) is carried over under that name.
 */
function fromBody (body: object): Record<string, unknown> {
  const spec: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) spec[camelField(key)] = value
  return spec
}

export const toNewFlag = (body: FlagCreateBody): NewFlag => fromBody(body) as unknown as NewFlag
export const toFlagChange = (body: FlagPatchBody): FlagChange => fromBody(body) as FlagChange
