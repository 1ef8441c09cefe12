import type { FlagType, JsonValue, Rule, TargetingRules } from '../engine/types.js'
import { invalid, type FieldProblem } from '../errors.js'
import type { StoredFlag } from '../repositories/flag-repository.js'
import { LIMITS, VARIANT_NAME_PATTERN } from '../schemas/flags.js'
import { ATTRIBUTE_NAME_RULE } from '../schemas/names.js'
import { inputProblems } from '../schemas/storable.js'
import type { FlagSpec, TargetingInput } from './flag-commands.js'

/** The stored, fully-explicit state of a flag, minus identity and bookkeeping. */
export type FlagState = Pick<StoredFlag, 'bucketingSeed' | 'description' | 'type' | 'enabled' | 'variants' | 'defaultVariant' | 'offVariant' | 'targetingRules' | 'tags' | 'metadata'>

const OFF_DEFAULTS: Record<FlagType, JsonValue> = { boolean: false, string: '', number: 0, json: null }
const VARIANT_NAME = new RegExp(VARIANT_NAME_PATTERN)
const hasTwoDecimals = (n: number): boolean => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6

/**
 * Coerce a written value to the flag's type, accepting the strings the original service took:
 * "true"/"false" for booleans, numeric strings for numbers, JSON text for json. Returns a problem
 * message instead when the value cannot be of that type.
 */
export function coerceValue (value: unknown, type: FlagType): { value: JsonValue } | { problem: string } {
  const result = coerceToType(value, type)
  if (!('value' in result)) return result
  const problem = jsonValueProblem(result.value)
  return problem === undefined ? result : { problem }
}

/** How deeply a json flag value may nest: deep enough for any real config, shallow enough to walk and store safely. */
export const MAX_JSON_DEPTH = 32

/**
 * The input rule (schemas/storable.ts) on a coerced value, with the json flag bound on nesting:
 * a value given as JSON text was never seen by the request validator.
 */
function jsonValueProblem (value: JsonValue): string | undefined {
  const problem = inputProblems(value, { maxDepth: MAX_JSON_DEPTH, fieldSegments: 0 })?.[0]
  if (problem === undefined) return undefined
  return problem.path.length === 0 ? problem.message : `${problem.path.join('.')}: ${problem.message}`
}

function coerceToType (value: unknown, type: FlagType): { value: JsonValue } | { problem: string } {
  switch (type) {
    case 'boolean':
      if (typeof value === 'boolean') return { value }
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return { value: value.trim().toLowerCase() === 'true' }
      return { problem: 'must be a boolean (true, false, "true" or "false")' }
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return { value }
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return { value: Number(value) }
      return { problem: 'must be a finite number or a numeric string' }
    case 'string':
      if (typeof value === 'string') return { value }
      return { problem: 'must be a string' }
    case 'json':
      if (typeof value !== 'string') return { value: value as JsonValue }
      try { return { value: JSON.parse(value) as JsonValue } } catch { return { problem: 'must be JSON, or a string that parses as JSON' } }
  }
}

/**
 * Turn a written flag (a new flag, or the result of a merge patch) into its explicit stored state.
 * Every problem is collected and thrown together as one validation error naming each domain field.
 * `name` is the flag's current name: the bucketing seed when none is written.
 */
export function normalizeFlag (input: FlagSpec, name: string): FlagState {
  const problems: FieldProblem[] = []
  const problem = (field: string, message: string): void => { problems.push({ field, message }) }
  // The HTTP validator checks this already; the CLI and the library come here directly.
  const unstorable = inputProblems(input)
  if (unstorable !== undefined) throw invalid(unstorable.map(({ path, message }) => ({ field: path.join('.'), message })))
  const type = input.type ?? 'boolean'
  const defaultVariant = input.defaultVariant ?? 'on'
  const offVariant = input.offVariant ?? 'off'

  const variants: Record<string, JsonValue> = {}
  const put = (field: string, name: string, raw: unknown): void => {
    const result = coerceValue(raw, type)
    if ('problem' in result) problem(field, result.problem)
    else variants[name] = result.value
  }
  for (const [name, raw] of Object.entries(input.variants ?? {})) {
    if (!VARIANT_NAME.test(name)) problem(`variants.${name}`, `variant names must match ${VARIANT_NAME_PATTERN}`)
    // default_value / off_value replace these two; checking the old values (say, after a type change) would be wrong.
    else if (!(name === defaultVariant && input.defaultValue !== undefined) && !(name === offVariant && input.offValue !== undefined)) {
      put(`variants.${name}`, name, raw)
    }
  }
  if (input.defaultValue !== undefined) put('defaultValue', defaultVariant, input.defaultValue)
  if (input.offValue !== undefined) put('offValue', offVariant, input.offValue)
  const failed = (field: string): boolean => problems.some((p) => p.field === field)
  if (!(defaultVariant in variants) && !failed('defaultValue') && !failed(`variants.${defaultVariant}`)) {
    if (input.variants == null && type === 'boolean') variants[defaultVariant] = true
    else if (input.variants == null) problem('defaultValue', `is required for a ${type} flag (or give variants and default_variant)`)
    else problem('defaultVariant', `"${defaultVariant}" is not one of the variants (${Object.keys(variants).join(', ')})`)
  }
  if (!(offVariant in variants) && !failed('offValue') && !failed(`variants.${offVariant}`)) variants[offVariant] = OFF_DEFAULTS[type]

  const targetingRules = normalizeTargeting(input.targetingRules ?? {}, variants, problem)

  const metadata: FlagState['metadata'] = {}
  for (const [key, value] of Object.entries(input.metadata ?? {})) {
    if (key.length === 0 || key.length > LIMITS.metadataKey) problem(`metadata.${key.slice(0, LIMITS.metadataKey)}`, `keys must be 1 to ${LIMITS.metadataKey} characters`)
    else if (value !== null) metadata[key] = value
  }
  const bucketingSeed = input.bucketingSeed ?? name
  // The HTTP validator checks the length too; the CLI and the library come here directly.
  if (bucketingSeed.length > LIMITS.bucketingSeed) problem('bucketingSeed', `must be at most ${LIMITS.bucketingSeed} characters`)
  if (problems.length > 0) throw invalid(problems)
  return {
    bucketingSeed,
    description: input.description ?? '',
    type,
    enabled: input.enabled ?? true,
    variants,
    defaultVariant,
    offVariant,
    targetingRules,
    tags: [...new Set(input.tags ?? [])],
    metadata
  }
}

function normalizeTargeting (
  tr: TargetingInput,
  variants: Record<string, JsonValue>,
  problem: (field: string, message: string) => void
): TargetingRules {
  const userIds = [...new Set((tr.user_ids ?? []).map(String))]
  const customerIds = [...new Set((tr.customer_ids ?? []).map(String))]
  const ids = new Set<string>()
  const rules: Rule[] = (tr.rules ?? []).map((rule, i) => {
    const id = rule.id ?? `rule-${i + 1}`
    if (ids.has(id)) problem(`targetingRules.rules.${i}.id`, `"${id}" is already the id of an earlier rule`)
    ids.add(id)
    // Operators, values, regexes and served variants are checked when the engine compiles the flag.
    return { ...rule, id, clauses: rule.clauses.map((c) => ({ ...c, values: c.values ?? [] })) }
  })
  // Null members (a merge patch's removals) are gone once the patch is merged; the loop below refuses any left.
  const rollout = (tr.rollout ?? null) as Record<string, number> | null
  let percentage = tr.percentage ?? null
  if (rollout !== null) {
    if (percentage !== null) problem('targetingRules', 'give either percentage or rollout, not both')
    let total = 0
    for (const [name, weight] of Object.entries(rollout)) {
      // A merge patch's null members are gone by now; anything else that is not a weight is refused here.
      if (typeof weight !== 'number') { problem(`targetingRules.rollout.${name}`, 'must be a number'); continue }
      if (!(name in variants)) problem(`targetingRules.rollout.${name}`, `"${name}" is not one of the variants (${Object.keys(variants).join(', ')})`)
      if (!hasTwoDecimals(weight)) problem(`targetingRules.rollout.${name}`, 'weights take at most two decimals')
      total += weight
    }
    if (total <= 0) problem('targetingRules.rollout', 'weights must add up to more than 0')
  } else {
    // Stored explicitly: "target alice and bob" means only them; no targeting means on for everyone.
    percentage ??= userIds.length > 0 || customerIds.length > 0 || rules.length > 0 ? 0 : 100
    if (!hasTwoDecimals(percentage)) problem('targetingRules.percentage', 'takes at most two decimals')
  }
  const bucketBy = tr.bucket_by ?? 'user_id'
  if (!ATTRIBUTE_NAME_RULE.test(bucketBy)) problem('targetingRules.bucket_by', ATTRIBUTE_NAME_RULE.message)
  return { user_ids: userIds, customer_ids: customerIds, rules, percentage, rollout, bucket_by: bucketBy }
}

/** RFC 7396 JSON Merge Patch: objects merge, arrays and scalars replace, null removes. */
export function mergePatch (target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target)
    ? { ...(target as Record<string, unknown>) }
    : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}

/** A stored flag in its written form, the base a merge patch applies to. */
export function writtenForm (flag: StoredFlag): FlagSpec {
  return {
    bucketingSeed: flag.bucketingSeed,
    description: flag.description,
    type: flag.type,
    enabled: flag.enabled,
    variants: flag.variants,
    defaultVariant: flag.defaultVariant,
    offVariant: flag.offVariant,
    targetingRules: { ...flag.targetingRules },
    tags: flag.tags,
    metadata: flag.metadata
  }
}
