/**
 * Cost growth of one evaluation (engine level, compiled flag, no HTTP): against the number of rules
 * a context has to go through (and what one rule costs by operator), against the number of
 * overrides on the flag, and against the number of distinct flags evaluated in turn (what a bulk
 * request does: every flag for one context), next to the same evaluations spread over 100 of them.
 * Run: npm run bench:cost   (ITERATIONS=200000 per run, RUNS=7 runs, median; FLAG_COUNTS=100,1000,2000,5000,10000)
 */
import { compileFlag, type Clause, type CompiledFlag, type EvaluationContext, type FlagDefinition, type OverrideSpec, type Rule } from '../src/engine/index.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { DEFAULT_RUNS, formatNs, medianEvaluationNs, medianRunNs, timePasses } from './support/timing.js'
import { flagDefinition, targeting } from '../test/support/flag-definition.js'

// Fewer than bench:engine's million: at 50 rules one run is already ~0.5 s.
const ITERATIONS = Number(process.env.ITERATIONS ?? 200_000)
const RUNS = Number(process.env.RUNS ?? DEFAULT_RUNS)
const NOW = Date.parse('2026-11-21T10:00:00Z')
const timing = { runs: RUNS, iterations: ITERATIONS }

const flag = (name: string, rules: Rule[]): FlagDefinition => flagDefinition(name, { targeting_rules: targeting({ rules, percentage: 50 }) })

/**
 * Rule i: one clause with operator i mod 10, written so that no context below matches, so every
 * rule is tried (the worst case: a match at the last rule costs the same, then serves).
 */
const clauseOf = (i: number): Clause => [
  { attribute: 'country', operator: 'in', values: ['US', 'CA', 'MX', `X${i}`] },
  { attribute: 'email', operator: 'starts_with', values: [`admin${i}@`] },
  { attribute: 'app_version', operator: 'semver_gte', values: [`${10 + i}.0.0`] },
  { attribute: 'age', operator: 'gt', values: [100 + i] },
  { attribute: 'user_id', operator: 'matches', values: [`^internal-${i}-[0-9]+$`] },
  { attribute: 'plan', operator: 'eq', values: [`plan-${i}`] },
  { attribute: 'email', operator: 'ends_with', values: [`@corp${i}.example`] },
  { attribute: 'email', operator: 'contains', values: [`+beta${i}`] },
  { attribute: 'age', operator: 'lt', values: [-i] },
  { attribute: 'signup', operator: 'after', values: ['2030-01-01T00:00:00Z'] }
][i % 10] as Clause
const rules = (n: number): Rule[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, clauses: [clauseOf(i)], serve: { variant: 'on' } }))

// 1,024 contexts with every attribute the rules read, none matching any rule.
const contexts: EvaluationContext[] = Array.from({ length: 1024 }, (_, i) => ({
  user_id: `user-${i * 7919}`,
  customer_id: `other-${i}`,
  country: 'DE',
  email: `user-${i}@example.com`,
  app_version: '2.5.1',
  age: 18 + (i % 40),
  plan: 'free',
  signup: '2025-06-01T00:00:00Z'
}))

printRunHeader(`bench:cost: ns per evaluate(), median of ${RUNS} runs × ${ITERATIONS.toLocaleString('en-US')} evaluations over 1,024 rotating contexts`)

console.log('| rules tried (none matches), then a 50 % split | median ns | ns per rule over 0 rules |\n| --- | ---: | ---: |')
let zeroRules = 0
for (const n of [0, 1, 5, 20, 50]) {
  const ns = medianEvaluationNs(compileFlag(flag(`rules-${n}`, rules(n))), contexts, NOW, timing)
  if (n === 0) zeroRules = ns
  console.log(`| ${n} | ${formatNs(ns)} | ${n === 0 ? '' : formatNs((ns - zeroRules) / n)} |`)
}

// What one rule costs by operator: ten rules of that operator alone, over the cost of none.
console.log('\n| operator (10 rules of it, none matching) | ns per rule |\n| --- | ---: |')
for (let op = 0; op < 10; op++) {
  const tenOf = Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, clauses: [clauseOf(op + 10 * i)], serve: { variant: 'on' } }))
  const ns = medianEvaluationNs(compileFlag(flag(`operator-${op}`, tenOf)), contexts, NOW, timing)
  console.log(`| \`${clauseOf(op).operator}\` on \`${clauseOf(op).attribute}\` | ${formatNs((ns - zeroRules) / 10)} |`)
}

/** `n` customer overrides (one in four switched on), as the snapshot hands them to the engine. */
function overrides (n: number): { users: Map<string, OverrideSpec>, customers: Map<string, OverrideSpec> } {
  const customers = new Map<string, OverrideSpec>()
  for (let i = 0; i < n; i++) customers.set(`cust-${String(i).padStart(6, '0')}`, { enabled: i % 4 === 0, variant: null })
  return { users: new Map(), customers }
}
// The same contexts, naming a customer that has an override (spread over the whole map).
const members = (n: number): EvaluationContext[] => contexts.map((c, i) => ({ ...c, customer_id: `cust-${String((i * 7919) % n).padStart(6, '0')}` }))

console.log('\n| customer overrides on the flag | no override for the context (then the split) | the context\'s customer has one |\n| ---: | ---: | ---: |')
for (const n of [0, 10, 1_000, 100_000]) {
  const compiled = compileFlag(flag(`overrides-${n}`, []), overrides(n))
  const miss = medianEvaluationNs(compiled, contexts, NOW, timing)
  const hit = n === 0 ? undefined : medianEvaluationNs(compiled, members(n), NOW, timing)
  console.log(`| ${n.toLocaleString('en-US')} | ${formatNs(miss)} | ${hit === undefined ? 'n/a' : formatNs(hit)} |`)
}

/**
 * ns per flag when each pass evaluates the first `count` of `flags` for one context: the same number of
 * evaluations whatever `count`, so that a pass over all of them and one over a few differ in how much
 * memory the loop reads and in nothing else.
 */
const perFlagNs = (flags: readonly CompiledFlag[], count: number): number =>
  medianRunNs(() => timePasses(flags, count, contexts, NOW, Math.ceil(Math.max(ITERATIONS, flags.length * 20) / count)), RUNS)

// Five rules (the first five operators, none matching) and a 50 % split: one of the dataset's richer
// kinds. Each flag its own: its own seed, and rules of its own values (no two flags' clauses alike),
// but for the pattern, which all share (a flag set has few; each is compiled once, regex-safety.ts).
const ownRules = (f: number): Rule[] =>
  Array.from({ length: 5 }, (_, r) => ({ id: `r${r}`, clauses: [clauseOf(r === 4 ? 4 : 10 * f + r)], serve: { variant: 'on' } }))
const FLAG_COUNTS = (process.env.FLAG_COUNTS ?? '100,1000,2000,5000,10000').split(',').map(Number)
const CONTROL = 100
console.log(`\n| distinct flags evaluated in turn (5 rules each, then a 50 % split) | ns per flag | the same evaluations over ${CONTROL} of them | ratio |\n| ---: | ---: | ---: | ---: |`)
for (const n of FLAG_COUNTS) {
  const flags = Array.from({ length: n }, (_, i) => compileFlag(flag(`bulk-${n}-${i}`, ownRules(i))))
  const all = perFlagNs(flags, n)
  const few = perFlagNs(flags, Math.min(CONTROL, n))
  console.log(`| ${n.toLocaleString('en-US')} | ${formatNs(all)} | ${formatNs(few)} | ${(all / few).toFixed(2)} |`)
}
printRunFooter()
