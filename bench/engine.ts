/**
 * Engine micro-benchmark: one evaluation of a compiled flag, median of several timed runs.
 * Run: npm run bench:engine
 */
import { compileFlag, evaluate, type FlagDefinition } from '../src/engine/index.js'

const base: Omit<FlagDefinition, 'name' | 'targeting_rules'> = {
  type: 'boolean', enabled: true, variants: { on: true, off: false }, default_variant: 'on', off_variant: 'off', version: 1
}
const rules = (over: Partial<FlagDefinition['targeting_rules']>): FlagDefinition['targeting_rules'] =>
  ({ user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id', ...over })

const cases: Array<[string, FlagDefinition]> = [
  ['static (no targeting, 100 %)', { ...base, name: 'static', targeting_rules: rules({}) }],
  ['user_ids (100 ids), no match, 0 %', { ...base, name: 'listed', targeting_rules: rules({ user_ids: Array.from({ length: 100 }, (_, i) => `u${i}`), percentage: 0 }) }],
  ['50 % split', { ...base, name: 'split', targeting_rules: rules({ percentage: 50 }) }],
  ['3-way rollout', { ...base, name: 'rollout', variants: { on: true, off: false, blue: true }, targeting_rules: rules({ percentage: null, rollout: { on: 10, blue: 45, off: 45 } }) }]
]

const ITERATIONS = 1_000_000
const RUNS = 7
const contexts = Array.from({ length: 1024 }, (_, i) => ({ user_id: `user-${i * 7919}`, country: 'DE' }))
let sink = 0

console.log(`node ${process.version}, ${ITERATIONS.toLocaleString()} evaluations × ${RUNS} runs, median ns/evaluation`)
console.log('| flag | median ns | min ns |\n| --- | ---: | ---: |')
for (const [label, def] of cases) {
  const flag = compileFlag(def)
  const runs: number[] = []
  for (let r = 0; r < RUNS + 1; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < ITERATIONS; i++) if (evaluate(flag, contexts[i & 1023], 0).value === true) sink++
    const ns = Number(process.hrtime.bigint() - start) / ITERATIONS
    if (r > 0) runs.push(ns) // the first run warms up the JIT
  }
  runs.sort((a, b) => a - b)
  console.log(`| ${label} | ${runs[RUNS >> 1].toFixed(0)} | ${runs[0].toFixed(0)} |`)
}
if (sink < 0) console.log(sink)
