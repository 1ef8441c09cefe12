/**
 * A flagd flag (state, variants, defaultVariant, targeting, metadata) → the body of a Flagpost
 * `POST /flags`, or the precise reason it has no faithful Flagpost equivalent.
 *
 * - variants keep their names; their JSON types give the flag type (Boolean/String/Integer/Float/
 *   Object → boolean/string/number/number/json).
 * - `defaultVariant` is both the default and the off variant: with targeting the fallthrough is
 *   percentage 0 (served with reason DEFAULT, like flagd's null targeting result); without it,
 *   percentage 100 and no targeting (reason STATIC).
 * - `state: DISABLED` → `enabled: false`.
 * - targeting: `$ref`s inlined, then an `if` chain → rules, a top-level `fractional` → rollout.
 */
import { VARIANT_NAME_PATTERN } from '../../src/schemas/flags.js'
import {
  TARGETING_KEY, Untranslatable, attributeOf, condition, ifChain, inlineRefs, isLiteral, isObject, no, operatorOf, short, variantOf, type Rule
} from './targeting.js'

export interface FlagdFlag {
  state?: unknown
  variants?: unknown
  defaultVariant?: unknown
  targeting?: unknown
  metadata?: unknown
}
export interface FlagdDocument { flags: Record<string, FlagdFlag>, $evaluators?: Record<string, unknown>, metadata?: Record<string, unknown> }

export interface TargetingRulesBody { rules?: Rule[], percentage?: number, rollout?: Record<string, number>, bucket_by?: string }
export interface FlagBody {
  name: string
  type: 'boolean' | 'string' | 'number' | 'json'
  enabled: boolean
  variants: Record<string, unknown>
  default_variant: string
  off_variant: string
  targeting_rules: TargetingRulesBody
  metadata?: Record<string, string | number | boolean>
}
export type Translation = { ok: true, body: FlagBody } | { ok: false, reason: string }

const VARIANT_NAME = new RegExp(VARIANT_NAME_PATTERN)
const MAX_WEIGHT = 10_000 // Flagpost's per-variant rollout weight limit

function flagType (variants: Record<string, unknown>): FlagBody['type'] {
  const values = Object.values(variants)
  if (values.every((v) => typeof v === 'boolean')) return 'boolean'
  if (values.every((v) => typeof v === 'string')) return 'string'
  if (values.every((v) => typeof v === 'number')) return 'number'
  if (values.every(isObject)) return 'json'
  return no(`variants ${short(variants)} are not all of one flagd type`)
}

/**
 * A top-level `fractional` as a Flagpost rollout. flagd hashes `flagKey + targetingKey` for the
 * shorthand and otherwise the bucketing expression's value, which is Flagpost's `flagName + bucket_by`
 * only for `{"cat": [{"var": "$flagd.flagKey"}, {"var": x}]}`; flagd's integer weights are relative,
 * as Flagpost's are. A rollout whose weights are all 0 serves nothing in flagd (default variant,
 * DEFAULT): that is percentage 0. (Known gap, not exercised by the suite: with `cat`, flagd still
 * hashes the flag key alone when x is missing; Flagpost then serves the default variant.)
 */
export function fractional (flagKey: string, args: unknown[], variants: Record<string, unknown>): TargetingRulesBody {
  if (args.length === 0) return no('fractional without buckets')
  let bucketBy = TARGETING_KEY
  let prefixed = true
  let buckets = args
  if (!Array.isArray(args[0])) {
    buckets = args.slice(1)
    const expr = args[0]
    const op = operatorOf(expr)
    if (op?.[0] === 'cat' && op[1].length === 2) {
      const [seed, value] = op[1]
      const attribute = attributeOf(value)
      if (attribute === undefined) return no(`bucketing expression ${short(expr)}: the second part is not an attribute`)
      const flagKeySeed = JSON.stringify(operatorOf(seed)) === '["var",["$flagd.flagKey"]]'
      if (!flagKeySeed && seed !== flagKey) {
        return no(`custom hash seed ${short(seed)}: flagd hashes ${short(seed)} + ${attribute}, Flagpost always hashes the flag name + bucket_by`)
      }
      bucketBy = attribute
    } else if (op?.[0] === 'var') {
      bucketBy = attributeOf(expr) as string
      prefixed = false
    } else {
      return no(`bucketing expression ${short(expr)} has no Flagpost bucket_by equivalent`)
    }
  }
  const weights: Array<[string, number]> = []
  for (const bucket of buckets) {
    if (!Array.isArray(bucket) || bucket.length < 1 || bucket.length > 2) return no(`fractional bucket ${short(bucket)} is malformed (flagd: null)`)
    if (!isLiteral(bucket[0])) return no(`fractional bucket variant ${short(bucket[0])} is a JSONLogic expression: computed variant names have no Flagpost equivalent`)
    const weight = bucket.length === 2 ? bucket[1] : 1
    if (typeof weight !== 'number') return no(`fractional bucket weight ${short(weight)} is a JSONLogic expression: computed weights have no Flagpost equivalent`)
    if (!Number.isInteger(weight)) return no(`fractional weight ${weight} is not an integer (flagd: null)`)
    const name = variantOf(bucket[0], variants)
    if (weights.some(([n]) => n === name)) return no(`variant "${name}" appears in two fractional buckets`)
    if (/^(0|[1-9]\d*)$/.test(name)) return no(`variant "${name}" is an integer-like key: a JSON object cannot keep the bucket order`)
    weights.push([name, Math.max(0, weight)]) // flagd clamps negative weights to 0
  }
  const served = weights.filter(([, w]) => w > 0)
  // Without the flag-key prefix the hash differs from Flagpost's, unless at most one variant can be served.
  if (!prefixed && served.length > 1) {
    return no(`bucketing expression {"var": "${bucketBy}"} hashes the bare value without the flag key; Flagpost always hashes the flag name + value (a different hash seed)`)
  }
  if (!prefixed && bucketBy !== TARGETING_KEY) {
    return no(`bucketing expression {"var": "${bucketBy}"}: flagd buckets only string values there, Flagpost buckets numbers and booleans too`)
  }
  if (served.length === 0) return { percentage: 0, bucket_by: bucketBy }
  if (served.some(([, w]) => w > MAX_WEIGHT)) return no(`fractional weights above ${MAX_WEIGHT} exceed Flagpost's rollout weight limit`)
  return { rollout: Object.fromEntries(weights), bucket_by: bucketBy }
}

function targetingRules (key: string, targeting: unknown, variants: Record<string, unknown>, evaluators: Record<string, unknown>): TargetingRulesBody {
  if (targeting === undefined || targeting === null || (isObject(targeting) && Object.keys(targeting).length === 0)) return { percentage: 100 }
  const logic = inlineRefs(targeting, evaluators)
  const op = operatorOf(logic)
  if (op === undefined) return no(`targeting ${short(logic)} is not a JSONLogic operation`)
  switch (op[0]) {
    case 'if': return { rules: ifChain(op[1], variants), percentage: 0 }
    case 'fractional': return fractional(key, op[1], variants)
    default:
      condition(logic) // a malformed operation is skipped for its own, more precise reason
      return no(`targeting is a bare "${op[0]}" expression whose result ("true"/"false", or null on an operator error) names the variant: Flagpost rules serve fixed variants`)
  }
}

function metadataOf (...sources: unknown[]): Record<string, string | number | boolean> | undefined {
  const merged: Record<string, string | number | boolean> = {}
  for (const source of sources) {
    if (source === undefined) continue
    if (!isObject(source)) return no(`metadata ${short(source)} is not an object`)
    for (const [k, v] of Object.entries(source)) {
      if (!isLiteral(v)) return no(`metadata "${k}" is ${short(v)}: Flagpost metadata values are strings, numbers and booleans`)
      merged[k] = v
    }
  }
  return Object.keys(merged).length > 0 ? merged : undefined
}

/** One flagd flag as a Flagpost flag body, or why it cannot be expressed. */
export function translateFlag (key: string, flag: FlagdFlag, doc: FlagdDocument): Translation {
  try {
    if (flag.state !== 'ENABLED' && flag.state !== 'DISABLED') return no(`state ${short(flag.state)}`)
    const variants = flag.variants
    if (!isObject(variants) || Object.keys(variants).length === 0) return no('no variants')
    const bad = Object.keys(variants).find((v) => !VARIANT_NAME.test(v))
    if (bad !== undefined) return no(`variant name "${bad}" does not match ${VARIANT_NAME_PATTERN}`)
    const dv = flag.defaultVariant
    if (dv === null || dv === undefined) {
      return no(`defaultVariant is ${dv === null ? 'null' : 'absent'}: flagd then serves the caller's code default (reason DEFAULT); every Flagpost flag has a default variant`)
    }
    if (typeof dv !== 'string' || !Object.hasOwn(variants, dv)) return no(`defaultVariant ${short(dv)} is not a variant`)
    const metadata = metadataOf(doc.metadata, flag.metadata)
    const body: FlagBody = {
      name: key,
      type: flagType(variants),
      enabled: flag.state === 'ENABLED',
      variants,
      default_variant: dv,
      off_variant: dv,
      targeting_rules: targetingRules(key, flag.targeting, variants, doc.$evaluators ?? {}),
      ...(metadata ? { metadata } : {})
    }
    return { ok: true, body }
  } catch (err) {
    if (err instanceof Untranslatable) return { ok: false, reason: err.message }
    throw err
  }
}
