import t from 'tap'
import { checkRegexSafety, compileFlag, FlagCompileError, MAX_PATTERNS_PER_FLAG } from '../../src/engine/index.js'
import type { FlagDefinition, Rule } from '../../src/engine/types.js'

const flag = (rules: Rule[]): FlagDefinition => ({
  name: 'f', type: 'boolean', enabled: true, variants: { on: true, off: false }, default_variant: 'on', off_variant: 'off',
  targeting_rules: { user_ids: [], customer_ids: [], rules, percentage: 0, rollout: null, bucket_by: 'user_id' }, metadata: {}, version: 1
})
const matching = (...patterns: string[]): FlagDefinition =>
  flag([{ id: 'ok', clauses: [{ attribute: 'email', operator: 'eq', values: ['x'] }], serve: { variant: 'on' } },
    { id: 're', clauses: [{ attribute: 'email', operator: 'matches', values: patterns }], serve: { variant: 'on' } }])

const fieldOf = (def: FlagDefinition): string | undefined => {
  try { checkRegexSafety(def) } catch (err) { return err instanceof FlagCompileError ? err.field : 'not a FlagCompileError' }
  return undefined
}

t.test('patterns that can backtrack catastrophically are refused, naming the pattern', async (t) => {
  for (const unsafe of ['(a+)+$', '(x+x+)+y', '(a|a)*$', '(a|ab)*c', '.*.*.*x', '^(\\d+)*$']) {
    t.equal(fieldOf(matching('^safe$', unsafe)), 'targeting_rules.rules.1.clauses.0.values.1', unsafe)
  }
})

t.test('ordinary patterns pass', async (t) => {
  for (const safe of ['^internal-[0-9]+$', '@example\\.com$', 'foo|bar|baz', '^(a|b)*$', '^[A-Z]{2}$']) {
    t.equal(fieldOf(matching(safe)), undefined, safe)
  }
})

t.test(`at most ${MAX_PATTERNS_PER_FLAG} patterns per flag, so a write cannot take long to check`, async (t) => {
  const rules: Rule[] = Array.from({ length: 3 }, (_, r) => ({
    id: `r${r}`, clauses: [{ attribute: 'a', operator: 'matches', values: Array.from({ length: 7 }, (_, i) => `^p${r}-${i}$`) }], serve: { variant: 'on' }
  }))
  t.equal(fieldOf(flag(rules)), 'targeting_rules.rules.2.clauses.0.values.6', 'the 21st pattern')
  t.equal(fieldOf(flag(rules.slice(0, 2))), undefined, '14 are fine')
})

t.test('the check is separate from compileFlag: loading a stored flag does not pay for it again', async (t) => {
  t.doesNotThrow(() => compileFlag(matching('(a|a)*$')), 'compileFlag only compiles')
  t.throws(() => checkRegexSafety(matching('(a|a)*$')), FlagCompileError)
})
