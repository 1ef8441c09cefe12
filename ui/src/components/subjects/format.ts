import { ApiError } from '../../api/client.js'

/** A server time as the person's locale writes it; `none` when there is none (never used, never expires). */
export const when = (iso: string | null | undefined, none = 'never'): string => iso === null || iso === undefined ? none : new Date(iso).toLocaleString()

/**
 * The server's message for one field of a refused write, for the input that holds it. A conflict
 * ("already exists") has no field in the problem body, but it is about the id the person typed: shown
 * there too, so the refusal sits where the fix goes.
 */
export function fieldError (error: unknown, field: string, conflictField?: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined
  if (conflictField === field && error.status === 409) return error.message
  return error.fieldMessage(field)
}
