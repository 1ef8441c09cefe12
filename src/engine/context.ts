/**
 * Evaluation contexts as clients send them, read into the flat context the engine evaluates.
 *
 * OpenFeature contexts nest (`{targetingKey, user: {plan: "pro"}}`); Flagpost reads a nested object
 * as dotted attributes (`user.plan`), as flagd's `var` paths do, so rules, `bucket_by` and the
 * query string (`?user.plan=pro`) all name the same attribute. What cannot be an attribute is
 * ignored for that attribute only and never fails the request: arrays, `null` (unset), and nested
 * names that do not form an attribute name (at most 64 letters, digits, `_`, `.`, `-`). A flat
 * attribute given explicitly (`"user.plan": "free"`) wins over the same path read from an object.
 *
 * Limits still apply, and break them is a client error: objects nest at most MAX_CONTEXT_DEPTH
 * levels, at most MAX_CONTEXT_ATTRIBUTES attributes result, at most MAX_CONTEXT_ENTRIES entries are
 * read in all (ignored ones included), and a string value is at most MAX_CONTEXT_STRING characters.
 */
import type { EvaluationContext } from './types.js'

/** At most this many attributes in one context, after nested objects are read. */
export const MAX_CONTEXT_ATTRIBUTES = 64
/** How deeply objects may nest below the context (`a.b.c` is depth 2). */
export const MAX_CONTEXT_DEPTH = 8
/** Entries read in all, nested ones and ignored ones included: bounds the work one request causes. */
export const MAX_CONTEXT_ENTRIES = 256
/** The longest string value an attribute may have. */
export const MAX_CONTEXT_STRING = 1024
/** An attribute name: what rules and `bucket_by` may name, and what a context provides. */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/

/** A context as clients may send it: scalars, null (unset), nested objects, arrays (ignored). */
export interface ContextInput { [attribute: string]: ContextInputValue }
export type ContextInputValue = string | number | boolean | null | undefined | ContextInput | readonly unknown[]

/** Why a context cannot be read: the field (`context.user.plan`) and what is wrong. */
export interface ContextProblem { field: string, message: string }

export type ContextReading = { context: EvaluationContext, problem?: undefined } | { problem: ContextProblem, context?: undefined }

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** A context that is already flat (every value a scalar): the common case, read without copying. */
function isFlat (input: Record<string, unknown>): boolean {
  for (const key in input) {
    const value = input[key]
    if (typeof value === 'object' || value === undefined) return false
  }
  return true
}

/**
 * Reads a context as sent (`field` names it in problems, e.g. `context`). Top-level names are the
 * caller's schema's business; nested names that cannot be attribute names are ignored.
 */
export function readContext (input: Record<string, unknown>, field = 'context'): ContextReading {
  if (isFlat(input)) return { context: input as EvaluationContext }
  const context: EvaluationContext = {}
  const nested: Array<[string, unknown, number]> = []
  let attributes = 0
  let entries = 0
  // Flat attributes first, so that an explicit "user.plan" wins over user: {plan}.
  for (const key of Object.keys(input)) {
    const value = input[key]
    entries++
    if (isPlainObject(value)) nested.push([key, value, 1])
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      context[key] = value
      attributes++
    }
  }
  // Breadth-first, without recursion.
  for (let i = 0; i < nested.length; i++) {
    const [path, object, depth] = nested[i] as [string, Record<string, unknown>, number]
    if (depth > MAX_CONTEXT_DEPTH) return { problem: { field: `${field}.${path}`, message: `nests deeper than ${MAX_CONTEXT_DEPTH} levels` } }
    for (const key of Object.keys(object)) {
      if (++entries > MAX_CONTEXT_ENTRIES) return { problem: { field, message: `has more than ${MAX_CONTEXT_ENTRIES} entries, nested ones included` } }
      const value = object[key]
      const name = `${path}.${key}`
      if (isPlainObject(value)) { nested.push([name, value, depth + 1]); continue }
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue
      if (typeof value === 'string' && value.length > MAX_CONTEXT_STRING) {
        return { problem: { field: `${field}.${name}`, message: `must NOT have more than ${MAX_CONTEXT_STRING} characters` } }
      }
      if (!ATTRIBUTE_NAME.test(name) || Object.hasOwn(context, name)) continue
      context[name] = value
      if (++attributes > MAX_CONTEXT_ATTRIBUTES) {
        return { problem: { field, message: `has more than ${MAX_CONTEXT_ATTRIBUTES} attributes, nested ones included` } }
      }
    }
  }
  return { context }
}
