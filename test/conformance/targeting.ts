/**
 * flagd targeting (JSONLogic + flagd operators) → Flagpost rules and rollouts, for the shapes that
 * have an exact Flagpost equivalent. Anything else throws `Untranslatable` with the precise reason:
 * a scenario on such a flag is skipped, never run against a guessed translation.
 */
import semver from 'semver'
import { ATTRIBUTE_NAME_RULE } from '../../src/schemas/names.js'

export class Untranslatable extends Error {}
export const no = (reason: string): never => { throw new Untranslatable(reason) }

export type Literal = string | number | boolean
export interface Clause { attribute: string, operator: string, values: Literal[], negate?: boolean }
export interface Rule { id: string, clauses: Clause[], serve: { variant: string } | { rollout: Record<string, number> } }

/**
 * The attribute a flagd `{"var": "targetingKey"}` reads. OFREP sends `targetingKey`, and Flagpost
 * treats it as an alias of `user_id` (SPEC §2.4).
 */
export const TARGETING_KEY = 'targetingKey'
const ATTRIBUTE = ATTRIBUTE_NAME_RULE.regex
export const short = (v: unknown): string => { const s = JSON.stringify(v) ?? String(v); return s.length > 80 ? `${s.slice(0, 77)}...` : s }
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The single JSONLogic operator of `logic`, or undefined when it is not an operation. */
export function operatorOf (logic: unknown): [string, unknown[]] | undefined {
  if (!isObject(logic)) return undefined
  const keys = Object.keys(logic)
  if (keys.length !== 1) return undefined
  const raw = logic[keys[0]]
  return [keys[0], Array.isArray(raw) ? raw : [raw]]
}

/** Replaces every `{"$ref": name}` by `$evaluators[name]` (recursively, as flagd does textually). */
export function inlineRefs (logic: unknown, evaluators: Record<string, unknown>, seen: string[] = []): unknown {
  if (Array.isArray(logic)) return logic.map((l) => inlineRefs(l, evaluators, seen))
  if (!isObject(logic)) return logic
  const keys = Object.keys(logic)
  if (keys.length === 1 && keys[0] === '$ref') {
    const name = logic.$ref
    if (typeof name !== 'string') return no(`$ref to ${short(name)} is not an evaluator name`)
    if (seen.includes(name)) return no(`$ref cycle through "${name}"`)
    if (!Object.hasOwn(evaluators, name)) {
      return no(`$ref "${name}" names no entry of $evaluators: flagd stores the flag and answers PARSE_ERROR when it is evaluated; Flagpost refuses a broken flag at write time, so there is nothing equivalent to evaluate`)
    }
    return inlineRefs(evaluators[name], evaluators, [...seen, name])
  }
  return Object.fromEntries(keys.map((k) => [k, inlineRefs(logic[k], evaluators, seen)]))
}

/** The context attribute read by `{"var": name}` / `{"var": [name]}`, or undefined for other operands. */
export function attributeOf (operand: unknown): string | undefined {
  const op = operatorOf(operand)
  if (op === undefined || op[0] !== 'var') return undefined
  if (op[1].length !== 1) return no(`${short(operand)}: var with a default value has no Flagpost equivalent`)
  const name = op[1][0]
  if (typeof name !== 'string' || name === '') return no(`${short(operand)} does not name an attribute`)
  if (name.startsWith('$flagd.')) return no(`${short(operand)} reads flagd evaluation metadata, not a context attribute`)
  if (name === 'targetingKey') return TARGETING_KEY
  if (!ATTRIBUTE.test(name)) return no(`attribute "${name}" is not a valid Flagpost attribute name`)
  return name
}

export const isLiteral = (v: unknown): v is Literal => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** `[var, literal]` in either order: the attribute, the literal and whether the order was flipped. */
function varAndLiteral (op: string, args: unknown[]): { attribute: string, literal: Literal, flipped: boolean } {
  if (args.length !== 2) return no(`"${op}" with ${args.length} argument(s) has no Flagpost clause equivalent`)
  const [a, b] = args
  const left = attributeOf(a)
  if (left !== undefined && isLiteral(b)) return { attribute: left, literal: b, flipped: false }
  const right = attributeOf(b)
  if (right !== undefined && isLiteral(a)) return { attribute: right, literal: a, flipped: true }
  return no(`"${op}" on ${short(args)}: only an attribute against a constant translates to a clause`)
}

/** flagd's sem_ver literal parsing: strips v/V, coerces "1" and "1.2"; null when not a version. */
function flagdVersion (raw: Literal): semver.SemVer | null {
  const s = String(raw).replace(/^[vV]/, '')
  const strict = semver.parse(s)
  if (strict !== null) return strict
  return /^\d+(\.\d+)?$/.test(s) ? semver.coerce(s) : null
}

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '!=': '!=' }
const NUMERIC: Record<string, string> = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }
const SEMVER: Record<string, string> = { '=': 'semver_eq', '<': 'semver_lt', '<=': 'semver_lte', '>': 'semver_gt', '>=': 'semver_gte' }

function semVerClauses (args: unknown[]): Clause[][] {
  if (args.length !== 3) return no(`sem_ver with ${args.length} argument(s): flagd evaluates it to null (an operator error); Flagpost refuses malformed clauses at write time`)
  const [a, rawOp, b] = args
  if (typeof rawOp !== 'string' || !['=', '!=', '<', '<=', '>', '>=', '^', '~'].includes(rawOp)) {
    return no(`sem_ver operator ${short(rawOp)} is not one flagd knows (flagd: null, an operator error); Flagpost has no invalid operator to store`)
  }
  const { attribute, literal, flipped } = varAndLiteral('sem_ver', [a, b])
  if (flipped && (rawOp === '^' || rawOp === '~')) return no(`sem_ver "${rawOp}" with the constant first`)
  const op = flipped ? FLIP[rawOp] : rawOp
  const version = flagdVersion(literal)
  if (version === null) return no(`sem_ver constant ${short(literal)} is not a version (flagd: null on every evaluation)`)
  // The constant as flagd reads it (v/V stripped, partial versions padded), build metadata kept.
  const text = semver.parse(String(literal).replace(/^[vV]/, '')) !== null ? String(literal).replace(/^[vV]/, '') : version.version
  const clause = (operator: string, value: string): Clause => ({ attribute, operator, values: [value] })
  switch (op) {
    // flagd: "^" is "same major", "~" "same major and minor". M.0.0-0 is the lowest version of major
    // M (a numeric 0 pre-release sorts first), so "same major" is exactly [M.0.0-0, (M+1).0.0-0).
    case '^': return [[clause('semver_gte', `${version.major}.0.0-0`), clause('semver_lt', `${version.major + 1}.0.0-0`)]]
    case '~': return [[clause('semver_gte', `${version.major}.${version.minor}.0-0`), clause('semver_lt', `${version.major}.${version.minor + 1}.0-0`)]]
    // Not "negate semver_eq": that would match a missing or invalid version, where flagd gives null.
    case '!=': return [[clause('semver_lt', text)], [clause('semver_gt', text)]]
    default: return [[clause(SEMVER[op], text)]]
  }
}

/**
 * A JSONLogic condition as Flagpost clauses in disjunctive normal form: the condition holds when
 * all clauses of any one inner list hold (an `or` becomes several rules serving the same variant).
 */
export function condition (logic: unknown): Clause[][] {
  const op = operatorOf(logic)
  if (op === undefined) return no(`condition ${short(logic)} is not an operation`)
  const [name, args] = op
  switch (name) {
    case 'and':
      if (args.length === 0) return no('"and" without arguments')
      return args.map(condition).reduce((acc, next) => acc.flatMap((a) => next.map((b) => [...a, ...b])), [[]] as Clause[][])
    case 'or':
      if (args.length === 0) return no('"or" without arguments')
      return args.flatMap(condition)
    case '==': case '===': case '!=': case '!==': {
      const { attribute, literal } = varAndLiteral(name, args)
      // JSONLogic's == coerces numbers and booleans; against a string constant it is plain equality.
      if (typeof literal !== 'string') return no(`"${name}" against ${short(literal)}: JSONLogic's loose equality coercions have no exact clause equivalent`)
      // != is "not equal" also when the attribute is missing, as `negate` is.
      return [[{ attribute, operator: 'eq', values: [literal], ...(name.startsWith('!') ? { negate: true } : {}) }]]
    }
    case 'in': {
      if (args.length !== 2) return no(`"in" with ${args.length} argument(s)`)
      const [needle, haystack] = args
      const attribute = attributeOf(needle)
      if (attribute !== undefined && Array.isArray(haystack) && haystack.length > 0 && haystack.every((v) => typeof v === 'string')) {
        return [[{ attribute, operator: 'in', values: haystack as string[] }]]
      }
      const container = attributeOf(haystack)
      if (container !== undefined && typeof needle === 'string') return [[{ attribute: container, operator: 'contains', values: [needle] }]]
      return no(`"in" on ${short(args)}: only attribute-in-list-of-strings or string-in-attribute translate`)
    }
    case '<': case '<=': case '>': case '>=': {
      const { attribute, literal, flipped } = varAndLiteral(name, args)
      if (typeof literal !== 'number') return no(`"${name}" against ${short(literal)}: only numeric comparisons translate`)
      const cmp = flipped ? FLIP[name] : name
      // JSONLogic compares a missing attribute as 0; a clause on a missing attribute is false.
      const zeroHolds = cmp === '<' ? literal > 0 : cmp === '<=' ? literal >= 0 : cmp === '>' ? literal < 0 : literal <= 0
      if (zeroHolds) return no(`"${name}" ${literal}: JSONLogic holds for a missing attribute (null as 0), a Flagpost clause does not`)
      return [[{ attribute, operator: NUMERIC[cmp], values: [literal] }]]
    }
    case 'starts_with': case 'ends_with': {
      if (args.length !== 2) return no(`${name} with ${args.length} argument(s): flagd evaluates it to null (an operator error); Flagpost refuses malformed clauses at write time`)
      const { attribute, literal, flipped } = varAndLiteral(name, args)
      if (flipped || typeof literal !== 'string') return no(`${name} on ${short(args)}: only an attribute against a string constant translates`)
      return [[{ attribute, operator: name, values: [literal] }]]
    }
    case 'sem_ver': return semVerClauses(args)
    case 'fractional': return fractionalCondition(args)
    default: return no(`JSONLogic operator "${name}" has no Flagpost clause equivalent`)
  }
}

/**
 * A `fractional` read as an `if` condition: flagd picks a bucket and the `if` reads its value's
 * truthiness. When every bucket that can be picked agrees, that is a constant, given that flagd has a
 * value to bucket: the targeting key for the shorthand, x for `{"var": x}` (otherwise it is null,
 * which is false). Buckets that disagree would need a rollout over if-branches, which Flagpost rules
 * cannot express.
 */
function fractionalCondition (args: unknown[]): Clause[][] {
  const explicit = args.length > 0 && !Array.isArray(args[0])
  const buckets = explicit ? args.slice(1) : args
  const truths = new Set<boolean>()
  for (const bucket of buckets) {
    if (!Array.isArray(bucket) || bucket.length < 1 || bucket.length > 2) return no(`fractional bucket ${short(bucket)} is malformed (flagd: null)`)
    const [value, weight = 1] = bucket as [unknown, unknown]
    if (typeof weight !== 'number' || !Number.isInteger(weight)) return no(`fractional condition weight ${short(weight)} is not an integer constant`)
    if (value !== null && !isLiteral(value)) return no(`fractional condition bucket ${short(value)} is an expression: its truthiness is not a constant`)
    if (weight > 0) truths.add(value !== null && value !== false && value !== 0 && value !== '')
  }
  if (truths.size > 1) return no('fractional used as an if condition splits contexts between both branches: Flagpost rules cannot serve a rollout over if-branches')
  if (!truths.has(true)) return [] // nothing served (null) or every bucket falsy: never holds
  if (!explicit) return [[{ attribute: TARGETING_KEY, operator: 'exists', values: [] }]]
  const attribute = operatorOf(args[0])?.[0] === 'var' ? attributeOf(args[0]) : undefined
  if (attribute === undefined) return no(`fractional condition with bucketing expression ${short(args[0])}: only the shorthand or {"var": x} translate`)
  return [[{ attribute, operator: 'exists', values: [] }]]
}

/** The variant name a branch yields (flagd: the result's string form), which must be a variant. */
export function variantOf (value: unknown, variants: Record<string, unknown>): string {
  if (!isLiteral(value)) return no(`a branch yields ${short(value)}, not a variant name: computed variants have no Flagpost equivalent`)
  const name = String(value)
  if (!Object.hasOwn(variants, name)) return no(`a branch yields "${name}", which is not a variant (flagd: GENERAL error at evaluation)`)
  return name
}

/**
 * An `if` chain (`[c1, v1, c2, v2, …, else]`, else-ifs nested in the else position) as ordered
 * rules. A final variant becomes a rule without clauses: flagd reports TARGETING_MATCH for it, not
 * DEFAULT. A final null (or no else) falls through to the default variant with reason DEFAULT.
 */
export function ifChain (args: unknown[], variants: Record<string, unknown>, rules: Rule[] = []): Rule[] {
  if (args.length < 2) return no(`"if" with ${args.length} argument(s) yields its condition's value as the variant`)
  for (let i = 0; i + 1 < args.length; i += 2) {
    const then = args[i + 1]
    if (then === null || then === undefined) {
      if (i + 2 < args.length) return no('a branch yields null (default variant, reason DEFAULT) before later branches: a Flagpost rule cannot serve "no match"')
      return rules
    }
    if (operatorOf(then)?.[0] === 'fractional') return no('fractional inside an if branch: bucketing expressions nested in if are not translated')
    if (operatorOf(then) !== undefined) return no(`a then-branch is an expression (${short(then)}): only variant names translate`)
    const serve = { variant: variantOf(then, variants) }
    for (const clauses of condition(args[i])) rules.push({ id: `r${rules.length + 1}`, clauses, serve })
  }
  if (args.length % 2 === 0) return rules
  const otherwise = args[args.length - 1]
  if (otherwise === null) return rules
  const op = operatorOf(otherwise)
  if (op?.[0] === 'if') return ifChain(op[1], variants, rules)
  if (op?.[0] === 'fractional') return no('fractional inside an if branch: bucketing expressions nested in if are not translated')
  rules.push({ id: `r${rules.length + 1}`, clauses: [], serve: { variant: variantOf(otherwise, variants) } })
  return rules
}
