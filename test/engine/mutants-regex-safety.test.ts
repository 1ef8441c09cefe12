/**
 * Write-time refusal of `matches` patterns (src/engine/regex-safety.ts), pinned by mutation testing
 * (`npx stryker run --mutate src/engine/regex-safety.ts`): every test kills mutants the rest of the
 * engine suite let through. The size in a refusal is the text estimate when that is already over
 * the limit, else the compiled program's size, so pinning it pins the estimate.
 */
import t from 'tap'
import { checkRegexSafety, FlagCompileError, MAX_PATTERNS_PER_FLAG } from '../../src/engine/index.js'
import type { Clause, FlagDefinition } from '../../src/engine/index.js'

function flag (clause: Partial<Clause>): FlagDefinition {
  return {
    name: 'f',
    type: 'boolean',
    enabled: true,
    variants: { on: true, off: false },
    default_variant: 'on',
    off_variant: 'off',
    metadata: {},
    version: 1,
    targeting_rules: {
      user_ids: [],
      customer_ids: [],
      rules: [{ id: 'r', clauses: [{ attribute: 'a', operator: 'matches', values: [], ...clause }], serve: { variant: 'on' } }],
      percentage: 0,
      rollout: null,
      bucket_by: 'user_id'
    }
  }
}

/** The refusal of one pattern: the size it reports, the whole message when it is not about size, or 'ok'. */
function verdict (pattern: string, caseInsensitive = false): number | string {
  try {
    checkRegexSafety(flag({ values: [pattern], case_insensitive: caseInsensitive }))
    return 'ok'
  } catch (err) {
    if (!(err instanceof FlagCompileError)) return `not a FlagCompileError: ${String(err)}`
    const size = /^pattern expands to about (\d+) RE2 instructions \(counted repetitions such as x\{500\} are copied out\); at most 1000 are allowed$/.exec(err.message)
    return size === null ? err.message : Number(size[1])
  }
}

t.test('the size a refusal reports, for every kind of atom, group and repetition', async (t) => {
  const patterns = [
    'a{1001}', 'a{1000}', 'a{999}', 'ab{1000}', 'a{2,1001}', 'a{1001,5}', 'a{0,1001}', 'a{500,}', 'x{1001', 'x{,1001}',
    '\\Qab\\E{1000}', '\\Qabc{1000}', 'a\\E{1001}', '\\p{Greek}{1000}', '\\P{Greek}{1000}', '\\pL{1000}', '\\PL{1000}',
    '\\x{41}{1001}', '\\d{1001}', '\\.{1001}', '[abc]{1001}', '[a-z]{1001}', '[]a]{1001}', '[^]a]{1001}', '[\\]]{1001}',
    '[[:alpha:]]{1001}', '(ab){501}', '(?:ab){501}', '((a)){400}', '(a){1001}', 'a){1001}', 'a*{1001}', 'ab*{1001}', 'a?{1001}',
    'a+b+c+d{1000}', '(a*){500}', '(a|b){500}', '(a|b|c){400}', 'a{1001}b', '(a{10}){101}', '(?i)a{1001}', 'A{1001}'
  ]
  t.same(patterns.map((p) => [p, verdict(p)]), [
    ['a{1001}', 1001], ['a{1000}', 1002], ['a{999}', 1001], ['ab{1000}', 1001], ['a{2,1001}', 1001], ['a{1001,5}', 1001],
    ['a{0,1001}', 1001], ['a{500,}', 'ok'], ['x{1001', 'ok'], ['x{,1001}', 'ok'],
    ['\\Qab\\E{1000}', 1001], ['\\Qabc{1000}', 'ok'], ['a\\E{1001}', 1002], ['\\p{Greek}{1000}', 1002], ['\\P{Greek}{1000}', 1002],
    ['\\pL{1000}', 1002], ['\\PL{1000}', 1002],
    ['\\x{41}{1001}', 1001], ['\\d{1001}', 1001], ['\\.{1001}', 1001], ['[abc]{1001}', 1001], ['[a-z]{1001}', 1001], ['[]a]{1001}', 1001],
    ['[^]a]{1001}', 1001], ['[\\]]{1001}', 1001],
    ['[[:alpha:]]{1001}', 1001], ['(ab){501}', 1503], ['(?:ab){501}', 2505], ['((a)){400}', 1200], ['(a){1001}', 2002], ['a){1001}', 2002],
    ['a*{1001}', 1002], ['ab*{1001}', 1003], ['a?{1001}', 1002],
    ['a+b+c+d{1000}', 1006], ['(a*){500}', 1500], ['(a|b){500}', 2000], ['(a|b|c){400}', 2400], ['a{1001}b', 1002], ['(a{10}){101}', 1111],
    ['(?i)a{1001}', 1004], ['A{1001}', 1001]
  ])
})

t.test('a pattern RE2 cannot parse is refused saying why, case-insensitive or not', async (t) => {
  const syntax = 'not a valid regular expression in RE2 syntax (linear time; no lookahead, lookbehind or backreferences): error parsing regexp: '
  const patterns = ['\\p{Greek', '\\x{41', '[abc', '[[:alpha:]{1001}', 'a{10000000}']
  const expected = [
    'invalid character class range: `\\p{Greek`',
    'invalid escape sequence: `\\x{41`',
    'missing closing ]: `[abc`',
    'missing closing ]: `[[:alpha:]{1001}`',
    'invalid repeat count: `{10000000}`'
  ].map((why) => syntax + why)
  t.same([patterns.map((p) => verdict(p)), patterns.map((p) => verdict(p, true))], [expected, expected])
})

t.test('only matches clauses are checked, and only their string values', async (t) => {
  const cases: [string, FlagDefinition][] = [
    ['an eq value that is not RE2 syntax', flag({ operator: 'eq', values: ['(?=a)'] })],
    ['21 values of an in clause', flag({ operator: 'in', values: Array.from({ length: 21 }, (_, i) => `v${i}`) })],
    ['a numeric pattern (compileFlag refuses it)', flag({ values: [5] })]
  ]
  const refused = cases.filter(([, def]) => {
    try {
      checkRegexSafety(def)
      return false
    } catch {
      return true
    }
  })
  t.same(refused.map(([label]) => label), [])
})

t.test('a flag holding too many patterns is refused with the limit named', async (t) => {
  const values = Array.from({ length: MAX_PATTERNS_PER_FLAG + 1 }, (_, i) => `^p${i}$`)
  t.throws(() => checkRegexSafety(flag({ values })), { message: `a flag may hold at most ${MAX_PATTERNS_PER_FLAG} regular expressions` })
})
