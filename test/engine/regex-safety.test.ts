import t from 'tap'
import { checkRegexSafety, FlagCompileError, MAX_PATTERNS_PER_FLAG } from '../../src/engine/index.js'
import { compilePattern, MAX_PATTERN_SIZE } from '../../src/engine/regex-safety.js'
import type { FlagDefinition, Rule } from '../../src/engine/types.js'
import { differs, failing } from '../support/cases.js'

const flag = (rules: Rule[]): FlagDefinition => ({
  name: 'f',
  type: 'boolean',
  enabled: true,
  variants: { on: true, off: false },
  default_variant: 'on',
  off_variant: 'off',
  targeting_rules: { user_ids: [], customer_ids: [], rules, percentage: 0, rollout: null, bucket_by: 'user_id' },
  metadata: {},
  version: 1
})
const matching = (patterns: string[], caseInsensitive = false): FlagDefinition =>
  flag([{ id: 'ok', clauses: [{ attribute: 'email', operator: 'eq', values: ['x'] }], serve: { variant: 'on' } },
    { id: 're', clauses: [{ attribute: 'email', operator: 'matches', values: patterns, case_insensitive: caseInsensitive }], serve: { variant: 'on' } }])

const refusal = (def: FlagDefinition): { field: string, message: string } | undefined => {
  try { checkRegexSafety(def) } catch (err) {
    return err instanceof FlagCompileError ? { field: err.field, message: err.message } : { field: 'not a FlagCompileError', message: String(err) }
  }
  return undefined
}

t.test('lookaround and backreferences are refused, naming the pattern and saying RE2 syntax is used', async (t) => {
  const refused = ['(?=a)b', '(?!a)b', '(?<=a)b', '(?<!a)b', '(a)\\1', '^\\u0041$'].flatMap((pattern) => [[pattern, false], [pattern, true]] as const)
  t.same(failing(refused, ([pattern, ci]) => {
    const found = refusal(matching(['^safe$', pattern], ci))
    const says = /RE2 syntax \(linear time; no lookahead, lookbehind or backreferences\)/.test(found?.message ?? '')
    return differs(`${pattern}${ci ? ' (i)' : ''}`, { field: found?.field, says }, { field: 'targeting_rules.rules.1.clauses.0.values.1', says: true })
  }), [], 'each is refused at its own field, the message saying RE2 syntax is used, with and without case_insensitive')
})

t.test('patterns that were refused as catastrophic are fine now: RE2 cannot backtrack', async (t) => {
  const patterns = ['(a+)+$', '(x+x+)+y', '(a|a)*$', '(a|ab)*c', '.*.*.*x', '^(\\d+)*$', '^(a|A)+$']
  t.same(failing(patterns, (pattern) => differs(pattern, refusal(matching([pattern], true))?.message, undefined)), [], 'none is refused')
})

t.test('ordinary patterns pass', async (t) => {
  const uuid = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  const safe = ['^internal-[0-9]+$', '@example\\.com$', 'foo|bar|baz', '^(a|b)*$', '^[A-Z]{2}$', uuid, '^\\p{L}{1,100}$', '(?i)^beta-\\d+$']
  t.same(failing(safe, (pattern) => differs(pattern, refusal(matching([pattern]))?.message, undefined)), [], 'none is refused')
})

t.test(`a pattern may compile to at most ${MAX_PATTERN_SIZE} RE2 instructions (counted repetitions are copied out)`, async (t) => {
  t.equal(refusal(matching(['^\\d{990}$'])), undefined, 'just under')
  t.match(refusal(matching(['^\\d{1000}$'])), { field: 'targeting_rules.rules.1.clauses.0.values.0', message: /about 100\d RE2 instructions.*at most 1000/ },
    'just over: measured on the compiled program')
  // Refused from the text, before paying for a 2,000-instruction compilation.
  t.match(refusal(matching(['(?:\\d{100}){20}'])), { message: /about 20\d\d RE2 instructions/ }, 'nested counted repetition')
  t.match(refusal(matching(['[\\x{0}-\\x{10FFFF}]{1000}'.repeat(10)])), { message: /RE2 instructions/ }, 'ten large classes repeated 1000 times')
})

t.test(`at most ${MAX_PATTERNS_PER_FLAG} patterns per flag, so a write cannot take long to check`, async (t) => {
  const rules: Rule[] = Array.from({ length: 3 }, (_, r) => ({
    id: `r${r}`, clauses: [{ attribute: 'a', operator: 'matches', values: Array.from({ length: 7 }, (_, i) => `^p${r}-${i}$`) }], serve: { variant: 'on' }
  }))
  t.equal(refusal(flag(rules))?.field, 'targeting_rules.rules.2.clauses.0.values.6', 'the 21st pattern')
  t.equal(refusal(flag(rules.slice(0, 2))), undefined, '14 are fine')
})

t.test('a pattern is compiled once per source and case flag, and shared by the flags that hold it (the last 1,000 used)', async (t) => {
  const once = compilePattern('@kept-once\\.example$', false)
  t.equal(compilePattern('@kept-once\\.example$', false), once, 'the same source again: the same compiled program')
  t.not(compilePattern('@kept-once\\.example$', true), once, 'case-insensitive is another program')
  t.ok(typeof once !== 'string' && once.test('a@kept-once.example') && !once.test('a@KEPT-ONCE.EXAMPLE'), 'it still matches as compiled')
  const folded = compilePattern('@kept-once\\.example$', true)
  t.ok(typeof folded !== 'string' && folded.test('a@KEPT-ONCE.EXAMPLE'), 'and the folded one folds')
  const refused = compilePattern('(?=kept)', false)
  t.equal(compilePattern('(?=kept)', false), refused, 'a refusal is kept too')
  t.match(refused, /RE2 syntax/)
  for (let i = 0; i < 1_000; i++) compilePattern(`^other-${i}$`, false)
  t.not(compilePattern('@kept-once\\.example$', false), once, 'after 1,000 others it is compiled again')
})
