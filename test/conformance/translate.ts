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
 * - targeting: `$ref`s inlined, then an `if` chain → rules, a top-level `fractional` → rollout
 *   (its bucketing expression → `bucketing_seed` + `bucket_by`; computed bucket variants and weights → rules).
 */
import { VARIANT_NAME_PATTERN } from '../../src/schemas/flags.js'
import { fractional } from './fractional.js'
import { Untranslatable, condition, ifChain, inlineRefs, isLiteral, isObject, no, operatorOf, short, type Rule } from './targeting.js'

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
  bucketing_seed?: string
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

function flagType (variants: Record<string, unknown>): FlagBody['type'] {
  const values = Object.values(variants)
  if (values.every((v) => typeof v === 'boolean')) return 'boolean'
  if (values.every((v) => typeof v === 'string')) return 'string'
  if (values.every((v) => typeof v === 'number')) return 'number'
  if (values.every(isObject)) return 'json'
  return no(`variants ${short(variants)} are not all of one flagd type`)
}

function targetingRules (key: string, targeting: unknown, variants: Record<string, unknown>, defaultVariant: string, evaluators: Record<string, unknown>): { targeting: TargetingRulesBody, seed?: string } {
  if (targeting === undefined || targeting === null || (isObject(targeting) && Object.keys(targeting).length === 0)) return { targeting: { percentage: 100 } }
  const logic = inlineRefs(targeting, evaluators)
  const op = operatorOf(logic)
  if (op === undefined) return no(`targeting ${short(logic)} is not a JSONLogic operation`)
  switch (op[0]) {
    case 'if': return { targeting: { rules: ifChain(op[1], variants), percentage: 0 } }
    case 'fractional': return fractional(key, op[1], variants, defaultVariant)
    case 'starts_with': case 'ends_with': case 'sem_ver':
      condition(logic) // a malformed operation is skipped for its own, more precise reason
      return no(`targeting is a bare "${op[0]}" whose result names the variant: "true", "false", or null (default variant, DEFAULT) when flagd cannot compare the operand (not a string, not a version); a Flagpost clause is false there, and no clause tests an attribute's type, so "false" and the default cannot be told apart`)
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
    const { targeting, seed } = targetingRules(key, flag.targeting, variants, dv, doc.$evaluators ?? {})
    const body: FlagBody = {
      name: key,
      // Only a seed other than the key is written: Flagpost's default seed is the flag's name.
      ...(seed !== undefined && seed !== key ? { bucketing_seed: seed } : {}),
      type: flagType(variants),
      enabled: flag.state === 'ENABLED',
      variants,
      default_variant: dv,
      off_variant: dv,
      targeting_rules: targeting,
      ...(metadata ? { metadata } : {})
    }
    return { ok: true, body }
  } catch (err) {
    if (err instanceof Untranslatable) return { ok: false, reason: err.message }
    throw err
  }
}
