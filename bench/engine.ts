/**
 * Engine micro-benchmark: one evaluation of a compiled flag, median of several timed runs, next to
 * `@openfeature/flagd-core` evaluating the equivalent flagd flag in the same process. Runs of the
 * two engines alternate so that machine noise hits both alike.
 * Run: npm run bench:engine
 */
import { FlagdCore } from '@openfeature/flagd-core'
import type { Logger } from '@openfeature/core'
import { compileFlag, evaluate, type CompiledFlag, type EvaluationContext, type FlagDefinition } from '../src/engine/index.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { formatNs as fmt, median, timeEvaluations } from './support/timing.js'

const base: Omit<FlagDefinition, 'name' | 'targeting_rules'> = {
  type: 'boolean', enabled: true, variants: { on: true, off: false }, default_variant: 'on', off_variant: 'off', metadata: {}, version: 1
}
const rules = (over: Partial<FlagDefinition['targeting_rules']>): FlagDefinition['targeting_rules'] =>
  ({ user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id', ...over })

const ids = Array.from({ length: 100 }, (_, i) => `u${i}`)
const threeWay = { on: 10, blue: 45, off: 45 }

interface Case {
  label: string
  def: FlagDefinition
  /** The same flag for flagd (`flags[def.name]`), or null when there is no fair equivalent. */
  flagd: Record<string, unknown> | null
}

const cases: Case[] = [
  {
    label: 'static (no targeting, 100 %)',
    def: { ...base, name: 'static', targeting_rules: rules({}) },
    flagd: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' }
  },
  {
    label: 'user_ids (100 ids), no match, 0 %',
    def: { ...base, name: 'listed', targeting_rules: rules({ user_ids: ids, percentage: 0 }) },
    flagd: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { if: [{ in: [{ var: 'targetingKey' }, ids] }, 'on', 'off'] } }
  },
  {
    label: '50 % split',
    def: { ...base, name: 'split', targeting_rules: rules({ percentage: 50 }) },
    flagd: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: { fractional: [['on', 50], ['off', 50]] } }
  },
  {
    label: '3-way rollout',
    def: { ...base, name: 'rollout', variants: { on: true, off: false, blue: true }, targeting_rules: rules({ percentage: null, rollout: threeWay }) },
    flagd: { state: 'ENABLED', variants: { on: true, off: false, blue: true }, defaultVariant: 'off', targeting: { fractional: Object.entries(threeWay) } }
  },
  {
    label: '5 rules + 3-way rollout, no rule matches',
    def: {
      ...base,
      name: 'five-rules',
      variants: { on: true, off: false, blue: true },
      targeting_rules: rules({
        percentage: null,
        rollout: threeWay,
        rules: [
          { id: 'north-america', clauses: [{ attribute: 'country', operator: 'in', values: ['US', 'CA', 'MX'] }], serve: { variant: 'blue' } },
          { id: 'staff', clauses: [{ attribute: 'email', operator: 'starts_with', values: ['admin@'] }], serve: { variant: 'on' } },
          { id: 'new-app', clauses: [{ attribute: 'app_version', operator: 'semver_gte', values: ['3.0.0'] }], serve: { variant: 'on' } },
          { id: 'seniors', clauses: [{ attribute: 'age', operator: 'gt', values: [65] }], serve: { variant: 'off' } },
          { id: 'internal', clauses: [{ attribute: 'user_id', operator: 'matches', values: ['^internal-[0-9]+$'] }], serve: { variant: 'on' } }
        ]
      })
    },
    flagd: {
      state: 'ENABLED',
      variants: { on: true, off: false, blue: true },
      defaultVariant: 'off',
      targeting: {
        if: [
          { in: [{ var: 'country' }, ['US', 'CA', 'MX']] }, 'blue',
          { starts_with: [{ var: 'email' }, 'admin@'] }, 'on',
          { sem_ver: [{ var: 'app_version' }, '>=', '3.0.0'] }, 'on',
          { '>': [{ var: 'age' }, 65] }, 'off',
          // flagd has no regex operator: the closest equivalent of ^internal-[0-9]+$.
          { starts_with: [{ var: 'targetingKey' }, 'internal-'] }, 'on',
          { fractional: Object.entries(threeWay) }
        ]
      }
    }
  }
]

const ITERATIONS = 1_000_000
const RUNS = 7
const NOW = Date.parse('2026-11-21T10:00:00Z')
// The same 1,024 people for both engines, each in its own vocabulary (user_id vs targetingKey).
const people = Array.from({ length: 1024 }, (_, i) => ({ id: `user-${i * 7919}`, age: 18 + (i % 40) }))
const contexts: EvaluationContext[] = people.map((p) => ({
  user_id: p.id, country: 'DE', email: `${p.id}@example.com`, app_version: '2.5.1', age: p.age
}))
const flagdContexts = people.map((p) => ({
  targetingKey: p.id, country: 'DE', email: `${p.id}@example.com`, app_version: '2.5.1', age: p.age
}))

const quiet: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} }
const flagd = new FlagdCore(undefined, quiet)
flagd.setConfigurations(JSON.stringify({ flags: Object.fromEntries(cases.filter((c) => c.flagd).map((c) => [c.def.name, c.flagd])) }))

let sink = 0

function timeFlagd (key: string): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) if (flagd.resolveBooleanEvaluation(key, false, flagdContexts[i & 1023], quiet).value) sink++
  return Number(process.hrtime.bigint() - start) / ITERATIONS
}

/** Both engines must serve the same variant to every context, or the comparison means nothing. */
function disagreements (flag: CompiledFlag, key: string): number {
  let differ = 0
  for (let i = 0; i < 1024; i++) {
    if (evaluate(flag, contexts[i], NOW).variant !== flagd.resolveBooleanEvaluation(key, false, flagdContexts[i], quiet).variant) differ++
  }
  return differ
}

printRunHeader(`bench:engine: ${ITERATIONS.toLocaleString('en-US')} evaluations × ${RUNS} runs per engine (alternating), ns/evaluation`)
console.log('| flag | flagpost median | flagpost min | flagd-core median | flagd-core min | flagd-core / flagpost |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
for (const c of cases) {
  const flag = compileFlag(c.def)
  const ours: number[] = []
  const theirs: number[] = []
  if (c.flagd) {
    const differ = disagreements(flag, c.def.name)
    if (differ > 0) console.log(`!! ${c.label}: the engines disagree on ${differ}/1024 contexts`)
  }
  for (let r = 0; r < RUNS + 1; r++) {
    // The first run of each warms up the JIT and is dropped.
    const a = timeEvaluations(flag, contexts, NOW, ITERATIONS)
    const b = c.flagd ? timeFlagd(c.def.name) : Number.NaN
    if (r > 0) {
      ours.push(a)
      theirs.push(b)
    }
  }
  const m = median(ours)
  const f = median(theirs)
  const ratio = c.flagd ? `${(f / m).toFixed(1)}×` : 'n/a'
  console.log(`| ${c.label} | ${fmt(m)} | ${fmt(Math.min(...ours))} | ${c.flagd ? fmt(f) : 'n/a'} | ${c.flagd ? fmt(Math.min(...theirs)) : 'n/a'} | ${ratio} |`)
}
if (sink < 0) console.log(sink)
printRunFooter()
