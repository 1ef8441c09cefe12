/**
 * The one rule every input obeys, whatever its field and whatever the edge (HTTP, CLI, library):
 * a value must be stored and served back exactly as written, on SQLite and on Postgres. So numbers
 * are finite (JSON.parse turns 1e309 into Infinity, which JSON stores as null), strings and keys
 * are well-formed Unicode (a lone surrogate is stored as U+FFFD) without NUL (Postgres text and
 * jsonb cannot hold it), and nothing nests deeper than a bound (the validator, the merge patch and
 * the serializer must never recurse out of stack).
 */

/** How deeply any request body or library argument may nest: far beyond any real flag (values nest ≤ 32). */
export const MAX_INPUT_DEPTH = 64
/** How many problems one walk reports before it stops looking. */
const MAX_PROBLEMS = 20

const SUSPECT = /[\0\uD800-\uDFFF]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why a string cannot be stored as is, or undefined when it can. */
export function stringProblem (s: string): string | undefined {
  if (!SUSPECT.test(s)) return undefined
  if (s.includes('\0')) return 'must not contain NUL characters'
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (no unpaired surrogates)'
  return undefined
}

const isJsonContainer = (item: object): boolean => {
  if (Array.isArray(item)) return true
  const proto = Object.getPrototypeOf(item)
  return proto === Object.prototype || proto === null
}

export interface InputProblem {
  /** Where, as object keys and array indexes from the walked value; [] is the value itself. */
  path: string[]
  message: string
}

/**
 * Every place in `value` that breaks the rule, walked without recursion (a body may nest 100k
 * levels). A container at depth `maxDepth` or more (the value itself is at depth 0) is not walked
 * further and is reported at the field a client wrote: its leading object keys, at most
 * `fieldSegments` of them, up to the first array. Undefined when the value obeys the rule.
 */
export function inputProblems (value: unknown, { maxDepth = MAX_INPUT_DEPTH, fieldSegments = 2 } = {}): InputProblem[] | undefined {
  // Evaluation requests pass through here: answer the common case without building a path per value.
  if (obeysRule(value, maxDepth)) return undefined
  let problems: InputProblem[] | undefined
  const report = (path: string[], message: string): boolean => {
    (problems ??= []).push({ path, message })
    return problems.length >= MAX_PROBLEMS
  }
  const tooDeep = `nests deeper than ${maxDepth} levels`
  // [value, its path, how many leading segments of the path name the field, whether it is a property]
  const stack: Array<[unknown, string[], number, boolean]> = [[value, [], 0, false]]
  while (stack.length > 0) {
    const [item, path, field, property] = stack.pop()!
    if (typeof item === 'string') {
      const problem = stringProblem(item)
      if (problem !== undefined && report(path, problem)) break
      continue
    }
    if (typeof item === 'number') {
      if (!Number.isFinite(item) && report(path, 'must be a finite number')) break
      continue
    }
    if (item === null || typeof item === 'boolean') continue
    // Only a library caller can pass these: values that JSON would drop or change on the way to the database.
    // (The walked value itself may be any object: Fastify's params and query objects have prototypes of their own.)
    if (typeof item !== 'object' || (path.length > 0 && !isJsonContainer(item))) {
      if (item === undefined && property) continue // an absent property
      if (report(path, 'must be a JSON value (string, finite number, boolean, null, array or plain object)')) break
      continue
    }
    if (path.length >= maxDepth) {
      const at = path.slice(0, field)
      if (problems?.some((p) => p.message === tooDeep && p.path.join('\0') === at.join('\0'))) continue
      if (report(at, tooDeep)) break
      continue
    }
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], [...path, String(i)], field, false])
      continue
    }
    const keys = Object.keys(item)
    const childField = field === path.length && field < fieldSegments ? field + 1 : field
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]
      const problem = stringProblem(key)
      if (problem !== undefined) { if (report([...path, key], `keys ${problem}`)) { stack.length = 0; break } continue }
      stack.push([(item as Record<string, unknown>)[key], [...path, key], childField, true])
    }
  }
  return problems
}

/**
 * Whether `value` obeys the rule: the walk of inputProblems, without paths, and without allocating
 * (every evaluation request's context comes through here). It recurses: at most `maxDepth` + 1 calls
 * deep, as a container at `maxDepth` is refused before its contents are looked at.
 */
function obeysRule (value: unknown, maxDepth: number): boolean {
  return obeys(value, 0, maxDepth, false)
}

/** `item`, found at `depth` (as an object's property when `property`), obeys the rule. */
function obeys (item: unknown, depth: number, maxDepth: number, property: boolean): boolean {
  if (typeof item === 'string') return stringProblem(item) === undefined
  if (typeof item === 'number') return Number.isFinite(item)
  if (item === null || typeof item === 'boolean') return true
  // An absent property is fine; anything else that is not an object only a library caller can pass.
  if (typeof item !== 'object') return item === undefined && property
  if (depth >= maxDepth || (depth > 0 && !isJsonContainer(item))) return false
  if (Array.isArray(item)) {
    for (let i = 0; i < item.length; i++) if (!obeys(item[i], depth + 1, maxDepth, false)) return false
    return true
  }
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue
    if (stringProblem(key) !== undefined || !obeys((item as Record<string, unknown>)[key], depth + 1, maxDepth, true)) return false
  }
  return true
}
