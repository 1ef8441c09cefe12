import { ValidationError } from '../errors.js'
import { FLAG_NAME } from '../schemas/common.js'
import { LIMITS } from '../schemas/flags.js'
import { isSubjectId, MAX_SUBJECT_ID } from '../schemas/subjects.js'

// The HTTP API checks these with its route schemas before the services see them; the CLI calls the
// services directly, so it checks the same patterns itself: what the CLI writes, the API can address.
const MAX_CUSTOMER_NAME = 256

/** A new flag name (add-feature, rename-feature). */
export function checkFlagName (name: string): string {
  if (!FLAG_NAME.test(name)) {
    throw new ValidationError(`invalid feature name ${JSON.stringify(name)}: use 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit`)
  }
  return name
}

/** A customer or user id, as the API's paths accept it. */
export function checkSubjectId (kind: 'customer' | 'user', id: string): string {
  if (!isSubjectId(id)) {
    throw new ValidationError(`invalid ${kind} id ${JSON.stringify(id)}: use 1 to ${MAX_SUBJECT_ID} letters, digits or "_ . @ + : | = ~ -", starting with a letter, digit or "_"`)
  }
  return id
}

export function checkDescription (description: string): string {
  if (description.length > LIMITS.description) throw new ValidationError(`--description: at most ${LIMITS.description} characters`)
  return description
}

export function checkCustomerName (name: string): string {
  if (name.length > MAX_CUSTOMER_NAME) throw new ValidationError(`--name: at most ${MAX_CUSTOMER_NAME} characters`)
  return name
}
