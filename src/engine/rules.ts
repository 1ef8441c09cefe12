/**
 * Targeting rules (SPEC §2.2): the operator table and the compilation of clauses and rules.
 *
 * Every clause compiles once, when its flag enters the snapshot, to a predicate over
 * `(context, now)`: value sets, lowercased values, regexes, numbers, instants and versions are all
 * worked out here, so evaluating a clause is one property read plus a Set lookup, a string
 * comparison, an RE2 test or a number comparison. Anything that could fail (an unknown operator,
 * a bad value, a rollout that serves nothing) throws `FlagCompileError` here, never at evaluation;
 * the one exception is a stored pattern RE2 cannot run (see `regexes`).
 */
import { bucketingSeedOf, compileSplit, type CompiledSplit } from './bucketing.js'
import { FlagCompileError } from './compile-error.js'
import { ATTRIBUTE_NAME } from './context.js'
import { compilePattern, type CompiledPattern } from './regex-safety.js'
import { OPERATORS, type Clause, type EvaluationContext, type FlagDefinition, type JsonValue, type Operator, type Rule } from './types.js'
import { compareVersion, parseVersion, targetVersion, toEpochMs, toNumber, type Scalar } from './values.js'

/** Hard limits on what one flag may hold (the API schema repeats them for a friendlier 400). */
export const RULE_LIMITS = {
  rules: 100,
  clausesPerRule: 20,
  valuesPerClause: 10_000,
  patternsPerClause: 10,
  patternLength: 256
} as const

const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/
const KNOWN_OPERATORS: ReadonlySet<string> = new Set(OPERATORS)
/** The split values of what serves one variant, a rule or a flag's fallthrough (shared: a flag set has thousands). */
export const NO_SPLIT_VALUES: readonly JsonValue[] = Object.freeze([])
const STRING_OPERATORS: ReadonlySet<Operator> = new Set<Operator>([
  'in', 'not_in', 'eq', 'neq', 'contains', 'starts_with', 'ends_with', 'matches'
])

/** A compiled clause or rule: true when it holds for this context at time `now` (epoch ms). */
export type Predicate = (context: EvaluationContext, now: number) => boolean

/** A rule as the hot path needs it. */
export interface CompiledRule {
  readonly id: string
  /** `rule:<id>`, the result's `rule`, built once. */
  readonly label: string
  /** All clauses at once; a rule with no clauses always matches. */
  readonly matches: Predicate
  /** Each clause on its own, in order (`matches` is all of them): bulk evaluation tests a clause shared by many flags once (engine/bulk-program.ts). */
  readonly clauses: readonly Predicate[]
  /** Whether a clause reads the evaluation time (`now`): the rule's answer can change with no change of flag or context. */
  readonly readsClock: boolean
  /** Whether a clause reads `customer_id`, the one attribute the flag service may infer (a registered user's customer). */
  readonly readsCustomer: boolean
  /** `serve.variant` and its value; for a rollout rule, unused (the split decides). */
  readonly variant: string
  readonly value: JsonValue
  /** The rollout when the rule serves one, else null. */
  readonly split: CompiledSplit | null
  /** `variants[split.variants[i]]`, looked up once. */
  readonly splitValues: readonly JsonValue[]
}

/** Where a compile error points, and which flag it is about (for the message). */
interface Site {
  readonly flag: string
  readonly field: string
}

function fail (site: Site, field: string, message: string): never {
  throw new FlagCompileError(field, `flag ${site.flag}: ${field}: ${message}`)
}

/**
 * Compiles `def.targeting_rules.rules` in order. Throws `FlagCompileError` naming the first bad
 * field (`targeting_rules.rules.<i>.clauses.<j>.values.<k>`, 0-based).
 */
export function compileRules (def: FlagDefinition): CompiledRule[] {
  const rules: unknown = def.targeting_rules.rules ?? []
  const site: Site = { flag: def.name, field: 'targeting_rules.rules' }
  if (!Array.isArray(rules)) fail(site, site.field, 'must be a list of rules')
  if (rules.length > RULE_LIMITS.rules) {
    fail(site, site.field, `${rules.length} rules; at most ${RULE_LIMITS.rules} are allowed per flag`)
  }
  const seen = new Map<string, number>()
  return (rules as Rule[]).map((rule, i) => compileRule(def, rule, { flag: def.name, field: `${site.field}.${i}` }, i, seen))
}

function compileRule (def: FlagDefinition, rule: Rule, site: Site, index: number, seen: Map<string, number>): CompiledRule {
  const at = site.field
  if (rule === null || typeof rule !== 'object') fail(site, at, 'must be an object with id, clauses and serve')
  const { id, clauses } = rule
  if (typeof id !== 'string' || !RULE_ID.test(id)) fail(site, `${at}.id`, 'must be 1-64 letters, digits, "_", "." or "-"')
  const earlier = seen.get(id)
  if (earlier !== undefined) fail(site, `${at}.id`, `"${id}" is already the id of targeting_rules.rules.${earlier}`)
  seen.set(id, index)

  if (!Array.isArray(clauses)) fail(site, `${at}.clauses`, 'must be a list of clauses (an empty list always matches)')
  if (clauses.length > RULE_LIMITS.clausesPerRule) {
    fail(site, `${at}.clauses`, `${clauses.length} clauses; at most ${RULE_LIMITS.clausesPerRule} are allowed per rule`)
  }
  const predicates = clauses.map((clause, j) => compileClause(clause, `${at}.clauses.${j}`, site.flag))
  const readsClock = (clauses as Clause[]).some((clause) => clause.attribute === NOW_ATTRIBUTE)
  const readsCustomer = (clauses as Clause[]).some((clause) => clause.attribute === CUSTOMER_ATTRIBUTE)
  return { id, label: `rule:${id}`, matches: allOf(predicates), clauses: predicates, readsClock, readsCustomer, ...compileServe(def, rule.serve, site) }
}

function compileServe (def: FlagDefinition, serve: unknown, site: Site): Pick<CompiledRule, 'variant' | 'value' | 'split' | 'splitValues'> {
  const at = `${site.field}.serve`
  const shape = 'must be {"variant": name} or {"rollout": {name: weight, ...}}'
  if (serve === null || typeof serve !== 'object' || Array.isArray(serve)) fail(site, at, shape)
  const hasVariant = Object.hasOwn(serve, 'variant')
  if (hasVariant === Object.hasOwn(serve, 'rollout')) fail(site, at, shape)
  const variantNames = () => Object.keys(def.variants).join(', ')

  if (hasVariant) {
    const variant = (serve as { variant: unknown }).variant
    if (typeof variant !== 'string' || !Object.hasOwn(def.variants, variant)) {
      fail(site, `${at}.variant`, `"${String(variant)}" is not one of the variants (${variantNames()})`)
    }
    return { variant, value: def.variants[variant], split: null, splitValues: NO_SPLIT_VALUES }
  }

  const rollout = (serve as { rollout: unknown }).rollout
  if (rollout === null || typeof rollout !== 'object' || Array.isArray(rollout)) {
    fail(site, `${at}.rollout`, 'must be an object of variant name to weight')
  }
  // Stryker disable next-line ArrayDeclaration: a seeded string entry would be a weight that is not a number, which compileSplit scales to 0 and drops
  const entries: [string, number][] = []
  for (const [variant, weight] of Object.entries(rollout)) {
    if (!Object.hasOwn(def.variants, variant)) {
      fail(site, `${at}.rollout.${variant}`, `"${variant}" is not one of the variants (${variantNames()})`)
    }
    // Stryker disable next-line ConditionalExpression: Number.isFinite is false for every non-number, so dropping the typeof test changes nothing
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      fail(site, `${at}.rollout.${variant}`, 'weight must be a number >= 0')
    }
    entries.push([variant, weight])
  }
  // Same hash input as the fallthrough (bucketing seed + bucket value), so equal weights give equal buckets.
  const split = compileSplit(bucketingSeedOf(def), entries)
  if (split.total === 0) fail(site, `${at}.rollout`, 'needs at least one weight above 0 (weights count to two decimals)')
  return { variant: def.off_variant, value: def.variants[def.off_variant], split, splitValues: split.variants.map((v) => def.variants[v]) }
}

const always: Predicate = () => true
const never: Predicate = () => false

function allOf (predicates: Predicate[]): Predicate {
  switch (predicates.length) {
    case 0:
      return always
    case 1:
      return predicates[0]
    // Stryker disable next-line ConditionalExpression,BlockStatement: without the two-clause fast path the general loop gives the same result
    case 2: {
      const [a, b] = predicates
      return (ctx, now) => a(ctx, now) && b(ctx, now)
    }
    default:
      return (ctx, now) => {
        for (let i = 0; i < predicates.length; i++) if (!predicates[i](ctx, now)) return false
        return true
      }
  }
}

/** How a clause reads its attribute. */
const PLAIN = 0
/** `user_id`, else its alias `targetingKey`. */
const USER = 1
/** The evaluation time, never a context value. */
const NOW = 2
/** The attribute a clause names to compare the evaluation time. */
const NOW_ATTRIBUTE = 'now'
/** The attribute naming the customer: steps 4 and 6 read it, and the flag service may infer it (SPEC §2.4). */
export const CUSTOMER_ATTRIBUTE = 'customer_id'

/** Absent, '', null and non-scalars (objects, anything inherited from Object.prototype) are missing. */
function scalar (v: unknown): Scalar | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v
  if (typeof v === 'number' || typeof v === 'boolean') return v
  return undefined
}

function lookup (ctx: EvaluationContext, now: number, key: string, kind: number): Scalar | undefined {
  if (kind === NOW) return now
  const v = scalar(ctx[key])
  return v === undefined && kind === USER ? scalar(ctx.targetingKey) : v
}

/** A present value's test; `compileClause` wraps it with the lookup, missing and negate handling. */
type Test = (v: Scalar) => boolean

/** What an operator builder gets: the validated clause values and where to point errors. */
interface Spec {
  readonly values: readonly Scalar[]
  readonly caseInsensitive: boolean
  readonly site: Site
}

/**
 * Compiles one clause to a predicate. A missing attribute gives `negate` (false, or true under
 * negate) for every operator; a present one gives the operator's test, inverted under negate.
 * `field` is the clause's path for errors (`targeting_rules.rules.0.clauses.1`), `flagName` names
 * the flag in their messages.
 */
export function compileClause (clause: Clause, field: string, flagName: string): Predicate {
  const site: Site = { flag: flagName, field }
  const at = field
  if (clause === null || typeof clause !== 'object') fail(site, at, 'must be an object with attribute, operator and values')
  const { attribute, operator } = clause
  if (typeof attribute !== 'string' || !ATTRIBUTE_NAME.test(attribute)) {
    fail(site, `${at}.attribute`, 'must start with a letter or "_" and have at most 64 letters, digits, "_", "." or "-"')
  }
  // Stryker disable next-line ConditionalExpression: a non-string is never in the Set of operator names
  if (typeof operator !== 'string' || !KNOWN_OPERATORS.has(operator)) {
    fail(site, `${at}.operator`, `unknown operator "${String(operator)}"; use one of ${OPERATORS.join(', ')}`)
  }
  const negate = bool(clause.negate, site, `${at}.negate`)
  const caseInsensitive = bool(clause.case_insensitive, site, `${at}.case_insensitive`)
  if (caseInsensitive && !STRING_OPERATORS.has(operator)) {
    fail(site, `${at}.case_insensitive`, `applies to string operators only (${[...STRING_OPERATORS].join(', ')}), not "${operator}"`)
  }
  const values = checkValues(clause.values, site, `${at}.values`)
  const test = OPERATOR_TABLE[operator]({ values, caseInsensitive, site: { flag: site.flag, field: `${at}.values` } })
  if (test === NEVER_HOLDS) return never

  // not_in/neq are in/eq inverted for present values only: a missing attribute is still false.
  const flip = negate !== (operator === 'not_in' || operator === 'neq')
  const kind = attribute === NOW_ATTRIBUTE ? NOW : attribute === 'user_id' || attribute === 'targetingKey' ? USER : PLAIN
  const key = kind === USER ? 'user_id' : attribute
  return (ctx, now) => {
    const v = lookup(ctx, now, key, kind)
    return v === undefined ? negate : test(v) !== flip
  }
}

function bool (value: unknown, site: Site, field: string): boolean {
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') fail(site, field, 'must be true or false')
  return value
}

function checkValues (values: unknown, site: Site, at: string): Scalar[] {
  if (values === undefined || values === null) return []
  if (!Array.isArray(values)) fail(site, at, 'must be a list of strings, numbers or booleans')
  if (values.length > RULE_LIMITS.valuesPerClause) {
    fail(site, at, `${values.length} values; at most ${RULE_LIMITS.valuesPerClause} are allowed per clause`)
  }
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i]
    // Stryker disable next-line ConditionalExpression: Number.isFinite is false for every non-number
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) continue
    fail(site, `${at}.${i}`, 'must be a string, a finite number or a boolean')
  }
  return values as Scalar[]
}

function str (v: Scalar): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: String(s) is s for a string
  return typeof v === 'string' ? v : String(v)
}

function some (spec: Spec, operator: Operator): void {
  if (spec.values.length === 0) fail(spec.site, spec.site.field, `"${operator}" needs at least one value`)
}

function one (spec: Spec, operator: Operator): Scalar {
  if (spec.values.length !== 1) {
    fail(spec.site, spec.site.field, `"${operator}" takes exactly one value (got ${spec.values.length})`)
  }
  return spec.values[0]
}

/** Non-empty strings to look for, lowercased under case_insensitive (an empty one would match everything). */
function needles (spec: Spec, operator: Operator): string[] {
  some(spec, operator)
  return spec.values.map((v, i) => {
    const s = String(v)
    if (s === '') fail(spec.site, `${spec.site.field}.${i}`, 'an empty string matches every value; use "exists" instead')
    return spec.caseInsensitive ? s.toLowerCase() : s
  })
}

function membership (spec: Spec, operator: Operator): Test {
  some(spec, operator)
  const ci = spec.caseInsensitive
  const set = new Set(spec.values.map((v) => (ci ? String(v).toLowerCase() : String(v))))
  return ci ? (v) => set.has(str(v).toLowerCase()) : (v) => set.has(str(v))
}

function equality (spec: Spec, operator: Operator): Test {
  const ci = spec.caseInsensitive
  const target = ci ? String(one(spec, operator)).toLowerCase() : String(one(spec, operator))
  return ci ? (v) => str(v).toLowerCase() === target : (v) => str(v) === target
}

type StringMatch = (s: string, needle: string) => boolean
const includes: StringMatch = (s, n) => s.includes(n)
const startsWith: StringMatch = (s, n) => s.startsWith(n)
const endsWith: StringMatch = (s, n) => s.endsWith(n)

/** contains / starts_with / ends_with on strings and numbers (a boolean never matches). */
function substring (spec: Spec, operator: Operator, match: StringMatch): Test {
  const list = needles(spec, operator)
  const ci = spec.caseInsensitive
  // Stryker disable next-line ConditionalExpression,BlockStatement: the one-needle case is a fast path of the loop below
  if (list.length === 1) {
    const needle = list[0]
    return (v) => typeof v !== 'boolean' && match(ci ? str(v).toLowerCase() : str(v), needle)
  }
  return (v) => {
    if (typeof v === 'boolean') return false
    const s = ci ? str(v).toLowerCase() : str(v)
    for (let i = 0; i < list.length; i++) if (match(s, list[i])) return true
    return false
  }
}

/**
 * What `regexes` returns for a clause holding a stored pattern the engine will not run (see there):
 * `compileClause` turns it into a clause that never holds, negate or not.
 */
// Stryker disable next-line ArrowFunction,BooleanLiteral: never called: compileClause returns `never` for it, only its identity is used
const NEVER_HOLDS: Test = () => false

/**
 * Patterns are compiled here, once, for RE2 (`compilePattern`): linear-time matching, case
 * folding by RE2's own flag. A pattern RE2 cannot compile (lookaround, backreferences, too large)
 * is refused at write time by `checkRegexSafety`; one stored before that rule existed must still
 * load, so its clause never holds (negate included: a rule that cannot say whom it targets serves
 * no one rather than everyone) instead of throwing here.
 */
function regexes (spec: Spec): Test {
  const { site, values } = spec
  some(spec, 'matches')
  if (values.length > RULE_LIMITS.patternsPerClause) {
    fail(site, site.field, `${values.length} patterns; at most ${RULE_LIMITS.patternsPerClause} are allowed per clause`)
  }
  const list: CompiledPattern[] = []
  let runnable = true
  for (let i = 0; i < values.length; i++) {
    const source = values[i]
    const at = `${site.field}.${i}`
    if (typeof source !== 'string' || source === '') fail(site, at, 'must be a non-empty regular expression (a string)')
    if (source.length > RULE_LIMITS.patternLength) {
      fail(site, at, `pattern is ${source.length} characters; at most ${RULE_LIMITS.patternLength} are allowed`)
    }
    const re = compilePattern(source, spec.caseInsensitive)
    if (typeof re === 'string') runnable = false
    else list.push(re)
  }
  if (!runnable) return NEVER_HOLDS
  // Stryker disable next-line ConditionalExpression,BlockStatement: the one-pattern case is a fast path of the loop below
  if (list.length === 1) {
    const re = list[0]
    return (v) => typeof v !== 'boolean' && re.test(str(v))
  }
  return (v) => {
    if (typeof v === 'boolean') return false
    const s = str(v)
    for (let i = 0; i < list.length; i++) if (list[i].test(s)) return true
    return false
  }
}

function number (spec: Spec, operator: Operator): number {
  const n = toNumber(one(spec, operator))
  if (Number.isNaN(n)) fail(spec.site, `${spec.site.field}.0`, `"${operator}" compares numbers: give a finite number or numeric string`)
  return n
}

function instant (spec: Spec, operator: Operator): number {
  const t = toEpochMs(one(spec, operator))
  if (Number.isNaN(t)) {
    fail(spec.site, `${spec.site.field}.0`, `"${operator}" needs an ISO-8601 date or date-time (e.g. 2026-11-21T10:00:00Z) or epoch milliseconds`)
  }
  return t
}

/** semver_* as a range of accepted `compare` results: NaN (not a version) is outside every range. */
function version (spec: Spec, operator: Operator, lo: number, hi: number): Test {
  const raw = one(spec, operator)
  // Stryker disable next-line ConditionalExpression,StringLiteral: parseVersion of "true" or "false" is null as well
  const parsed = typeof raw === 'boolean' ? null : parseVersion(String(raw))
  if (parsed === null) {
    fail(spec.site, `${spec.site.field}.0`, `"${String(raw)}" is not a semantic version (e.g. 2.3.0, v2.3.0, 2.3.0-beta.1, or partial 2.3)`)
  }
  const target = targetVersion(parsed)
  return (v) => {
    const c = compareVersion(str(v), target)
    return c >= lo && c <= hi
  }
}

function none (spec: Spec): Test {
  if (spec.values.length !== 0) fail(spec.site, spec.site.field, '"exists" takes no values')
  return () => true
}

/** The operator table: each entry validates its values and returns the test for a present value. */
const OPERATOR_TABLE: Record<Operator, (spec: Spec) => Test> = {
  in: (s) => membership(s, 'in'),
  not_in: (s) => membership(s, 'not_in'),
  eq: (s) => equality(s, 'eq'),
  neq: (s) => equality(s, 'neq'),
  contains: (s) => substring(s, 'contains', includes),
  starts_with: (s) => substring(s, 'starts_with', startsWith),
  ends_with: (s) => substring(s, 'ends_with', endsWith),
  matches: regexes,
  lt: (s) => { const n = number(s, 'lt'); return (v) => toNumber(v) < n },
  lte: (s) => { const n = number(s, 'lte'); return (v) => toNumber(v) <= n },
  gt: (s) => { const n = number(s, 'gt'); return (v) => toNumber(v) > n },
  gte: (s) => { const n = number(s, 'gte'); return (v) => toNumber(v) >= n },
  before: (s) => { const t = instant(s, 'before'); return (v) => toEpochMs(v) < t },
  after: (s) => { const t = instant(s, 'after'); return (v) => toEpochMs(v) > t },
  semver_eq: (s) => version(s, 'semver_eq', 0, 0),
  semver_lt: (s) => version(s, 'semver_lt', -1, -1),
  semver_lte: (s) => version(s, 'semver_lte', -1, 0),
  semver_gt: (s) => version(s, 'semver_gt', 1, 1),
  semver_gte: (s) => version(s, 'semver_gte', 0, 1),
  exists: none
}
