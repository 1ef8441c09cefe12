/**
 * Regex engine micro-benchmark: what RE2 (re2js, the engine behind `matches`) costs next to
 * JavaScript's RegExp in the same process, on the patterns flags use, and what it buys on hostile
 * ones. Rounds of the engines alternate so that machine noise hits them alike; each figure is the
 * median of the rounds, with the spread (max/min − 1) beside it.
 * Run: npm run bench:regex
 * Other RE2 candidates (`re2` native addon, `re2-wasm`) join the table when installed next to it.
 */
import { createRequire } from 'node:module'
import { RE2JS } from 're2js'
import { compileFlag, evaluate, type FlagDefinition } from '../src/engine/index.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { formatNs as fmt, median } from './support/timing.js'

interface Engine {
  name: string
  compile (source: string, ci: boolean): { test (s: string): boolean }
}

const engines: Engine[] = [
  { name: 'RegExp', compile: (s, ci) => new RegExp(s, ci ? 'iu' : 'u') },
  { name: 're2js', compile: (s, ci) => RE2JS.compile(s, ci ? RE2JS.CASE_INSENSITIVE : 0) }
]
const require = createRequire(import.meta.url)
for (const [pkg, name] of [['re2', 're2 (native)'], ['re2-wasm', 're2-wasm']] as const) {
  try {
    const mod = require(pkg) as { RE2?: new (s: string, f: string) => { test (s: string): boolean } } & (new (s: string, f: string) => { test (s: string): boolean })
    const Ctor = mod.RE2 ?? mod
    engines.push({ name, compile: (s, ci) => new Ctor(s, ci ? 'iu' : 'u') })
  } catch {
    console.log(`(${pkg} not installed: not measured)`)
  }
}

const ROUNDS = 7
const TESTS = 200_000
const spread = (xs: number[]): string => `±${((Math.max(...xs) / Math.min(...xs) - 1) * 100).toFixed(0)} %`

// 1,024 attribute values, a quarter of each shape, so every pattern sees matches and misses.
const inputs = Array.from({ length: 1024 }, (_, i) =>
  [`user${i}@example.com`, `User${i}@Example.COM`, `beta-${i}`, `someone.${i}@other.org`][i % 4])
let sink = 0

function timeTests (re: { test (s: string): boolean }, n: number): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) if (re.test(inputs[i & 1023])) sink++
  return Number(process.hrtime.bigint() - start) / n
}

printRunHeader(`bench:regex: ${TESTS.toLocaleString('en-US')} tests × ${ROUNDS} rounds per engine (alternating), ns/test`)
console.log(`| pattern | ${engines.map((e) => e.name).join(' | ')} | re2js / RegExp |`)
console.log(`| --- | ${engines.map(() => '---:').join(' | ')} | ---: |`)
const typical: Array<[string, boolean]> = [
  ['^[a-z]+@example\\.com$', false], ['^[a-z0-9]+@example\\.com$', true], ['beta-\\d+', false], ['beta-\\d+', true],
  ['@example\\.com$', false], ['^internal-[0-9]+$', false]
]
for (const [source, ci] of typical) {
  const compiled = engines.map((e) => e.compile(source, ci))
  compiled.forEach((re) => timeTests(re, TESTS / 4)) // warm-up
  const times = engines.map((): number[] => [])
  for (let r = 0; r < ROUNDS; r++) compiled.forEach((re, e) => times[e].push(timeTests(re, TESTS)))
  const cells = times.map((ts) => `${fmt(median(ts))} (${spread(ts)})`)
  console.log(`| \`${source}\`${ci ? ' (i)' : ''} | ${cells.join(' | ')} | ${(median(times[1]) / median(times[0])).toFixed(1)}× |`)
}

// The same through the engine: one flag whose only rule is a `matches` clause on `email`.
const def: FlagDefinition = {
  name: 'm',
  type: 'boolean',
  enabled: true,
  variants: { on: true, off: false },
  default_variant: 'off',
  off_variant: 'off',
  metadata: {},
  version: 1,
  targeting_rules: {
    user_ids: [],
    customer_ids: [],
    percentage: 0,
    rollout: null,
    bucket_by: 'user_id',
    rules: [{ id: 'r', clauses: [{ attribute: 'email', operator: 'matches', values: ['^[a-z0-9]+@example\\.com$'], case_insensitive: true }], serve: { variant: 'on' } }]
  }
}
const flag = compileFlag(def)
const contexts = inputs.map((email) => ({ email }))
const evalRound = (): number => {
  const start = process.hrtime.bigint()
  for (let i = 0; i < TESTS; i++) if (evaluate(flag, contexts[i & 1023], 0).value === true) sink++
  return Number(process.hrtime.bigint() - start) / TESTS
}
evalRound()
const evals = Array.from({ length: ROUNDS }, evalRound)
console.log(`\nevaluate(), one \`matches\` rule (case-insensitive email domain): ${fmt(median(evals))} ns (${spread(evals)})`)

console.log('\n| compile, µs per pattern (median of 200) | ' + engines.map((e) => e.name).join(' | ') + ' |')
console.log(`| --- | ${engines.map(() => '---:').join(' | ')} |`)
for (const source of ['^[a-z0-9]+@example\\.com$', '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', '^\\p{L}{1,400}$']) {
  const cells = engines.map((e) => {
    const ts: number[] = []
    try {
      for (let i = 0; i < 200; i++) {
        const start = process.hrtime.bigint()
        e.compile(source, i % 2 === 1)
        ts.push(Number(process.hrtime.bigint() - start) / 1000)
      }
    } catch (err) {
      // re2-wasm frees nothing without an explicit call: its fixed 16 MiB heap fills and it aborts.
      return `failed after ${ts.length}: ${(err as Error).message.slice(0, 40)}`
    }
    return median(ts).toFixed(1)
  })
  console.log(`| \`${source}\` | ${cells.join(' | ')} |`)
}

// Hostile: RegExp doubles per character (timed only up to 24 characters); RE2 stays linear.
console.log('\n| hostile pattern and input | RegExp | re2js (first test / median of 5) |')
console.log('| --- | ---: | ---: |')
const hostile: Array<[string, boolean, (n: number) => string]> = [
  ['^(a|A)+$', true, (n) => 'a'.repeat(n - 1) + '!'], ['(a+)+$', false, (n) => 'a'.repeat(n - 1) + '!'],
  ['(a|a)*$', false, (n) => 'a'.repeat(n - 1) + '!'], ['.*.*.*x', false, (n) => 'a'.repeat(n)]
]
const ms = (fn: () => unknown): number => { const s = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - s) / 1e6 }
for (const [source, ci, input] of hostile) {
  const native = new RegExp(source, ci ? 'iu' : 'u')
  const nativeCells = [20, 22, 24].map((n) => `${n} chars ${ms(() => native.test(input(n))).toFixed(1)} ms`).join(', ')
  const re = RE2JS.compile(source, ci ? RE2JS.CASE_INSENSITIVE : 0)
  const long = input(10_000)
  const first = ms(() => re.test(long))
  const rest = median(Array.from({ length: 5 }, () => ms(() => re.test(long))))
  console.log(`| \`${source}\`${ci ? ' (i)' : ''} | ${nativeCells} | 10k chars ${first.toFixed(2)} / ${rest.toFixed(2)} ms |`)
}
if (sink < 0) console.log(sink)
printRunFooter()
