import { ValidationError } from '../errors.js'
import { LIMITS } from '../schemas/flags.js'
import { FLAG_NAME_RULE, SUBJECT_ID_RULE } from '../schemas/names.js'

// The HTTP API checks these with its route schemas before the services see them; the CLI calls the
// services directly, so it checks the same rules itself: what the CLI writes, the API can address.

/** A new flag name (add-feature, rename-feature). */
export function checkFlagName (name: string): string {
  if (!FLAG_NAME_RULE.test(name)) {
    throw new ValidationError(`invalid feature name ${JSON.stringify(name)}: ${FLAG_NAME_RULE.message}`)
  }
  return name
}

/** A customer or user id, as the API's paths accept it. */
export function checkSubjectId (kind: 'customer' | 'user', id: string): string {
  if (!SUBJECT_ID_RULE.test(id)) {
    throw new ValidationError(`invalid ${kind} id ${JSON.stringify(id)}: ${SUBJECT_ID_RULE.message}`)
  }
  return id
}

export function checkDescription (description: string): string {
  if (description.length > LIMITS.description) throw new ValidationError(`--description: at most ${LIMITS.description} characters`)
  return description
}

export function checkCustomerName (name: string): string {
  if (name.length > LIMITS.customerName) throw new ValidationError(`--name: at most ${LIMITS.customerName} characters`)
  return name
}
