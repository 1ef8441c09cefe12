import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { compileClause, compileFlag, evaluate, FlagCompileError, RULE_LIMITS } from '../../src/engine/index.js'
import type { Clause, EvaluationContext, FlagDefinition, Rule, TargetingRules } from '../../src/engine/index.js'
import { differs, failing, range } from '../support/cases.js'

const NOW = Date.parse('2026-11-21T10:00:00.000Z')

function flag (rules: Rule[], tr: Partial<TargetingRules> = {}, over: Partial<FlagDefinition> = {}): FlagDefinition {
  return {
    name: 'checkout',
    type: 'string',
    enabled: true,
    variants: { on: 'on', off: 'off', blue: 'blue', green: 'green' },
    default_variant: 'on',
    off_variant: 'off',
    metadata: { owner: 'team' },
    version: 1,
    ...over,
    targeting_rules: { user_ids: [], customer_ids: [], rules, percentage: 0, rollout: null, bucket_by: 'user_id', ...tr }
  }
}

function c (attribute: string, operator: Clause['operator'], values: Clause['values'], extra: Partial<Clause> = {}): Clause {
  return { attribute, operator, values, ...extra }
}

/** Whether one clause holds: a one-rule flag serving `blue`, falling through to `off`. */
function holds (clause: Clause, ctx: EvaluationContext, now = NOW): boolean {
  const r = evaluate(compileFlag(flag([{ id: 'r', clauses: [clause], serve: { variant: 'blue' } }])), ctx, now)
  return r.variant === 'blue'
}

type Case = [label: string, clause: Clause, ctx: EvaluationContext, expected: boolean]

/** One assertion for the whole table; a failure lists the first failing cases by label. */
function table (t: { same: (found: unknown, wanted: unknown, message: string) => unknown }, cases: Case[]): void {
  t.same(failing(cases, ([label, clause, ctx, expected]) => differs(label, holds(clause, ctx), expected)), [], `all ${cases.length} cases hold as listed`)
}

t.test('in / not_in', async (t) => {
  const country = c('country', 'in', ['DE', 'FR'])
  table(t, [
    ['in: member', country, { country: 'DE' }, true],
    ['in: not a member', country, { country: 'US' }, false],
    ['in: case-sensitive by default', country, { country: 'de' }, false],
    ['in: case_insensitive', c('country', 'in', ['DE', 'fr'], { case_insensitive: true }), { country: 'Fr' }, true],
    ['in: case_insensitive, not a member', c('country', 'in', ['DE'], { case_insensitive: true }), { country: 'us' }, false],
    ['in: missing', country, {}, false],
    ['in: empty string is missing', country, { country: '' }, false],
    ['in: negate, missing', c('country', 'in', ['DE'], { negate: true }), {}, true],
    ['in: negate, member', c('country', 'in', ['DE'], { negate: true }), { country: 'DE' }, false],
    ['in: negate, not a member', c('country', 'in', ['DE'], { negate: true }), { country: 'US' }, true],
    ['in: number attribute by String()', c('plan', 'in', [1, 2]), { plan: 2 }, true],
    ['in: numeric string attribute vs number value', c('plan', 'in', [1, 2]), { plan: '2' }, true],
    ['in: number attribute vs string value', c('plan', 'in', ['7']), { plan: 7 }, true],
    ['in: boolean attribute', c('beta', 'in', [true]), { beta: true }, true],
    ['in: boolean attribute, other value', c('beta', 'in', [true]), { beta: false }, false],
    ['in: "true" string vs boolean value', c('beta', 'in', [true]), { beta: 'true' }, true],
    ['not_in: not a member', c('country', 'not_in', ['DE', 'FR']), { country: 'US' }, true],
    ['not_in: member', c('country', 'not_in', ['DE', 'FR']), { country: 'FR' }, false],
    ['not_in: missing is false', c('country', 'not_in', ['DE']), {}, false],
    ['not_in: negate, missing is true', c('country', 'not_in', ['DE'], { negate: true }), {}, true],
    ['not_in: negate, member', c('country', 'not_in', ['DE'], { negate: true }), { country: 'DE' }, true],
    ['not_in: case_insensitive', c('country', 'not_in', ['de'], { case_insensitive: true }), { country: 'DE' }, false],
    ['not_in: wrong type (object) is missing', c('country', 'not_in', ['DE']), { country: { x: 1 } as unknown as string }, false]
  ])
})

t.test('eq / neq', async (t) => {
  table(t, [
    ['eq: equal', c('plan', 'eq', ['pro']), { plan: 'pro' }, true],
    ['eq: different', c('plan', 'eq', ['pro']), { plan: 'free' }, false],
    ['eq: case-sensitive', c('plan', 'eq', ['pro']), { plan: 'PRO' }, false],
    ['eq: case_insensitive', c('plan', 'eq', ['Pro'], { case_insensitive: true }), { plan: 'PRO' }, true],
    ['eq: number by String()', c('seats', 'eq', [10]), { seats: 10 }, true],
    ['eq: number vs numeric string', c('seats', 'eq', ['10']), { seats: 10 }, true],
    ['eq: String() of 10.0 is "10"', c('seats', 'eq', ['10.0']), { seats: 10 }, false],
    ['eq: boolean', c('beta', 'eq', [false]), { beta: false }, true],
    ['eq: missing', c('plan', 'eq', ['pro']), {}, false],
    ['eq: negate missing', c('plan', 'eq', ['pro'], { negate: true }), {}, true],
    ['eq: null is missing', c('plan', 'eq', ['pro'], { negate: true }), { plan: null as unknown as string }, true],
    ['neq: different', c('plan', 'neq', ['pro']), { plan: 'free' }, true],
    ['neq: equal', c('plan', 'neq', ['pro']), { plan: 'pro' }, false],
    ['neq: missing is false', c('plan', 'neq', ['pro']), {}, false],
    ['neq: negate missing', c('plan', 'neq', ['pro'], { negate: true }), {}, true],
    ['neq: negate equal', c('plan', 'neq', ['pro'], { negate: true }), { plan: 'pro' }, true],
    ['neq: case_insensitive', c('plan', 'neq', ['PRO'], { case_insensitive: true }), { plan: 'pro' }, false]
  ])
})

t.test('contains / starts_with / ends_with', async (t) => {
  table(t, [
    ['contains: yes', c('email', 'contains', ['@acme.']), { email: 'ann@acme.com' }, true],
    ['contains: no', c('email', 'contains', ['@acme.']), { email: 'ann@example.com' }, false],
    ['contains: any of several', c('email', 'contains', ['@acme.', '@globex.']), { email: 'bo@globex.io' }, true],
    ['contains: none of several', c('email', 'contains', ['@acme.', '@globex.']), { email: 'bo@initech.io' }, false],
    ['contains: case-sensitive', c('email', 'contains', ['@ACME.']), { email: 'ann@acme.com' }, false],
    ['contains: case_insensitive', c('email', 'contains', ['@ACME.'], { case_insensitive: true }), { email: 'Ann@Acme.com' }, true],
    ['contains: case_insensitive, several', c('email', 'contains', ['@X.', '@ACME.'], { case_insensitive: true }), { email: 'ann@acme.com' }, true],
    ['contains: number attribute', c('phone', 'contains', ['151']), { phone: 4915112345 }, true],
    ['contains: boolean attribute is false', c('beta', 'contains', ['tru']), { beta: true }, false],
    ['contains: boolean attribute, negate', c('beta', 'contains', ['tru'], { negate: true }), { beta: true }, true],
    ['contains: missing', c('email', 'contains', ['@']), {}, false],
    ['contains: negate missing', c('email', 'contains', ['@'], { negate: true }), {}, true],
    ['contains: negate present', c('email', 'contains', ['@acme.'], { negate: true }), { email: 'ann@acme.com' }, false],
    ['starts_with: yes', c('email', 'starts_with', ['admin@']), { email: 'admin@acme.com' }, true],
    ['starts_with: no', c('email', 'starts_with', ['admin@']), { email: 'ann@acme.com' }, false],
    ['starts_with: several', c('email', 'starts_with', ['root@', 'admin@']), { email: 'admin@acme.com' }, true],
    ['starts_with: case_insensitive', c('email', 'starts_with', ['ADMIN@'], { case_insensitive: true }), { email: 'Admin@acme.com' }, true],
    ['starts_with: number attribute', c('zip', 'starts_with', ['10']), { zip: 10115 }, true],
    ['starts_with: boolean attribute', c('beta', 'starts_with', ['t']), { beta: true }, false],
    ['starts_with: missing', c('email', 'starts_with', ['a']), {}, false],
    ['starts_with: negate missing', c('email', 'starts_with', ['a'], { negate: true }), {}, true],
    ['ends_with: yes', c('email', 'ends_with', ['.de']), { email: 'ann@acme.de' }, true],
    ['ends_with: no', c('email', 'ends_with', ['.de']), { email: 'ann@acme.com' }, false],
    ['ends_with: several', c('email', 'ends_with', ['.fr', '.de']), { email: 'ann@acme.de' }, true],
    ['ends_with: case_insensitive', c('email', 'ends_with', ['.DE'], { case_insensitive: true }), { email: 'ann@ACME.De' }, true],
    ['ends_with: number attribute', c('id', 'ends_with', [0]), { id: 120 }, true],
    ['ends_with: boolean attribute', c('beta', 'ends_with', ['e']), { beta: true }, false],
    ['ends_with: missing', c('email', 'ends_with', ['.de']), {}, false],
    ['ends_with: negate present', c('email', 'ends_with', ['.de'], { negate: true }), { email: 'ann@acme.com' }, true]
  ])
})

t.test('matches', async (t) => {
  table(t, [
    ['matches: yes', c('user', 'matches', ['^internal-[0-9]+$']), { user: 'internal-42' }, true],
    ['matches: no', c('user', 'matches', ['^internal-[0-9]+$']), { user: 'internal-x' }, false],
    ['matches: case-sensitive', c('user', 'matches', ['^internal-']), { user: 'INTERNAL-1' }, false],
    ['matches: case_insensitive uses RE2\'s case folding', c('user', 'matches', ['^internal-'], { case_insensitive: true }), { user: 'INTERNAL-1' }, true],
    ['matches: any of several', c('user', 'matches', ['^qa-', '^internal-']), { user: 'internal-1' }, true],
    ['matches: none of several', c('user', 'matches', ['^qa-', '^internal-']), { user: 'alice' }, false],
    ['matches: Unicode classes (property escapes)', c('name', 'matches', ['^\\p{Lu}']), { name: 'Émile' }, true],
    ['matches: Unicode classes, negative', c('name', 'matches', ['^\\p{Lu}']), { name: 'émile' }, false],
    ['matches: number attribute by String()', c('id', 'matches', ['^\\d{3}$']), { id: 123 }, true],
    ['matches: boolean attribute is false', c('beta', 'matches', ['^true$']), { beta: true }, false],
    ['matches: missing', c('user', 'matches', ['.']), {}, false],
    ['matches: negate missing', c('user', 'matches', ['.'], { negate: true }), {}, true],
    ['matches: negate present', c('user', 'matches', ['^internal-'], { negate: true }), { user: 'internal-1' }, false]
  ])
  // A compiled pattern keeps no state between calls (no lastIndex as a g/y RegExp would).
  const f = compileFlag(flag([{ id: 'r', clauses: [c('user', 'matches', ['internal'])], serve: { variant: 'blue' } }]))
  for (let i = 0; i < 5; i++) t.equal(evaluate(f, { user: 'internal' }, NOW).variant, 'blue', `repeat ${i}`)
})

t.test('lt / lte / gt / gte', async (t) => {
  table(t, [
    ['lt: below', c('age', 'lt', [18]), { age: 17 }, true],
    ['lt: equal', c('age', 'lt', [18]), { age: 18 }, false],
    ['lte: equal', c('age', 'lte', [18]), { age: 18 }, true],
    ['lte: above', c('age', 'lte', [18]), { age: 19 }, false],
    ['gt: above', c('age', 'gt', [65]), { age: 66 }, true],
    ['gt: equal', c('age', 'gt', [65]), { age: 65 }, false],
    ['gte: equal', c('age', 'gte', [65]), { age: 65 }, true],
    ['gte: below', c('age', 'gte', [65]), { age: 64.5 }, false],
    ['numeric string value', c('age', 'gt', ['65']), { age: 70 }, true],
    ['numeric string attribute', c('age', 'gt', [65]), { age: '70' }, true],
    ['decimal and exponent strings', c('score', 'gte', ['1.5']), { score: '2e0' }, true],
    ['negative numbers', c('balance', 'lt', [0]), { balance: -0.01 }, true],
    ['non-numeric string attribute is false', c('age', 'lt', [18]), { age: 'young' }, false],
    ['non-numeric string, negate', c('age', 'lt', [18], { negate: true }), { age: 'young' }, true],
    ['hex string is not a number', c('age', 'gt', [1]), { age: '0x20' }, false],
    ['padded string is not a number', c('age', 'gt', [1]), { age: ' 20' }, false],
    ['boolean attribute is false', c('age', 'gte', [0]), { age: true }, false],
    ['missing', c('age', 'gt', [0]), {}, false],
    ['negate missing', c('age', 'gt', [0], { negate: true }), {}, true],
    ['negate present', c('age', 'gt', [65], { negate: true }), { age: 70 }, false]
  ])
})

t.test('before / after', async (t) => {
  const launch = '2026-12-01T00:00:00Z'
  const launchMs = Date.parse(launch)
  table(t, [
    ['before: ISO attribute earlier', c('signup', 'before', [launch]), { signup: '2026-11-30T23:59:59Z' }, true],
    ['before: ISO attribute later', c('signup', 'before', [launch]), { signup: '2026-12-01T00:00:01Z' }, false],
    ['before: equal is not before', c('signup', 'before', [launch]), { signup: launch }, false],
    ['after: equal is not after', c('signup', 'after', [launch]), { signup: launch }, false],
    ['after: ISO attribute later', c('signup', 'after', [launch]), { signup: '2026-12-02' }, true],
    ['after: offset taken into account', c('signup', 'after', [launch]), { signup: '2026-12-01T00:30:00+01:00' }, false],
    ['epoch ms attribute', c('signup', 'before', [launch]), { signup: launchMs - 1 }, true],
    ['epoch ms string attribute (query strings)', c('signup', 'after', [launch]), { signup: String(launchMs + 1) }, true],
    ['epoch ms value', c('signup', 'before', [launchMs]), { signup: '2026-11-30' }, true],
    ['zone-less date-time is UTC', c('signup', 'before', [launch]), { signup: '2026-11-30T23:59:59' }, true],
    ['zone-less date-time is UTC (after)', c('signup', 'after', ['2026-11-30T23:00:00']), { signup: '2026-11-30T23:30:00Z' }, true],
    ['invalid date attribute is false', c('signup', 'before', [launch]), { signup: 'yesterday' }, false],
    ['invalid date attribute, negate', c('signup', 'before', [launch], { negate: true }), { signup: 'yesterday' }, true],
    ['impossible month is false', c('signup', 'before', [launch]), { signup: '2026-13-01' }, false],
    ['boolean attribute is false', c('signup', 'after', [0]), { signup: true }, false],
    ['missing', c('signup', 'before', [launch]), {}, false],
    ['negate missing', c('signup', 'before', [launch], { negate: true }), {}, true]
  ])
})

t.test('now is the evaluation time argument, never a context value', async (t) => {
  const window = [c('now', 'after', ['2026-12-01T00:00:00Z']), c('now', 'before', ['2026-12-24T00:00:00Z'])]
  const f = compileFlag(flag([{ id: 'xmas', clauses: window, serve: { variant: 'green' } }]))
  const at = (iso: string, ctx: EvaluationContext = {}) => evaluate(f, ctx, Date.parse(iso)).variant
  t.equal(at('2026-11-30T23:59:59Z'), 'off', 'before the window')
  t.equal(at('2026-12-01T00:00:01Z'), 'green', 'inside the window')
  t.equal(at('2026-12-23T23:59:59Z'), 'green', 'still inside')
  t.equal(at('2026-12-24T00:00:00Z'), 'off', 'at the end (before is strict)')
  t.equal(at('2026-11-01T00:00:00Z', { now: '2026-12-10T00:00:00Z' }), 'off', 'a context "now" inside the window is ignored')
  t.equal(at('2026-12-10T00:00:00Z', { now: '2020-01-01T00:00:00Z' }), 'green', 'a context "now" outside the window is ignored')
  t.equal(at('2026-12-10T00:00:00Z', { now: '' }), 'green', 'an empty context "now" does not make it missing')
  t.ok(holds(c('now', 'exists', []), {}), 'now always exists')
  t.ok(holds(c('now', 'gte', [NOW]), {}, NOW), 'now works with numeric operators too')
  t.notOk(holds(c('now', 'gte', [NOW]), {}, NOW - 1), 'and uses the argument')
})

t.test('semver_*', async (t) => {
  table(t, [
    ['semver_eq: equal', c('v', 'semver_eq', ['2.3.0']), { v: '2.3.0' }, true],
    ['semver_eq: different', c('v', 'semver_eq', ['2.3.0']), { v: '2.3.1' }, false],
    ['semver_lt: yes', c('v', 'semver_lt', ['2.3.0']), { v: '2.2.9' }, true],
    ['semver_lt: equal', c('v', 'semver_lt', ['2.3.0']), { v: '2.3.0' }, false],
    ['semver_lte: equal', c('v', 'semver_lte', ['2.3.0']), { v: '2.3.0' }, true],
    ['semver_lte: above', c('v', 'semver_lte', ['2.3.0']), { v: '2.10.0' }, false],
    ['semver_gt: numeric, not lexical', c('v', 'semver_gt', ['2.3.0']), { v: '2.10.0' }, true],
    ['semver_gt: equal', c('v', 'semver_gt', ['2.3.0']), { v: '2.3.0' }, false],
    ['semver_gte: equal', c('v', 'semver_gte', ['2.3.0']), { v: '2.3.0' }, true],
    ['semver_gte: below', c('v', 'semver_gte', ['2.3.0']), { v: '1.99.99' }, false],
    ['prerelease sorts before its release', c('v', 'semver_lt', ['2.0.0']), { v: '2.0.0-alpha' }, true],
    ['release after a prerelease target', c('v', 'semver_gt', ['2.0.0-rc.1']), { v: '2.0.0' }, true],
    ['prerelease order', c('v', 'semver_gt', ['2.0.0-alpha.2']), { v: '2.0.0-alpha.10' }, true],
    ['v prefix on the attribute', c('v', 'semver_eq', ['1.0.0']), { v: 'v1.0.0' }, true],
    ['V prefix on the attribute', c('v', 'semver_eq', ['1.0.0']), { v: 'V1.0.0' }, true],
    ['v prefix on the value', c('v', 'semver_eq', ['v1.0.0']), { v: '1.0.0' }, true],
    ['partial attribute "1.2" is 1.2.0', c('v', 'semver_eq', ['1.2.0']), { v: '1.2' }, true],
    ['partial attribute "2" is 2.0.0', c('v', 'semver_gte', ['2.0.0']), { v: '2' }, true],
    ['build metadata ignored', c('v', 'semver_eq', ['1.0.0+build']), { v: '1.0.0+other' }, true],
    ['build metadata ignored (plain attribute)', c('v', 'semver_eq', ['1.0.0+build']), { v: '1.0.0' }, true],
    ['four parts is not a version', c('v', 'semver_lt', ['3.0.0']), { v: '2.0.0.0' }, false],
    ['four parts, semver_gt', c('v', 'semver_gt', ['1.0.0']), { v: '2.0.0.0' }, false],
    ['junk is false', c('v', 'semver_gte', ['0.0.0']), { v: 'not-a-version' }, false],
    ['junk, negate', c('v', 'semver_gte', ['0.0.0'], { negate: true }), { v: 'not-a-version' }, true],
    ['leading zeros are not semver', c('v', 'semver_gte', ['0.0.0']), { v: '01.2.3' }, false],
    ['boolean attribute is false', c('v', 'semver_gte', ['0.0.0']), { v: true }, false],
    ['missing', c('v', 'semver_gte', ['0.0.0']), {}, false],
    ['negate missing', c('v', 'semver_gte', ['0.0.0'], { negate: true }), {}, true],
    ['negate present', c('v', 'semver_gte', ['2.0.0'], { negate: true }), { v: '2.1.0' }, false]
  ])
})

t.test('semver matches flagd testkit expectations (evaluator/gherkin/semver.feature)', async (t) => {
  // equal-greater-lesser-version-flag: =, >, < "2.0.0"; 2.0.0.0 is none of them.
  const version = (v: string): string => {
    const f = compileFlag(flag([
      { id: 'eq', clauses: [c('version', 'semver_eq', ['2.0.0'])], serve: { variant: 'on' } },
      { id: 'gt', clauses: [c('version', 'semver_gt', ['2.0.0'])], serve: { variant: 'green' } },
      { id: 'lt', clauses: [c('version', 'semver_lt', ['2.0.0'])], serve: { variant: 'blue' } }
    ]))
    return evaluate(f, { version: v }, NOW).variant
  }
  t.same(['2.0.0', '2.1.0', '1.9.0', '2.0.0-alpha', '2.0.0.0'].map(version), ['on', 'green', 'blue', 'blue', 'off'])
  // semver-numeric-context-flag: > "1.1" (a partial value), numbers in the context.
  const numeric: [string | number, boolean][] = [[1.2, true], [1.1, false], [2, true], [1, false], ['1.2', true]]
  t.same(failing(numeric, ([v, expected]) => differs(`${typeof v} ${v}`, holds(c('version', 'semver_gt', ['1.1']), { version: v }), expected)), [], '> 1.1, numbers and strings')
  // semver-v-prefix-flag: = "v1.0.0".
  const prefixed: [string, boolean][] = [['1.0.0', true], ['v1.0.0', true], ['V1.0.0', true], ['2.0.0', false]]
  t.same(failing(prefixed, ([v, expected]) => differs(v, holds(c('version', 'semver_eq', ['v1.0.0']), { version: v }), expected)), [], '= v1.0.0')
  // semver-build-metadata-flag: = "1.0.0+build".
  const build: [string, boolean][] = [['1.0.0', true], ['1.0.0+other', true], ['2.0.0', false]]
  t.same(failing(build, ([v, expected]) => differs(v, holds(c('version', 'semver_eq', ['1.0.0+build']), { version: v }), expected)), [], '= 1.0.0+build: build metadata ignored')
  // semver-partial-version-flag is "^1" (same major): here semver_gte 1 and semver_lt 2.
  const partial: [string | number, boolean][] = [['1.5.0', true], ['1.0.0', true], ['1.0', true], ['1', true], [1, true], [1.2, true], ['2.0.0', false]]
  const major1 = compileFlag(flag([{ id: 'major1', clauses: [c('version', 'semver_gte', ['1']), c('version', 'semver_lt', [2])], serve: { variant: 'on' } }]))
  t.same(failing(partial, ([v, expected]) => differs(`${typeof v} ${v}`, evaluate(major1, { version: v }, NOW).variant === 'on', expected)), [], '^1: partial versions and numbers')
})

t.test('exists', async (t) => {
  table(t, [
    ['present string', c('plan', 'exists', []), { plan: 'pro' }, true],
    ['present zero', c('seats', 'exists', []), { seats: 0 }, true],
    ['present false', c('beta', 'exists', []), { beta: false }, true],
    ['empty string is missing', c('plan', 'exists', []), { plan: '' }, false],
    ['undefined is missing', c('plan', 'exists', []), { plan: undefined }, false],
    ['null is missing', c('plan', 'exists', []), { plan: null as unknown as string }, false],
    ['an object is missing', c('plan', 'exists', []), { plan: {} as unknown as string }, false],
    ['inherited names are missing', c('constructor', 'exists', []), {}, false],
    ['__proto__ is missing', c('__proto__', 'exists', []), {}, false],
    ['absent', c('plan', 'exists', []), {}, false],
    ['negate absent', c('plan', 'exists', [], { negate: true }), {}, true],
    ['negate present', c('plan', 'exists', [], { negate: true }), { plan: 'pro' }, false],
    ['values may be omitted', { attribute: 'plan', operator: 'exists' } as Clause, { plan: 'pro' }, true]
  ])
})

t.test('user_id and its alias targetingKey', async (t) => {
  table(t, [
    ['user_id clause reads targetingKey', c('user_id', 'eq', ['bob']), { targetingKey: 'bob' }, true],
    ['targetingKey clause reads user_id', c('targetingKey', 'eq', ['alice']), { user_id: 'alice' }, true],
    ['user_id wins over targetingKey', c('targetingKey', 'eq', ['bob']), { user_id: 'alice', targetingKey: 'bob' }, false],
    ['empty user_id falls back to targetingKey', c('user_id', 'eq', ['bob']), { user_id: '', targetingKey: 'bob' }, true],
    ['both missing', c('user_id', 'exists', []), { customer_id: 'acme' }, false]
  ])
})

t.test('rules: order, conjunction, precedence', async (t) => {
  const rules: Rule[] = [
    { id: 'eu-pro', clauses: [c('country', 'in', ['DE', 'FR']), c('plan', 'eq', ['pro'])], serve: { variant: 'green' } },
    { id: 'eu', clauses: [c('country', 'in', ['DE', 'FR'])], serve: { variant: 'blue' } },
    { id: 'everyone-else', clauses: [], serve: { variant: 'on' } }
  ]
  const f = compileFlag(flag(rules, { user_ids: ['vip'], customer_ids: ['acme'] }))
  const r = (ctx: EvaluationContext) => {
    const x = evaluate(f, ctx, NOW)
    return [x.variant, x.value, x.reason, x.rule]
  }
  t.same(r({ country: 'DE', plan: 'pro' }), ['green', 'green', 'TARGETING_MATCH', 'rule:eu-pro'], 'all clauses hold: first rule')
  t.same(r({ country: 'DE', plan: 'free' }), ['blue', 'blue', 'TARGETING_MATCH', 'rule:eu'], 'one clause fails: next rule')
  t.same(r({ country: 'FR' }), ['blue', 'blue', 'TARGETING_MATCH', 'rule:eu'], 'missing attribute fails its clause')
  t.same(r({ country: 'US', plan: 'pro' }), ['on', 'on', 'TARGETING_MATCH', 'rule:everyone-else'], 'a rule with no clauses always matches')
  t.same(r({}), ['on', 'on', 'TARGETING_MATCH', 'rule:everyone-else'], 'even an empty context')
  t.same(r({ user_id: 'vip', country: 'DE', plan: 'pro' }), ['on', 'on', 'TARGETING_MATCH', 'user_ids'], 'user_ids come before rules')
  t.same(r({ customer_id: 'acme', country: 'DE' }), ['on', 'on', 'TARGETING_MATCH', 'customer_ids'], 'customer_ids come before rules')

  const three = compileFlag(flag([{ id: 'r', clauses: [c('a', 'exists', []), c('b', 'eq', [2]), c('c', 'gt', [2])], serve: { variant: 'blue' } }]))
  t.equal(evaluate(three, { a: 1, b: 2, c: 3 }, NOW).variant, 'blue', 'three clauses, all hold')
  for (const ctx of [{ b: 2, c: 3 }, { a: 1, b: 1, c: 3 }, { a: 1, b: 2, c: 2 }]) {
    t.equal(evaluate(three, ctx, NOW).variant, 'off', `three clauses, one fails: ${JSON.stringify(ctx)}`)
  }

  // Two rules that both match: the first one serves, whatever the second says.
  const both = compileFlag(flag([
    { id: 'a', clauses: [c('plan', 'exists', [])], serve: { variant: 'blue' } },
    { id: 'b', clauses: [c('plan', 'eq', ['pro'])], serve: { variant: 'green' } }
  ]))
  t.equal(evaluate(both, { plan: 'pro' }, NOW).rule, 'rule:a', 'first match wins')

  const disabled = compileFlag(flag(rules, {}, { enabled: false }))
  t.same([evaluate(disabled, { country: 'DE' }, NOW).reason, evaluate(disabled, {}, NOW).variant], ['DISABLED', 'off'], 'disabled beats rules')

  const unmatched = compileFlag(flag([rules[0]], { percentage: 100 }))
  t.equal(unmatched.noTargeting, false, 'rules are targeting')
  t.same([evaluate(unmatched, {}, NOW).reason, evaluate(unmatched, {}, NOW).rule], ['DEFAULT', 'fallthrough'], 'unmatched, 100 %: DEFAULT, not STATIC')
  t.same(evaluate(compileFlag(flag([rules[0]])), {}, NOW).variant, 'off', 'unmatched, 0 %: off')
})

t.test('rule serving a rollout', async (t) => {
  const weights = { blue: 20, green: 30, on: 50 }
  const ruleFlag = (tr: Partial<TargetingRules> = {}) =>
    compileFlag(flag([{ id: 'beta', clauses: [c('beta', 'eq', [true])], serve: { rollout: weights } }], tr))
  const f = ruleFlag()
  // The same weights as a fallthrough rollout: the hash input (flag name + user id) is the same, so are the buckets.
  const fallthrough = compileFlag(flag([], { rollout: weights, percentage: null }))
  const counts: Record<string, number> = { blue: 0, green: 0, on: 0 }
  const first2000 = failing(range(20_000), (i) => {
    const ctx = { user_id: `user-${i}`, beta: true }
    const r = evaluate(f, ctx, NOW)
    counts[r.variant]++
    if (i >= 2000) return undefined
    const got = { reason: r.reason, rule: r.rule, value: r.value, variant: r.variant, sameAgain: isDeepStrictEqual(evaluate(f, ctx, NOW), r), sameRecompiled: isDeepStrictEqual(evaluate(ruleFlag(), ctx, NOW), r) }
    return differs(ctx.user_id, got, { reason: 'SPLIT', rule: 'rule:beta', value: r.variant, variant: evaluate(fallthrough, ctx, NOW).variant, sameAgain: true, sameRecompiled: true })
  })
  t.same(first2000, [], 'user-0 … user-1999: SPLIT by rule:beta, value = variant, the fallthrough rollout\'s bucket, the same on a second call and after recompiling')
  for (const [variant, weight] of Object.entries(weights)) {
    const got = (counts[variant] / 20_000) * 100
    t.ok(Math.abs(got - weight) <= 1.5, `${variant} ${weight}% → ${got.toFixed(2)}%`)
  }
  // Known buckets (the fallthrough rollout tests pin the hash): carol / alice / bob.
  const variantOf = (userId: string) => evaluate(f, { user_id: userId, beta: true }, NOW).variant
  t.same(['carol', 'alice', 'bob'].map(variantOf), ['carol', 'alice', 'bob'].map((u) => evaluate(fallthrough, { user_id: u }, NOW).variant))

  const missing = evaluate(f, { beta: true }, NOW)
  t.same([missing.variant, missing.value, missing.reason, missing.rule], ['off', 'off', 'DEFAULT', 'rule:beta'], 'bucket key missing: off variant, DEFAULT')
  t.equal(evaluate(f, { targetingKey: 'carol', beta: true }, NOW).variant, variantOf('carol'), 'targetingKey is the user id')

  const byCustomer = ruleFlag({ bucket_by: 'customer_id' })
  const one = evaluate(byCustomer, { user_id: 'a', customer_id: 'acme', beta: true }, NOW)
  t.equal(one.reason, 'SPLIT')
  t.equal(evaluate(byCustomer, { user_id: 'b', customer_id: 'acme', beta: true }, NOW).variant, one.variant, 'bucket_by customer_id: same customer, same variant')
  t.same(evaluate(byCustomer, { user_id: 'a', beta: true }, NOW).reason, 'DEFAULT', 'bucket_by attribute missing')

  const zeroWeight = compileFlag(flag([{ id: 'r', clauses: [], serve: { rollout: { blue: 0, green: 100 } } }]))
  t.same(failing(range(500), (i) => differs(`u${i}`, evaluate(zeroWeight, { user_id: `u${i}` }, NOW).variant, 'green')), [], 'a zero-weight variant is never served (u0 … u499)')
})

t.test('compile errors name the exact field', async (t) => {
  const ok = (id: string): Rule => ({ id, clauses: [c('country', 'in', ['DE'])], serve: { variant: 'on' } })
  /** A flag whose third rule (index 2) has `clauses` as its clauses (second clause, index 1, is the bad one). */
  const third = (bad: Clause): FlagDefinition =>
    flag([ok('a'), ok('b'), { id: 'c', clauses: [c('plan', 'exists', []), bad], serve: { variant: 'on' } }])
  const at = 'targeting_rules.rules.2.clauses.1'
  const cases: [string, FlagDefinition, string][] = [
    ['unknown operator', third(c('plan', 'like' as Clause['operator'], ['x'])), `${at}.operator`],
    ['attribute starting with a digit', third(c('1plan', 'exists', [])), `${at}.attribute`],
    ['attribute with a space', third(c('my plan', 'exists', [])), `${at}.attribute`],
    ['attribute of 65 characters', third(c('a'.repeat(65), 'exists', [])), `${at}.attribute`],
    ['in without values', third(c('plan', 'in', [])), `${at}.values`],
    ['10,001 values', third(c('plan', 'in', Array.from({ length: 10_001 }, (_, i) => `v${i}`))), `${at}.values`],
    ['an object value', third(c('plan', 'in', ['a', 'b', { x: 1 } as unknown as string])), `${at}.values.2`],
    ['a NaN value', third(c('plan', 'in', [Number.NaN])), `${at}.values.0`],
    ['eq with two values', third(c('plan', 'eq', ['a', 'b'])), `${at}.values`],
    ['neq with none', third(c('plan', 'neq', [])), `${at}.values`],
    ['contains an empty string', third(c('plan', 'contains', ['x', ''])), `${at}.values.1`],
    ['lt with a word', third(c('age', 'lt', ['old'])), `${at}.values.0`],
    ['gte with a boolean', third(c('age', 'gte', [true])), `${at}.values.0`],
    ['gt with two values', third(c('age', 'gt', [1, 2])), `${at}.values`],
    ['before with a word', third(c('signup', 'before', ['tomorrow'])), `${at}.values.0`],
    ['after with an impossible month', third(c('signup', 'after', ['2026-13-01'])), `${at}.values.0`],
    ['before without a value', third(c('signup', 'before', [])), `${at}.values`],
    ['semver_gte with a word', third(c('v', 'semver_gte', ['latest'])), `${at}.values.0`],
    ['semver_eq with four parts', third(c('v', 'semver_eq', ['1.2.3.4'])), `${at}.values.0`],
    ['semver_lt with two values', third(c('v', 'semver_lt', ['1.0.0', '2.0.0'])), `${at}.values`],
    ['exists with values', third(c('plan', 'exists', ['x'])), `${at}.values`],
    ['matches: 257-character pattern', third(c('u', 'matches', ['^a', 'a'.repeat(257)])), `${at}.values.1`],
    ['matches: 11 patterns', third(c('u', 'matches', Array.from({ length: 11 }, (_, i) => `^p${i}`))), `${at}.values`],
    ['matches: a number', third(c('u', 'matches', [5])), `${at}.values.0`],
    ['case_insensitive on a number operator', third(c('age', 'gt', [1], { case_insensitive: true })), `${at}.case_insensitive`],
    ['negate not a boolean', third(c('age', 'gt', [1], { negate: 'yes' as unknown as boolean })), `${at}.negate`],
    ['101 rules', flag(Array.from({ length: 101 }, (_, i) => ok(`r${i}`))), 'targeting_rules.rules'],
    ['21 clauses', flag([{ id: 'r', clauses: Array.from({ length: 21 }, () => c('plan', 'exists', [])), serve: { variant: 'on' } }]), 'targeting_rules.rules.0.clauses'],
    ['duplicate rule id', flag([ok('a'), ok('a')]), 'targeting_rules.rules.1.id'],
    ['bad rule id', flag([ok('a'), ok('no spaces')]), 'targeting_rules.rules.1.id'],
    ['serve an unknown variant', flag([ok('a'), { ...ok('b'), serve: { variant: 'purple' } }]), 'targeting_rules.rules.1.serve.variant'],
    ['serve an inherited name', flag([{ ...ok('a'), serve: { variant: 'toString' } }]), 'targeting_rules.rules.0.serve.variant'],
    ['serve nothing', flag([{ ...ok('a'), serve: {} as Rule['serve'] }]), 'targeting_rules.rules.0.serve'],
    ['serve both', flag([{ ...ok('a'), serve: { variant: 'on', rollout: { on: 1 } } as unknown as Rule['serve'] }]), 'targeting_rules.rules.0.serve'],
    ['rollout over an unknown variant', flag([{ ...ok('a'), serve: { rollout: { on: 50, purple: 50 } } }]), 'targeting_rules.rules.0.serve.rollout.purple'],
    ['rollout with a negative weight', flag([{ ...ok('a'), serve: { rollout: { on: -1, off: 101 } } }]), 'targeting_rules.rules.0.serve.rollout.on'],
    ['rollout with all-zero weights', flag([{ ...ok('a'), serve: { rollout: { on: 0, off: 0 } } }]), 'targeting_rules.rules.0.serve.rollout'],
    ['rollout with weights that round to zero', flag([{ ...ok('a'), serve: { rollout: { on: 0.001 } } }]), 'targeting_rules.rules.0.serve.rollout'],
    ['rollout not an object', flag([{ ...ok('a'), serve: { rollout: [50, 50] as unknown as Record<string, number> } }]), 'targeting_rules.rules.0.serve.rollout'],
    ['clauses not a list', flag([{ ...ok('a'), clauses: 'all' as unknown as Clause[] }]), 'targeting_rules.rules.0.clauses'],
    ['empty rollout', flag([{ ...ok('a'), serve: { rollout: {} } }]), 'targeting_rules.rules.0.serve.rollout']
  ]
  const wrong = failing(cases, ([name, def, field]) => {
    let caught: unknown
    try {
      compileFlag(def)
    } catch (err) {
      caught = err
    }
    if (!(caught instanceof FlagCompileError)) return { case: name, thrown: caught === undefined ? 'nothing' : String(caught) }
    return /^flag checkout: \S+: ./.test(caught.message) ? differs(name, caught.field, field) : { case: name, message: caught.message }
  })
  t.same(wrong, [], `each of ${cases.length} bad definitions throws FlagCompileError naming its field, the message naming the flag and field`)
})

t.test('compile error messages say what to do', async (t) => {
  const message = (clause: Clause): string => {
    try {
      compileClause(clause, 'x', 'f')
    } catch (err) {
      return (err as Error).message
    }
    return ''
  }
  t.match(message(c('plan', 'like' as Clause['operator'], [])), /unknown operator "like"; use one of in, not_in, .*exists/)
  t.match(message(c('u', 'matches', ['a'.repeat(257)])), /257 characters; at most 256/)
  t.match(message(c('v', 'semver_gte', ['latest'])), /"latest" is not a semantic version/)
  t.match(message(c('age', 'gt', [1, 2])), /"gt" takes exactly one value \(got 2\)/)
  t.match(message(c('d', 'before', ['soon'])), /ISO-8601/)
  t.equal(message(c('plan', 'exists', [])), '', 'a good clause compiles')
})

t.test('limits are inclusive', async (t) => {
  const max = RULE_LIMITS
  const rule = (i: number): Rule => ({ id: `r${i}`, clauses: Array.from({ length: max.clausesPerRule }, () => c('plan', 'exists', [])), serve: { variant: 'on' } })
  t.doesNotThrow(() => compileFlag(flag(Array.from({ length: max.rules }, (_, i) => rule(i)))), '100 rules of 20 clauses')
  t.doesNotThrow(() => compileFlag(flag([{ id: 'r', clauses: [c('u', 'matches', Array.from({ length: 10 }, (_, i) => `^p${i}`))], serve: { variant: 'on' } }])), '10 patterns')
  t.ok(holds(c('u', 'matches', ['a'.repeat(256)]), { u: 'a'.repeat(256) }), '256-character pattern')
  t.ok(holds(c('a'.repeat(64), 'exists', []), { ['a'.repeat(64)]: 1 }), '64-character attribute')
  t.ok(holds(c('app.version_major-x', 'eq', [3]), { 'app.version_major-x': 3 }), 'dots, dashes and underscores in attributes')
})

t.test('hostile inputs', async (t) => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `account-${i}`)
  const big = compileFlag(flag([{ id: 'big', clauses: [c('account', 'in', ids)], serve: { variant: 'blue' } }]))
  for (const [account, expected] of [['account-0', 'blue'], ['account-5000', 'blue'], ['account-9999', 'blue'], ['account-10000', 'off'], ['nobody', 'off']]) {
    t.equal(evaluate(big, { account }, NOW).variant, expected, `10k-value in: ${account}`)
  }
  let hits = 0
  for (let i = 0; i < 100_000; i++) if (evaluate(big, { account: `account-${i}` }, NOW).variant === 'blue') hits++
  t.equal(hits, 10_000, '100k evaluations against a 10k-value list')

  const long = 'a'.repeat(10_000)
  t.ok(holds(c('bio', 'matches', ['^a+$']), { bio: long }), '10k-char attribute against a safe pattern: match')
  t.notOk(holds(c('bio', 'matches', ['^a+b$']), { bio: long }), '10k-char attribute against a safe pattern: no match')
  t.notOk(holds(c('bio', 'matches', ['[0-9]{3}-[0-9]{4}']), { bio: long }), '10k-char attribute, unanchored')
  t.ok(holds(c('bio', 'contains', ['aaa']), { bio: long }), '10k-char attribute, contains')
  t.notOk(holds(c('v', 'semver_gte', ['1.0.0']), { v: '1'.repeat(10_000) }), '10k-digit version is not a version')
  t.notOk(holds(c('n', 'gt', [0]), { n: '9'.repeat(10_000) }), '10k-digit number is Infinity, not a finite number')
  t.notOk(holds(c('d', 'before', [NOW]), { d: '2'.repeat(10_000) }), '10k-digit date')

  t.throws(() => compileFlag(flag([{ id: 'r', clauses: [c('u', 'matches', ['a'.repeat(257)])], serve: { variant: 'on' } }])), FlagCompileError, '257-char regex')
  t.throws(() => compileFlag(flag(Array.from({ length: 101 }, (_, i) => ({ id: `r${i}`, clauses: [], serve: { variant: 'on' } })))), FlagCompileError, '101 rules')
  t.throws(() => compileFlag(flag([{ id: 'r', clauses: [c('u', 'sounds_like' as Clause['operator'], ['x'])], serve: { variant: 'on' } }])), FlagCompileError, 'unknown operator')

  const odd = [{}, { country: null }, { country: {} }, { country: [] }, { country: Number.NaN }, Object.create(null)]
  const all = compileFlag(flag([
    { id: 'r1', clauses: [c('country', 'in', ['DE'])], serve: { variant: 'on' } },
    { id: 'r2', clauses: [c('country', 'matches', ['^D'])], serve: { variant: 'on' } },
    { id: 'r3', clauses: [c('country', 'semver_gt', ['1.0.0'])], serve: { variant: 'on' } },
    { id: 'r4', clauses: [c('country', 'after', [0])], serve: { variant: 'on' } },
    { id: 'r5', clauses: [c('country', 'gt', [0])], serve: { rollout: { on: 1, blue: 1 } } }
  ]))
  const threw = failing(odd, (ctx) => {
    try { evaluate(all, ctx as EvaluationContext, NOW) } catch (err) { return { case: JSON.stringify(ctx), thrown: String(err) } }
    return undefined
  })
  t.same(threw, [], 'odd context values (null, objects, arrays, NaN, no prototype) never throw')
})
