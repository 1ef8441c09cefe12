/**
 * Behaviour of the rule compiler (src/engine/rules.ts) pinned by mutation testing
 * (`npx stryker run --mutate src/engine/rules.ts`): every test kills mutants the rest of the
 * engine suite let through. Refusals are checked by field and by full message: the message is
 * what the API returns in its 400.
 */
import t from 'tap'
import { compileClause, compileFlag, compileRules, evaluate, FlagCompileError } from '../../src/engine/index.js'
import type { Clause, EvaluationContext, FlagDefinition, JsonValue, Rule } from '../../src/engine/index.js'

const NOW = Date.parse('2026-11-21T10:00:00.000Z')
const VARIANTS: Record<string, JsonValue> = { on: 'on', off: 'off', blue: 'blue' }

/** A flag named `checkout` holding `rules` (any shape: refusals need broken ones), falling through to `off`. */
function flag (rules: unknown, variants: Record<string, JsonValue> = VARIANTS): FlagDefinition {
  return {
    name: 'checkout',
    type: 'string',
    enabled: true,
    variants,
    default_variant: 'on',
    off_variant: 'off',
    metadata: {},
    version: 1,
    targeting_rules: { user_ids: [], customer_ids: [], rules: rules as Rule[], percentage: 0, rollout: null, bucket_by: 'user_id' }
  }
}

const withServe = (serve: unknown): FlagDefinition => flag([{ id: 'r', clauses: [], serve }])
const withClause = (clause: unknown): FlagDefinition => flag([{ id: 'r', clauses: [clause], serve: { variant: 'blue' } }])
const rule = (id: string, clauses: unknown[] = []): Rule => ({ id, clauses: clauses as Clause[], serve: { variant: 'on' } })

/** `[field, message without its "flag checkout: <field>: " prefix]` of the refusal, or 'compiles'. */
function refusal (def: FlagDefinition): [string, string] | 'compiles' | 'other error' {
  try {
    compileFlag(def)
    return 'compiles'
  } catch (err) {
    if (!(err instanceof FlagCompileError)) return 'other error'
    const prefix = `flag checkout: ${err.field}: `
    return [err.field, err.message.startsWith(prefix) ? err.message.slice(prefix.length) : `unprefixed: ${err.message}`]
  }
}

/** Which of `clauses` hold for `ctx`, each alone in a one-rule flag serving `blue`. */
function holding (cases: [string, Clause, EvaluationContext][]): string[] {
  return cases.filter(([, clause, ctx]) => evaluate(compileFlag(withClause(clause)), ctx, NOW).variant === 'blue').map(([label]) => label)
}

const RULES = 'targeting_rules.rules'
const CLAUSE = `${RULES}.0.clauses.0`

t.test('a refusal message names the flag and the field before saying why', async (t) => {
  let message = ''
  try {
    compileFlag(flag('all'))
  } catch (err) {
    message = (err as Error).message
  }
  t.equal(message, 'flag checkout: targeting_rules.rules: must be a list of rules')
})

t.test('rule lists and rules of the wrong shape are refused with their field and reason', async (t) => {
  const cases: [string, FlagDefinition][] = [
    ['rules not a list', flag('all')],
    ['101 rules', flag(Array.from({ length: 101 }, (_, i) => rule(`r${i}`)))],
    ['a null rule', flag([null])],
    ['a string rule', flag(['r'])],
    ['a numeric id', flag([{ id: 5, clauses: [], serve: { variant: 'on' } }])],
    ['an empty id', flag([rule('')])],
    ['a 65-character id', flag([rule('x'.repeat(65))])],
    ['an id with a space', flag([rule('a b')])],
    ['an id with a leading space', flag([rule(' ab')])],
    ['an id with a trailing space', flag([rule('ab ')])],
    ['an id repeating the second rule', flag([rule('a'), rule('b'), rule('b')])],
    ['clauses not a list', flag([{ id: 'r', clauses: 'all', serve: { variant: 'on' } }])],
    ['21 clauses', flag([rule('r', Array.from({ length: 21 }, () => ({ attribute: 'a', operator: 'exists' })))])]
  ]
  const shape = 'must be an object with id, clauses and serve'
  const id = 'must be 1-64 letters, digits, "_", "." or "-"'
  t.same(cases.map(([label, def]) => [label, refusal(def)]), [
    ['rules not a list', [RULES, 'must be a list of rules']],
    ['101 rules', [RULES, '101 rules; at most 100 are allowed per flag']],
    ['a null rule', [`${RULES}.0`, shape]],
    ['a string rule', [`${RULES}.0`, shape]],
    ['a numeric id', [`${RULES}.0.id`, id]],
    ['an empty id', [`${RULES}.0.id`, id]],
    ['a 65-character id', [`${RULES}.0.id`, id]],
    ['an id with a space', [`${RULES}.0.id`, id]],
    ['an id with a leading space', [`${RULES}.0.id`, id]],
    ['an id with a trailing space', [`${RULES}.0.id`, id]],
    ['an id repeating the second rule', [`${RULES}.2.id`, '"b" is already the id of targeting_rules.rules.1']],
    ['clauses not a list', [`${RULES}.0.clauses`, 'must be a list of clauses (an empty list always matches)']],
    ['21 clauses', [`${RULES}.0.clauses`, '21 clauses; at most 20 are allowed per rule']]
  ])
})

t.test('rule lists and rules at the limits compile', async (t) => {
  const noRules = flag([])
  delete (noRules.targeting_rules as Partial<FlagDefinition['targeting_rules']>).rules
  const cases: [string, FlagDefinition][] = [
    ['no rules list at all', noRules],
    ['100 rules', flag(Array.from({ length: 100 }, (_, i) => rule(`r${i}`)))],
    ['a one-character id', flag([rule('x')])],
    ['a 64-character id of every allowed character', flag([rule('AZaz09_.-'.padEnd(64, 'q'))])],
    ['20 clauses', flag([rule('r', Array.from({ length: 20 }, () => ({ attribute: 'a', operator: 'exists' })))])]
  ]
  t.same(cases.map(([label, def]) => [label, refusal(def)]), cases.map(([label]) => [label, 'compiles']))
})

t.test('serve of the wrong shape, unknown variants and unusable weights are refused', async (t) => {
  const cases: [string, FlagDefinition][] = [
    ['serve null', withServe(null)],
    ['serve a string', withServe('on')],
    ['serve an array carrying a variant property', withServe(Object.assign([], { variant: 'on' }))],
    ['serve a function carrying a variant property', withServe(Object.assign(() => 'on', { variant: 'on' }))],
    ['serve neither', withServe({})],
    ['serve both', withServe({ variant: 'on', rollout: { on: 1 } })],
    ['an unknown variant', withServe({ variant: 'nope' })],
    ['an inherited name', withServe({ variant: 'toString' })],
    ['a number naming a variant "1"', flag([{ id: 'r', clauses: [], serve: { variant: 1 } }], { 1: 'one', on: 'on', off: 'off' })],
    ['rollout null', withServe({ rollout: null })],
    ['rollout a list', withServe({ rollout: [] })],
    ['rollout a string', withServe({ rollout: 'on' })],
    ['rollout over an unknown variant', withServe({ rollout: { on: 1, nope: 1 } })],
    ['an infinite weight', withServe({ rollout: { on: Infinity, off: 1 } })],
    ['a NaN weight', withServe({ rollout: { on: Number.NaN, off: 1 } })],
    ['a string weight', withServe({ rollout: { on: '5', off: 1 } })],
    ['a negative weight', withServe({ rollout: { on: -0.01, off: 1 } })],
    ['all weights zero', withServe({ rollout: { on: 0, off: 0 } })]
  ]
  const shape = 'must be {"variant": name} or {"rollout": {name: weight, ...}}'
  const serve = `${RULES}.0.serve`
  const weight = 'weight must be a number >= 0'
  t.same(cases.map(([label, def]) => [label, refusal(def)]), [
    ['serve null', [serve, shape]],
    ['serve a string', [serve, shape]],
    ['serve an array carrying a variant property', [serve, shape]],
    ['serve a function carrying a variant property', [serve, shape]],
    ['serve neither', [serve, shape]],
    ['serve both', [serve, shape]],
    ['an unknown variant', [`${serve}.variant`, '"nope" is not one of the variants (on, off, blue)']],
    ['an inherited name', [`${serve}.variant`, '"toString" is not one of the variants (on, off, blue)']],
    ['a number naming a variant "1"', [`${serve}.variant`, '"1" is not one of the variants (1, on, off)']],
    ['rollout null', [`${serve}.rollout`, 'must be an object of variant name to weight']],
    ['rollout a list', [`${serve}.rollout`, 'must be an object of variant name to weight']],
    ['rollout a string', [`${serve}.rollout`, 'must be an object of variant name to weight']],
    ['rollout over an unknown variant', [`${serve}.rollout.nope`, '"nope" is not one of the variants (on, off, blue)']],
    ['an infinite weight', [`${serve}.rollout.on`, weight]],
    ['a NaN weight', [`${serve}.rollout.on`, weight]],
    ['a string weight', [`${serve}.rollout.on`, weight]],
    ['a negative weight', [`${serve}.rollout.on`, weight]],
    ['all weights zero', [`${serve}.rollout`, 'needs at least one weight above 0 (weights count to two decimals)']]
  ])
})

t.test('a rollout may give some variants weight 0', async (t) => {
  const def = withServe({ rollout: { on: 0, blue: 10 } })
  t.equal(refusal(def), 'compiles')
  const served = new Set(Array.from({ length: 50 }, (_, i) => evaluate(compileFlag(def), { user_id: `u${i}` }, NOW).variant))
  t.same([...served], ['blue'])
})

t.test('a rule serving a variant carries no split; a rollout rule names the off variant until its split decides', async (t) => {
  const [variantRule, rolloutRule] = compileRules(flag([
    { id: 'v', clauses: [], serve: { variant: 'blue' } },
    { id: 'r', clauses: [], serve: { rollout: { on: 1, blue: 3 } } }
  ]))
  t.same(
    [variantRule.variant, variantRule.value, variantRule.split, variantRule.splitValues],
    ['blue', 'blue', null, []]
  )
  t.same(
    [rolloutRule.variant, rolloutRule.value, rolloutRule.split?.variants, rolloutRule.splitValues],
    ['off', 'off', ['on', 'blue'], ['on', 'blue']]
  )
})

t.test('clauses of the wrong shape are refused with their field and reason', async (t) => {
  const cases: [string, FlagDefinition][] = [
    ['a null clause', withClause(null)],
    ['a string clause', withClause('a')],
    ['a numeric attribute', withClause({ attribute: 5, operator: 'exists' })],
    ['a list holding an attribute name', withClause({ attribute: ['plan'], operator: 'exists' })],
    ['an attribute starting with a digit', withClause({ attribute: '1a', operator: 'exists' })],
    ['an unknown operator', withClause({ attribute: 'a', operator: 'like', values: ['x'] })],
    ['a numeric operator', withClause({ attribute: 'a', operator: 0, values: ['x'] })],
    ['negate not a boolean', withClause({ attribute: 'a', operator: 'exists', negate: 'yes' })],
    ['case_insensitive not a boolean', withClause({ attribute: 'a', operator: 'in', values: ['x'], case_insensitive: 1 })],
    ['case_insensitive on lt', withClause({ attribute: 'a', operator: 'lt', values: [1], case_insensitive: true })],
    ['values not a list', withClause({ attribute: 'a', operator: 'in', values: 'x' })],
    ['10,001 values', withClause({ attribute: 'a', operator: 'in', values: Array.from({ length: 10_001 }, (_, i) => i) })],
    ['an infinite value', withClause({ attribute: 'a', operator: 'in', values: ['x', Infinity] })],
    ['a NaN value', withClause({ attribute: 'a', operator: 'in', values: [Number.NaN] })],
    ['a null value', withClause({ attribute: 'a', operator: 'in', values: ['x', 'y', null] })]
  ]
  const operators = 'in, not_in, eq, neq, contains, starts_with, ends_with, matches, lt, lte, gt, gte, before, after, ' +
    'semver_eq, semver_lt, semver_lte, semver_gt, semver_gte, exists'
  const attribute = 'must start with a letter or "_" and have at most 64 letters, digits, "_", "." or "-"'
  const value = 'must be a string, a finite number or a boolean'
  t.same(cases.map(([label, def]) => [label, refusal(def)]), [
    ['a null clause', [CLAUSE, 'must be an object with attribute, operator and values']],
    ['a string clause', [CLAUSE, 'must be an object with attribute, operator and values']],
    ['a numeric attribute', [`${CLAUSE}.attribute`, attribute]],
    ['a list holding an attribute name', [`${CLAUSE}.attribute`, attribute]],
    ['an attribute starting with a digit', [`${CLAUSE}.attribute`, attribute]],
    ['an unknown operator', [`${CLAUSE}.operator`, `unknown operator "like"; use one of ${operators}`]],
    ['a numeric operator', [`${CLAUSE}.operator`, `unknown operator "0"; use one of ${operators}`]],
    ['negate not a boolean', [`${CLAUSE}.negate`, 'must be true or false']],
    ['case_insensitive not a boolean', [`${CLAUSE}.case_insensitive`, 'must be true or false']],
    ['case_insensitive on lt', [`${CLAUSE}.case_insensitive`,
      'applies to string operators only (in, not_in, eq, neq, contains, starts_with, ends_with, matches), not "lt"']],
    ['values not a list', [`${CLAUSE}.values`, 'must be a list of strings, numbers or booleans']],
    ['10,001 values', [`${CLAUSE}.values`, '10001 values; at most 10000 are allowed per clause']],
    ['an infinite value', [`${CLAUSE}.values.1`, value]],
    ['a NaN value', [`${CLAUSE}.values.0`, value]],
    ['a null value', [`${CLAUSE}.values.2`, value]]
  ])
})

t.test('case_insensitive is accepted on every string operator; null negate and case_insensitive mean false', async (t) => {
  const cases: [string, Clause, EvaluationContext][] = [
    ['in', { attribute: 'a', operator: 'in', values: ['X'], case_insensitive: true }, { a: 'x' }],
    ['not_in', { attribute: 'a', operator: 'not_in', values: ['X'], case_insensitive: true }, { a: 'y' }],
    ['eq', { attribute: 'a', operator: 'eq', values: ['X'], case_insensitive: true }, { a: 'x' }],
    ['neq', { attribute: 'a', operator: 'neq', values: ['X'], case_insensitive: true }, { a: 'y' }],
    ['contains', { attribute: 'a', operator: 'contains', values: ['X'], case_insensitive: true }, { a: 'axa' }],
    ['starts_with', { attribute: 'a', operator: 'starts_with', values: ['X'], case_insensitive: true }, { a: 'xa' }],
    ['ends_with', { attribute: 'a', operator: 'ends_with', values: ['X'], case_insensitive: true }, { a: 'ax' }],
    ['matches', { attribute: 'a', operator: 'matches', values: ['^X$'], case_insensitive: true }, { a: 'x' }],
    ['negate null', { attribute: 'a', operator: 'eq', values: ['x'], negate: null as unknown as boolean }, { a: 'x' }],
    ['case_insensitive null', { attribute: 'a', operator: 'eq', values: ['X'], case_insensitive: null as unknown as boolean }, { a: 'X' }]
  ]
  t.same(holding(cases), cases.map(([label]) => label))
})

t.test('operators refuse the wrong number or kind of values, each naming itself', async (t) => {
  const operators = ['in', 'not_in', 'eq', 'neq', 'contains', 'starts_with', 'ends_with', 'matches', 'lt', 'lte', 'gt', 'gte',
    'before', 'after', 'semver_eq', 'semver_lt', 'semver_lte', 'semver_gt', 'semver_gte']
  const none = operators.map((operator) => [operator, refusal(withClause({ attribute: 'a', operator, values: [] }))])
  const needsOne = (op: string) => [op, [`${CLAUSE}.values`, `"${op}" needs at least one value`]]
  const exactlyOne = (op: string) => [op, [`${CLAUSE}.values`, `"${op}" takes exactly one value (got 0)`]]
  t.same(none, [
    ...['in', 'not_in'].map(needsOne), ...['eq', 'neq'].map(exactlyOne), ...['contains', 'starts_with', 'ends_with', 'matches'].map(needsOne),
    ...operators.slice(8).map(exactlyOne)
  ], 'no values')

  const worded = operators.slice(8).map((operator) => [operator, refusal(withClause({ attribute: 'a', operator, values: ['soon'] }))])
  const instant = (op: string) => [op, [`${CLAUSE}.values.0`, `"${op}" needs an ISO-8601 date or date-time (e.g. 2026-11-21T10:00:00Z) or epoch milliseconds`]]
  const version = (op: string) => [op, [`${CLAUSE}.values.0`, '"soon" is not a semantic version (e.g. 2.3.0, v2.3.0, 2.3.0-beta.1, or partial 2.3)']]
  t.same(worded, [
    ...['lt', 'lte', 'gt', 'gte'].map((op) => [op, [`${CLAUSE}.values.0`, `"${op}" compares numbers: give a finite number or numeric string`]]),
    ...['before', 'after'].map(instant),
    ...['semver_eq', 'semver_lt', 'semver_lte', 'semver_gt', 'semver_gte'].map(version)
  ], 'a word where a number, instant or version belongs')

  const cases: [string, FlagDefinition][] = [
    ['eq with two values', withClause({ attribute: 'a', operator: 'eq', values: ['x', 'y'] })],
    ['exists with a value', withClause({ attribute: 'a', operator: 'exists', values: [1] })],
    ['an empty needle', withClause({ attribute: 'a', operator: 'ends_with', values: ['x', ''] })],
    ['11 patterns', withClause({ attribute: 'a', operator: 'matches', values: Array.from({ length: 11 }, (_, i) => `p${i}`) })],
    ['a numeric pattern', withClause({ attribute: 'a', operator: 'matches', values: [5] })],
    ['a boolean pattern after a good one', withClause({ attribute: 'a', operator: 'matches', values: ['p', true] })],
    ['a 257-character pattern', withClause({ attribute: 'a', operator: 'matches', values: ['x'.repeat(257)] })],
    ['a boolean version', withClause({ attribute: 'a', operator: 'semver_eq', values: [true] })]
  ]
  t.same(cases.map(([label, def]) => [label, refusal(def)]), [
    ['eq with two values', [`${CLAUSE}.values`, '"eq" takes exactly one value (got 2)']],
    ['exists with a value', [`${CLAUSE}.values`, '"exists" takes no values']],
    ['an empty needle', [`${CLAUSE}.values.1`, 'an empty string matches every value; use "exists" instead']],
    ['11 patterns', [`${CLAUSE}.values`, '11 patterns; at most 10 are allowed per clause']],
    ['a numeric pattern', [`${CLAUSE}.values.0`, 'must be a non-empty regular expression (a string)']],
    ['a boolean pattern after a good one', [`${CLAUSE}.values.1`, 'must be a non-empty regular expression (a string)']],
    ['a 257-character pattern', [`${CLAUSE}.values.0`, 'pattern is 257 characters; at most 256 are allowed']],
    ['a boolean version', [`${CLAUSE}.values.0`, '"true" is not a semantic version (e.g. 2.3.0, v2.3.0, 2.3.0-beta.1, or partial 2.3)']]
  ], 'other refusals')
})

t.test('clause values at the limits compile', async (t) => {
  const cases: [string, FlagDefinition][] = [
    ['10,000 values', withClause({ attribute: 'a', operator: 'in', values: Array.from({ length: 10_000 }, (_, i) => i) })],
    ['10 patterns', withClause({ attribute: 'a', operator: 'matches', values: Array.from({ length: 10 }, (_, i) => `p${i}`) })],
    ['exists with values null', withClause({ attribute: 'a', operator: 'exists', values: null })],
    ['a version given as a number', withClause({ attribute: 'a', operator: 'semver_gte', values: [2] })]
  ]
  t.same(cases.map(([label, def]) => [label, refusal(def)]), cases.map(([label]) => [label, 'compiles']))
})

t.test('every clause of a rule must hold, whatever the number of clauses', async (t) => {
  const clause = (name: string): Clause => ({ attribute: name, operator: 'exists', values: [] })
  const names = ['a', 'b', 'c', 'd']
  const found: string[] = []
  for (let n = 1; n <= names.length; n++) {
    const f = compileFlag(flag([{ id: 'r', clauses: names.slice(0, n).map(clause), serve: { variant: 'blue' } }]))
    const all: EvaluationContext = Object.fromEntries(names.map((k) => [k, 1]))
    found.push(`${n} clauses, all hold: ${evaluate(f, all, NOW).variant}`)
    for (const missing of names.slice(0, n)) {
      found.push(`${n} clauses, ${missing} fails: ${evaluate(f, { ...all, [missing]: undefined }, NOW).variant}`)
    }
  }
  const expected: string[] = []
  for (let n = 1; n <= names.length; n++) {
    expected.push(`${n} clauses, all hold: blue`)
    for (const missing of names.slice(0, n)) expected.push(`${n} clauses, ${missing} fails: off`)
  }
  t.same(found, expected)
})

t.test('only user_id and targetingKey clauses fall back to targetingKey', async (t) => {
  const cases: [string, Clause, EvaluationContext][] = [
    ['country exists, only targetingKey given', { attribute: 'country', operator: 'exists', values: [] }, { targetingKey: 'DE' }],
    ['country eq, only targetingKey given', { attribute: 'country', operator: 'eq', values: ['DE'] }, { targetingKey: 'DE' }],
    ['negated country eq, only targetingKey given', { attribute: 'country', operator: 'eq', values: ['DE'], negate: true }, { targetingKey: 'DE' }],
    ['targetingKey eq, only user_id given', { attribute: 'targetingKey', operator: 'eq', values: ['ann'] }, { user_id: 'ann' }],
    ['user_id eq, only targetingKey given', { attribute: 'user_id', operator: 'eq', values: ['ann'] }, { targetingKey: 'ann' }],
    ['now is not read from the context', { attribute: 'now', operator: 'eq', values: ['x'] }, { now: 'x' }]
  ]
  t.same(holding(cases), [
    'negated country eq, only targetingKey given',
    'targetingKey eq, only user_id given',
    'user_id eq, only targetingKey given'
  ])
})

t.test('booleans, numbers and case folding in string operators, with one needle and with several', async (t) => {
  const c = (operator: Clause['operator'], values: Clause['values'], extra: Partial<Clause> = {}): Clause =>
    ({ attribute: 'a', operator, values, ...extra })
  const cases: [string, Clause, EvaluationContext][] = [
    ['contains "tru" on true', c('contains', ['tru']), { a: true }],
    ['contains "tru" or "x" on true', c('contains', ['tru', 'x']), { a: true }],
    ['starts_with "fal" on false, ci', c('starts_with', ['FAL'], { case_insensitive: true }), { a: false }],
    ['starts_with "x" or "fal" on false, ci', c('starts_with', ['x', 'FAL'], { case_insensitive: true }), { a: false }],
    ['matches ^t on true', c('matches', ['^t']), { a: true }],
    ['matches ^x or ^t on true', c('matches', ['^x', '^t']), { a: true }],
    ['ends_with "23" on 123', c('ends_with', ['23']), { a: 123 }],
    ['ends_with "x" or "23" on 123', c('ends_with', ['x', '23']), { a: 123 }],
    ['contains "X" or "Y" on "aya", ci', c('contains', ['X', 'Y'], { case_insensitive: true }), { a: 'aya' }],
    ['contains "X" or "Y" on "aya"', c('contains', ['X', 'Y']), { a: 'aya' }],
    ['contains "x" or "Y" on "aYa"', c('contains', ['x', 'Y']), { a: 'aYa' }],
    ['contains "y" on "aYa"', c('contains', ['y']), { a: 'aYa' }],
    ['contains "Y" on "aya", ci', c('contains', ['Y'], { case_insensitive: true }), { a: 'aya' }],
    ['contains "y" on "aYa", ci', c('contains', ['y'], { case_insensitive: true }), { a: 'aYa' }],
    ['matches ^x or ^Y on "yes", ci', c('matches', ['^x', '^Y'], { case_insensitive: true }), { a: 'yes' }],
    ['matches ^x or 2$ on 12', c('matches', ['^x', '2$']), { a: 12 }],
    ['matches 2$ on 12', c('matches', ['2$']), { a: 12 }],
    ['in "A" on "a", ci', c('in', ['A', 'B'], { case_insensitive: true }), { a: 'a' }],
    ['in "A" on "a"', c('in', ['A', 'B']), { a: 'a' }],
    ['in 7 on 7, ci', c('in', [7], { case_insensitive: true }), { a: 7 }],
    ['eq "TRUE" on true, ci', c('eq', ['TRUE'], { case_insensitive: true }), { a: true }],
    ['eq "A" on "a"', c('eq', ['A']), { a: 'a' }],
    ['not_in "A" on "a", ci', c('not_in', ['A'], { case_insensitive: true }), { a: 'a' }],
    ['neq "A" on "a", ci', c('neq', ['A'], { case_insensitive: true }), { a: 'a' }]
  ]
  t.same(holding(cases), [
    'ends_with "23" on 123',
    'ends_with "x" or "23" on 123',
    'contains "X" or "Y" on "aya", ci',
    'contains "x" or "Y" on "aYa"',
    'contains "Y" on "aya", ci',
    'contains "y" on "aYa", ci',
    'matches ^x or ^Y on "yes", ci',
    'matches ^x or 2$ on 12',
    'matches 2$ on 12',
    'in "A" on "a", ci',
    'in 7 on 7, ci',
    'eq "TRUE" on true, ci'
  ])
})

t.test('numbers, instants and versions compare strictly or inclusively as named', async (t) => {
  const c = (operator: Clause['operator'], value: string | number): Clause => ({ attribute: 'a', operator, values: [value] })
  const cases: [string, Clause, EvaluationContext][] = [
    ['5 lt 5', c('lt', 5), { a: 5 }],
    ['5 lte 5', c('lte', 5), { a: 5 }],
    ['5 gt 5', c('gt', 5), { a: 5 }],
    ['5 gte 5', c('gte', 5), { a: 5 }],
    ['6 lte 5', c('lte', 5), { a: 6 }],
    ['4 gte 5', c('gte', 5), { a: 4 }],
    ['now before now', c('before', NOW), {}],
    ['now after now', c('after', NOW), {}],
    ['1.2.3 semver_lt 1.2.3', c('semver_lt', '1.2.3'), { a: '1.2.3' }],
    ['1.2.3 semver_lte 1.2.3', c('semver_lte', '1.2.3'), { a: '1.2.3' }],
    ['1.2.3 semver_gt 1.2.3', c('semver_gt', '1.2.3'), { a: '1.2.3' }],
    ['1.2.3 semver_gte 1.2.3', c('semver_gte', '1.2.3'), { a: '1.2.3' }],
    ['1.2.4 semver_lte 1.2.3', c('semver_lte', '1.2.3'), { a: '1.2.4' }],
    ['1.2.2 semver_gte 1.2.3', c('semver_gte', '1.2.3'), { a: '1.2.2' }],
    ['1.2.2 semver_eq 1.2.3', c('semver_eq', '1.2.3'), { a: '1.2.2' }],
    ['junk semver_lte 1.2.3', c('semver_lte', '1.2.3'), { a: 'junk' }]
  ]
  t.same(holding(cases.map(([label, clause, ctx]) => [label, { ...clause, attribute: clause.operator === 'before' || clause.operator === 'after' ? 'now' : 'a' }, ctx])), [
    '5 lte 5',
    '5 gte 5',
    '1.2.3 semver_lte 1.2.3',
    '1.2.3 semver_gte 1.2.3'
  ])
})

t.test('several needles never match through an index past the last one', async (t) => {
  const c = (operator: Clause['operator'], values: Clause['values']): Clause => ({ attribute: 'a', operator, values })
  const cases: [string, Clause, EvaluationContext][] = [
    ['contains', c('contains', ['x', 'y']), { a: 'is undefined' }],
    ['starts_with', c('starts_with', ['x', 'y']), { a: 'undefined here' }],
    ['ends_with', c('ends_with', ['x', 'y']), { a: 'left undefined' }],
    ['matches', c('matches', ['^x', '^y']), { a: 'undefined' }]
  ]
  t.same(holding(cases), [])
})

t.test('a clause whose stored pattern RE2 cannot run holds for no one, negated or not, and says so with false', async (t) => {
  const lookahead = (negate: boolean): Clause => ({ attribute: 'a', operator: 'matches', values: ['^x', '(?=a)'], negate })
  const cases: [string, Clause, EvaluationContext][] = [
    ['present, matching the runnable pattern', lookahead(false), { a: 'xa' }],
    ['present, negated', lookahead(true), { a: 'b' }],
    ['missing, negated', lookahead(true), {}]
  ]
  const predicate = compileClause(lookahead(true), 'clause', 'checkout')
  t.same([holding(cases), predicate({ a: 'b' }, NOW), predicate({}, NOW)], [[], false, false])
})
