import { EnvironmentNotFoundError, FlagNotFoundError, invalid, invalidField } from './errors.js'
import { ENVIRONMENT_KEY_RULE, FLAG_NAME_RULE } from './schemas/names.js'
import { inputProblems } from './schemas/storable.js'

/*
 * The library's arguments are checked before anything reaches a service or the database, whatever a
 * caller without TypeScript passes: a wrong type, a missing argument or a value that breaks the input
 * rule (schemas/storable.ts) is a FLAGPOST_ERR_VALIDATION naming the argument, and nothing is written.
 * These are the checks every group of calls (library.ts, library-history.ts) shares.
 */

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
export const typeName = (v: unknown): string => v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v

/** The input rule on one argument, reported under its name. */
export function storable (field: string, value: unknown): void {
  const problems = inputProblems(value)
  if (problems !== undefined) throw invalid(problems.map(({ path, message }) => ({ field: [field, ...path].join('.'), message })))
}

/**
 * The name of an existing feature: a string, else a validation error. A string that cannot be a flag name
 * names no flag (FLAGPOST_ERR_FLAG_NOT_FOUND) and never reaches the database.
 */
export function existingName (name: unknown, field = 'name'): string {
  if (typeof name !== 'string') throw invalidField(field, `must be a string, got ${typeName(name)}`)
  if (!FLAG_NAME_RULE.test(name)) throw new FlagNotFoundError(name)
  return name
}

/**
 * The key of an existing environment: a string, else a validation error. A string that cannot be an
 * environment key names no environment (FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND) and never reaches the database.
 */
export function existingEnvironment (key: unknown, field: string): string {
  if (typeof key !== 'string') throw invalidField(field, `must be a string, got ${typeName(key)}`)
  if (!ENVIRONMENT_KEY_RULE.test(key)) throw new EnvironmentNotFoundError(key)
  return key
}

/** A plain options object (the argument `field`) with only these keys (undefined or null: none given). */
export function optionsObject (options: unknown, known: readonly string[], field = 'options'): Record<string, unknown> {
  if (options == null) return {}
  if (!isPlainObject(options)) throw invalidField(field, `must be an object, got ${typeName(options)}`)
  const unknown = Object.keys(options).filter((key) => !known.includes(key))
  if (unknown.length > 0) throw invalid(unknown.map((key) => ({ field: `${field}.${key}`, message: 'is not a known option' })))
  return options
}
