/**
 * A flagd `fractional` (top-level targeting) → a Flagpost rollout: its bucketing expression as
 * `bucketing_seed` + `bucket_by`, buckets with computed variant names or weights as rules.
 */
import { TARGETING_KEY, attributeOf, condition, no, operatorOf, short, variantOf, type Clause, type Rule } from './targeting.js'
import type { TargetingRulesBody } from './translate.js'

const MAX_WEIGHT = 10_000 // Flagpost's per-variant rollout weight limit

/** flagd's hash input as Flagpost's: the bucketing seed, then the value of the `bucket_by` attribute. */
interface Bucketing { seed: string, bucketBy: string }
const FLAG_KEY_VAR = '["var",["$flagd.flagKey"]]'
const MAX_SEED = 256 // Flagpost's bucketing_seed length limit

/**
 * A `fractional` bucketing expression as Flagpost's seed + bucket_by. flagd hashes the expression's
 * string value; Flagpost hashes `bucketing_seed + value of bucket_by`, so an expression translates
 * when it is a constant prefix (strings and `$flagd.flagKey`) followed by one attribute:
 * - no expression (the shorthand): flagd's `flagKey + targetingKey`, the seed being the flag key;
 * - `{"cat": [{"var": "$flagd.flagKey"}, {"var": x}]}`: the same with x;
 * - `{"cat": ["shared-seed", {"var": x}]}`: a custom seed;
 * - `{"var": x}`: the bare value, the empty seed.
 * Known gaps, not exercised by the suite: with `cat`, flagd still hashes the prefix alone when x is
 * missing (Flagpost serves the default variant, DEFAULT); with a bare `{"var": x}` flagd buckets
 * only string values (a number is an error), Flagpost buckets a number's or boolean's string form.
 */
function bucketing (flagKey: string, expr: unknown): Bucketing {
  const op = operatorOf(expr)
  if (op?.[0] === 'var') return { seed: '', bucketBy: attributeOf(expr) as string }
  if (op?.[0] !== 'cat' || op[1].length === 0) {
    return no(`bucketing expression ${short(expr)} is neither an attribute nor a constant prefix followed by one: no Flagpost bucketing_seed + bucket_by equivalent`)
  }
  const parts = op[1]
  const last = parts[parts.length - 1]
  const bucketBy = operatorOf(last)?.[0] === 'var' && JSON.stringify(operatorOf(last)) !== FLAG_KEY_VAR ? attributeOf(last) : undefined
  if (bucketBy === undefined) return no(`bucketing expression ${short(expr)} does not end with an attribute: Flagpost hashes a fixed seed followed by one attribute's value`)
  let seed = ''
  for (const part of parts.slice(0, -1)) {
    if (typeof part === 'string') seed += part
    else if (JSON.stringify(operatorOf(part)) === FLAG_KEY_VAR) seed += flagKey
    else return no(`bucketing expression ${short(expr)}: ${short(part)} is neither a constant nor the flag key, so the hash prefix is not one fixed seed`)
  }
  if (seed.length > MAX_SEED) return no(`bucketing expression ${short(expr)}: the seed is longer than Flagpost's ${MAX_SEED} characters`)
  return { seed, bucketBy }
}

/**
 * What one part of a fractional bucket (its variant name or its weight) is, as first-match
 * alternatives: each holds when its clauses (disjunctive normal form) do, and the last always holds.
 * A constant is one alternative; an `if` chain of constants is one per branch; a variant computed as
 * `{"var": x}` is one per variant (x equal to its name). A computed name that is no variant is a flagd
 * error (the caller's code default): the translation serves the default variant there instead.
 */
interface Alternative<T> { when: Clause[][], value: T }
const ALWAYS: Clause[][] = [[]]
const both = (a: Clause[][], b: Clause[][]): Clause[][] => a.flatMap((x) => b.map((y) => [...x, ...y]))

function alternatives<T> (expr: unknown, leaf: (value: unknown) => T, fromVar?: (attribute: string) => Array<Alternative<T>>): Array<Alternative<T>> {
  const op = operatorOf(expr)
  if (op?.[0] === 'var' && fromVar !== undefined) return fromVar(attributeOf(expr) as string)
  if (op?.[0] !== 'if') return [{ when: ALWAYS, value: leaf(expr) }]
  const args = op[1]
  if (args.length < 3 || args.length % 2 === 0) return no(`${short(expr)}: an "if" without an else yields null for some contexts, which names no bucket variant or weight`)
  const out: Array<Alternative<T>> = []
  for (let i = 0; i + 1 < args.length; i += 2) {
    const when = condition(args[i])
    for (const alt of alternatives(args[i + 1], leaf, fromVar)) out.push({ when: both(when, alt.when), value: alt.value })
  }
  out.push(...alternatives(args[args.length - 1], leaf, fromVar))
  return out
}

/** First-match alternatives of every combination, in lexicographic order: still first-match (each list ends with one that always holds). */
function combine<T> (lists: Array<Array<Alternative<T>>>): Array<Alternative<T[]>> {
  let out: Array<Alternative<T[]>> = [{ when: ALWAYS, value: [] }]
  for (const list of lists) {
    out = out.flatMap((a) => list.map((b) => ({ when: both(a.when, b.when), value: [...a.value, b.value] })))
    // Nothing after an alternative that always holds is ever reached; one that never holds is dropped.
    out = out.filter((a) => a.when.length > 0)
    const always = out.findIndex((a) => a.when.some((c) => c.length === 0))
    if (always >= 0) out = out.slice(0, always + 1).map((a, i) => (i === always ? { ...a, when: ALWAYS } : a))
    if (out.length > MAX_RULES) return no(`computed fractional buckets need more than ${MAX_RULES} combinations of conditions (Flagpost's rule limit)`)
  }
  return out
}
const MAX_RULES = 100

/**
 * Ordered `[variant, weight]` buckets as a Flagpost rollout: negative weights count as 0 (flagd clamps
 * them), zero-weight buckets serve no one, and adjacent buckets of one variant are one range of the
 * hash. Undefined when nothing can be served (flagd: the default variant, DEFAULT).
 */
function rolloutOf (buckets: Array<[string, number]>): Record<string, number> | undefined {
  const served: Array<[string, number]> = []
  for (const [name, raw] of buckets) {
    const weight = Math.max(0, raw)
    if (weight === 0) continue
    const previous = served[served.length - 1]
    if (previous?.[0] === name) previous[1] += weight
    else if (served.some(([n]) => n === name)) return no(`variant "${name}" is served by two fractional buckets apart: a Flagpost rollout gives each variant one range`)
    else served.push([name, weight])
  }
  if (served.length === 0) return undefined
  for (const [name, weight] of served) {
    if (/^(0|[1-9]\d*)$/.test(name)) return no(`variant "${name}" is an integer-like key: a JSON object cannot keep the bucket order`)
    if (weight > MAX_WEIGHT) return no(`fractional weights above ${MAX_WEIGHT} exceed Flagpost's rollout weight limit`)
  }
  return Object.fromEntries(served)
}

/**
 * A top-level `fractional` as a Flagpost rollout, hashed as bucketing() says. flagd's integer weights
 * are relative, as Flagpost's are. Buckets whose variant name or weight is computed from the context
 * (`{"var": x}`, `if` chains of constants) become one rule per combination of conditions, each serving
 * the rollout flagd would compute there, in first-match order; the combination that always holds is the
 * fallthrough. A rollout whose weights are all 0 serves nothing in flagd (default variant, DEFAULT):
 * as the fallthrough that is percentage 0; a rule cannot serve it.
 */
export function fractional (flagKey: string, args: unknown[], variants: Record<string, unknown>, defaultVariant: string): { targeting: TargetingRulesBody, seed: string } {
  if (args.length === 0) return no('fractional without buckets')
  const explicit = !Array.isArray(args[0])
  const { seed, bucketBy } = explicit ? bucketing(flagKey, args[0]) : { seed: flagKey, bucketBy: TARGETING_KEY }
  const buckets = explicit ? args.slice(1) : args
  const byVariant = (attribute: string): Array<Alternative<string>> => [
    ...Object.keys(variants).map((name) => ({ when: [[{ attribute, operator: 'eq', values: [name] }]], value: name })),
    { when: ALWAYS, value: defaultVariant }
  ]
  const perBucket = buckets.map((bucket) => {
    if (!Array.isArray(bucket) || bucket.length < 1 || bucket.length > 2) return no(`fractional bucket ${short(bucket)} is malformed (flagd: null)`)
    const names = alternatives(bucket[0], (v) => variantOf(v, variants), byVariant)
    const weights = alternatives(bucket.length === 2 ? bucket[1] : 1, (w) => {
      if (typeof w !== 'number') return no(`fractional bucket weight ${short(w)} is neither a number nor an "if" chain of numbers`)
      if (!Number.isInteger(w)) return no(`fractional weight ${w} is not an integer (flagd: null)`)
      return w
    })
    return combine([names as Array<Alternative<string | number>>, weights]) as Array<Alternative<[string, number]>>
  })
  const cases = combine(perBucket)
  const rules: Rule[] = []
  let fallthrough: TargetingRulesBody = { percentage: 0, bucket_by: bucketBy }
  for (const { when, value } of cases) {
    const rollout = rolloutOf(value)
    if (when === ALWAYS) {
      if (rollout !== undefined) fallthrough = { rollout, bucket_by: bucketBy }
      break
    }
    if (rollout === undefined) return no('computed fractional buckets serve nothing for some contexts (flagd: default variant, DEFAULT), which a Flagpost rule cannot serve')
    for (const clauses of when) rules.push({ id: `r${rules.length + 1}`, clauses, serve: { rollout } })
  }
  if (rules.length > MAX_RULES) return no(`computed fractional buckets need more than ${MAX_RULES} rules`)
  return { targeting: rules.length > 0 ? { rules, ...fallthrough } : fallthrough, seed }
}
