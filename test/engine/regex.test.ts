import fc from 'fast-check'
import t from 'tap'
import { checkRegexSafety, compileFlag, evaluate } from '../../src/engine/index.js'
import type { Clause, EvaluationContext, FlagDefinition } from '../../src/engine/index.js'
import { differs, failing } from '../support/cases.js'

// `matches` on RE2: hostile patterns are accepted and stay linear, semantics agree with RegExp where
// the two languages overlap, and a stored pattern RE2 cannot run leaves its flag loadable.

const NOW = Date.parse('2026-11-21T10:00:00.000Z')

function flag (clauses: Clause[], more: Clause[][] = []): FlagDefinition {
  const rules = [clauses, ...more].map((c, i) => ({ id: `r${i}`, clauses: c, serve: { variant: i === 0 ? 'on' : 'other' } }))
  return {
    name: 'f',
    type: 'string',
    enabled: true,
    variants: { on: 'on', off: 'off', other: 'other' },
    default_variant: 'off',
    off_variant: 'off',
    targeting_rules: { user_ids: [], customer_ids: [], rules, percentage: 0, rollout: null, bucket_by: 'user_id' },
    metadata: {},
    version: 1
  }
}
const matches = (values: string[], extra: Partial<Clause> = {}): Clause => ({ attribute: 'email', operator: 'matches', values, ...extra })
const variantOf = (def: FlagDefinition, ctx: EvaluationContext): string => evaluate(compileFlag(def), ctx, NOW).variant

t.test('the issue\'s bypass: ^(a|A)+$ case-insensitive is accepted and a hostile attribute is answered at once', async (t) => {
  const def = flag([matches(['^(a|A)+$'], { case_insensitive: true })])
  t.doesNotThrow(() => checkRegexSafety(def), 'nothing to refuse: RE2 cannot backtrack')
  // 29 characters blocked the event loop 8 s with RegExp; 10k would never finish. Reaching the next
  // line at all is the assertion (tap's timeout fails a hang).
  t.equal(variantOf(def, { email: 'a'.repeat(28) + '!' }), 'off', '29 characters, the issue\'s input')
  t.equal(variantOf(def, { email: 'a'.repeat(10_000) + '!' }), 'off', '10k characters and a mismatch at the end')
  t.equal(variantOf(def, { email: 'aA'.repeat(5_000) }), 'on', '10k characters that match')
})

t.test('textbook catastrophic patterns are accepted and linear on 10k-character hostile input', async (t) => {
  const cases: Array<[pattern: string, input: string, expected: string]> = [
    ['(a+)+$', 'a'.repeat(10_000) + '!', 'off'],
    ['(a|a)*$', 'a'.repeat(10_000) + '!', 'on'], // the empty match at the end
    ['^(a|a)*$', 'a'.repeat(10_000) + '!', 'off'],
    ['.*.*.*x', 'a'.repeat(10_000), 'off'],
    ['(x+x+)+y', 'x'.repeat(10_000), 'off'],
    ['^(\\d+)*$', '1'.repeat(10_000) + 'z', 'off'],
    ['(a|ab)*c', 'ab'.repeat(5_000), 'off']
  ]
  const both = cases.flatMap(([pattern, input, expected]) => [false, true].map((ci) => [pattern, input, expected, ci] as const))
  t.same(failing(both, ([pattern, input, expected, ci]) => {
    const label = `${pattern}${ci ? ' (case-insensitive)' : ''} on ${input.length} characters`
    const def = flag([matches([pattern], { case_insensitive: ci })])
    try { checkRegexSafety(def) } catch (err) { return { case: label, refused: String(err) } }
    return differs(label, variantOf(def, { email: input }), expected)
  }), [], `all ${cases.length} patterns, with and without case_insensitive: accepted, and the variant as listed on the hostile input`)
})

t.test('case_insensitive is RE2\'s own flag: Unicode simple case folding, on the pattern and its classes', async (t) => {
  const on = (pattern: string, email: string, ci = true): string => variantOf(flag([matches([pattern], { case_insensitive: ci })]), { email })
  t.equal(on('^beta-\\d+$', 'BETA-42'), 'on')
  t.equal(on('^beta-\\d+$', 'BETA-42', false), 'off', 'case-sensitive without the flag')
  t.equal(on('^[a-z]+@example\\.com$', 'Alice@Example.COM'), 'on', 'ranges fold too')
  t.equal(on('^émile$', 'ÉMILE'), 'on', 'beyond ASCII')
  t.equal(on('^straße$', 'STRASSE'), 'off', 'simple folding only: ß is not ss (as RegExp with iu)')
  t.equal(on('^k$', '\u212A'), 'on', 'KELVIN SIGN folds to k (as RegExp with iu)')
  t.equal(on('(?i)^beta$', 'BETA', false), 'on', 'RE2\'s inline flag works as well')
})

t.test('RE2 syntax differences a pattern author meets', async (t) => {
  const on = (pattern: string, email: string): string => variantOf(flag([matches([pattern])]), { email })
  t.equal(on('^\\p{Lu}', 'Émile'), 'on', 'Unicode classes')
  t.equal(on('^(?P<user>[a-z]+)@', 'alice@x'), 'on', 'named groups (Python style)')
  t.equal(on('^(?<user>[a-z]+)@', 'alice@x'), 'on', 'named groups (JavaScript style)')
  t.equal(on('^a\\-b$', 'a-b'), 'on', 'an escaped "-" outside a class (refused by RegExp\'s u flag) is fine')
  t.equal(on('^\\Qa.b\\E$', 'a.b'), 'on', '\\Q…\\E quotes')
  t.equal(on('^\\Qa.b\\E$', 'axb'), 'off', '\\Q…\\E quotes: "." is literal')
  t.equal(variantOf(flag([matches(['^\\d+$'])]), { email: 4711 }), 'on', 'numbers are matched as their String()')
})

t.test('matches agrees with RegExp wherever the two languages agree (generated patterns × inputs)', async (t) => {
  // A grammar both engines read the same way: literals, classes, groups, alternation, greedy and
  // counted repetition, anchors. Whether *some* match exists does not depend on leftmost-first vs
  // leftmost-longest, so `test` must agree exactly. Inputs stay short so RegExp itself terminates.
  const pattern = fc.letrec<{ node: string, atom: string }>((tie) => ({
    atom: fc.oneof(
      fc.constantFrom('a', 'b', 'A', '.', '[ab]', '[^a]', '\\d', '1'),
      tie('node').map((n) => `(?:${n})`),
      tie('node').map((n) => `(${n})`)
    ),
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('atom'),
      fc.tuple(tie('atom'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,2}', '{2,}')).map(([a, q]) => a + q),
      fc.tuple(tie('node'), tie('node')).map(([x, y]) => x + y),
      fc.tuple(tie('node'), tie('node')).map(([x, y]) => `${x}|${y}`)
    )
  })).node
  const anchored = fc.tuple(fc.boolean(), pattern, fc.boolean()).map(([s, p, e]) => `${s ? '^' : ''}(?:${p})${e ? '$' : ''}`)
  // Not '': the engine reads an empty attribute as missing (false for every operator).
  const input = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '1', '!'), minLength: 1, maxLength: 12 })
  fc.assert(fc.property(anchored, fc.array(input, { minLength: 1, maxLength: 8 }), fc.boolean(), (source, emails, ci) => {
    const compiled = compileFlag(flag([matches([source], { case_insensitive: ci })]))
    const reference = new RegExp(source, ci ? 'iu' : 'u')
    for (const email of emails) {
      const got = evaluate(compiled, { email }, NOW).variant === 'on'
      if (got !== reference.test(email)) throw new Error(`/${source}/${ci ? 'i' : ''} on ${JSON.stringify(email)}: RE2 ${got}, RegExp ${!got}`)
    }
  }), { numRuns: 400 })
  t.pass('RE2 and RegExp agree on 400 generated patterns')
})

t.test('a stored pattern RE2 cannot run: the flag still loads, that clause never holds, the rest still works', async (t) => {
  // Accepted by the RegExp-era write check, refused now: lookahead, lookbehind, a backreference,
  // JavaScript's \u escape, a program too large.
  t.same(failing(['^(?!admin)', '(?<=@)example', '^(a)\\1$', '^\\u0041', '(?:\\d{100}){20}'], (stored) => {
    const def = flag([matches([stored])], [[{ attribute: 'plan', operator: 'eq', values: ['pro'] }]])
    let compiled: ReturnType<typeof compileFlag>
    try { compiled = compileFlag(def) } catch (err) { return { case: stored, compileFlag: String(err) } }
    let refused = 'nothing'
    try { checkRegexSafety(def) } catch (err) { refused = (err as Error).name }
    return differs(stored, { refused, variant: evaluate(compiled, { email: 'admin', plan: 'pro' }, NOW).variant }, { refused: 'FlagCompileError', variant: 'other' })
  }), [], 'lookahead, lookbehind, a backreference, \\u and a program too large: compileFlag loads the flag (the snapshot must), the write check refuses it, the clause never holds and the next rule serves')
  const negated = flag([matches(['^(?!admin)', '^ok$'], { negate: true })])
  t.equal(variantOf(negated, { email: 'anyone' }), 'off', 'negate does not turn a broken clause into one that holds for everyone')
  t.equal(variantOf(negated, {}), 'off', 'nor for a missing attribute')
})
