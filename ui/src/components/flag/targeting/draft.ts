import type { Flag, Schemas } from '../../../api/client.js'
import { parseValue, valueText, type FlagType } from '../../ValueInput.js'

export type Operator = Schemas['Operator']
type ApiRule = Schemas['Rule']
type ApiClause = Schemas['Clause']

/** How a clause's values are entered: the operator decides (SPEC §2.2). */
export type ValueKind = 'list' | 'text' | 'number' | 'date' | 'semver' | 'regex' | 'none'

export const OPERATORS: Array<{ value: Operator, label: string, kind: ValueKind }> = [
  { value: 'in', label: 'in: is one of', kind: 'list' },
  { value: 'not_in', label: 'not_in: is none of', kind: 'list' },
  { value: 'eq', label: 'eq: equals', kind: 'text' },
  { value: 'neq', label: 'neq: does not equal', kind: 'text' },
  { value: 'contains', label: 'contains', kind: 'list' },
  { value: 'starts_with', label: 'starts_with', kind: 'list' },
  { value: 'ends_with', label: 'ends_with', kind: 'list' },
  { value: 'matches', label: 'matches: regular expression', kind: 'regex' },
  { value: 'lt', label: 'lt: less than (number)', kind: 'number' },
  { value: 'lte', label: 'lte: at most (number)', kind: 'number' },
  { value: 'gt', label: 'gt: greater than (number)', kind: 'number' },
  { value: 'gte', label: 'gte: at least (number)', kind: 'number' },
  { value: 'before', label: 'before: earlier than (date)', kind: 'date' },
  { value: 'after', label: 'after: later than (date)', kind: 'date' },
  { value: 'semver_eq', label: 'semver_eq: version equals', kind: 'semver' },
  { value: 'semver_lt', label: 'semver_lt: version below', kind: 'semver' },
  { value: 'semver_lte', label: 'semver_lte: version at most', kind: 'semver' },
  { value: 'semver_gt', label: 'semver_gt: version above', kind: 'semver' },
  { value: 'semver_gte', label: 'semver_gte: version at least', kind: 'semver' },
  { value: 'exists', label: 'exists: is present', kind: 'none' }
]
export const kindOf = (operator: Operator): ValueKind => OPERATORS.find((o) => o.value === operator)?.kind ?? 'list'
/** Operators comparing strings, where `case_insensitive` means something. */
export const takesCase = (operator: Operator): boolean => ['list', 'text', 'regex'].includes(kindOf(operator))

/** Weights as typed: variant → number, '' for "not in this rollout". */
export type Weights = Record<string, number | ''>

export interface DraftClause { key: string, attribute: string, operator: Operator, values: string[], negate: boolean, caseInsensitive: boolean }
export interface DraftRule {
  key: string
  id: string
  description: string
  clauses: DraftClause[]
  serve: { kind: 'variant' | 'rollout', variant: string, weights: Weights }
}
/** A variant as edited: `text` is what the value input holds (ValueInput's text form). */
export interface DraftVariant { key: string, name: string, text: string }

/** What the form edits: the flag's variants (every environment) and this environment's serving. */
export interface Draft {
  type: FlagType
  variants: DraftVariant[]
  defaultVariant: string
  offVariant: string
  userIds: string[]
  customerIds: string[]
  /** The fallthrough: a percentage of the default variant, or weights per variant (percentage is then null). */
  mode: 'percentage' | 'rollout'
  percentage: number | ''
  weights: Weights
  bucketBy: string
  rules: DraftRule[]
}

let counter = 0
/** A key for React lists that survives renames and moves. */
export const newKey = (): string => `k${++counter}`

const weightsOf = (rollout: Record<string, number> | null | undefined): Weights => ({ ...(rollout ?? {}) })

function clauseOf (c: ApiClause): DraftClause {
  return {
    key: newKey(),
    attribute: c.attribute,
    operator: c.operator,
    values: (c.values ?? []).map(String),
    negate: c.negate === true,
    caseInsensitive: c.case_insensitive === true
  }
}

function ruleOf (r: ApiRule, i: number): DraftRule {
  const rollout = 'rollout' in r.serve ? r.serve.rollout : null
  return {
    key: newKey(),
    id: r.id ?? `rule-${i + 1}`,
    description: r.description ?? '',
    clauses: r.clauses.map(clauseOf),
    serve: { kind: rollout === null ? 'variant' : 'rollout', variant: 'variant' in r.serve ? r.serve.variant : '', weights: weightsOf(rollout) }
  }
}

/** The form's state for a flag as the server has it. */
export function draftOf (flag: Flag): Draft {
  const tr = flag.targeting_rules
  return {
    type: flag.type,
    variants: Object.entries(flag.variants).map(([name, value]) => ({ key: newKey(), name, text: valueText(flag.type, value) })),
    defaultVariant: flag.default_variant,
    offVariant: flag.off_variant,
    userIds: [...tr.user_ids],
    customerIds: [...tr.customer_ids],
    mode: tr.rollout === null ? 'percentage' : 'rollout',
    percentage: tr.percentage ?? 100,
    weights: weightsOf(tr.rollout),
    bucketBy: tr.bucket_by,
    rules: tr.rules.map(ruleOf)
  }
}

export const emptyClause = (): DraftClause => ({ key: newKey(), attribute: '', operator: 'in', values: [], negate: false, caseInsensitive: false })

/** The weights that take part: those typed, of variants that exist. */
export function weightsToSend (weights: Weights, variantNames: string[]): Record<string, number> {
  return Object.fromEntries(variantNames.filter((n) => typeof weights[n] === 'number').map((n) => [n, weights[n] as number]))
}

/** A clause value as sent: numbers for the numeric operators (and epoch-ms dates), text otherwise. */
function valueToSend (kind: ValueKind, text: string): string | number {
  if ((kind === 'number' || (kind === 'date' && /^\d+$/.test(text))) && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text)
  return text
}

function clauseToSend (c: DraftClause): ApiClause {
  const kind = kindOf(c.operator)
  const values = kind === 'none' ? [] : kind === 'list' || kind === 'regex' ? c.values : c.values.slice(0, 1)
  return {
    attribute: c.attribute.trim(),
    operator: c.operator,
    values: values.map((v) => valueToSend(kind, v)),
    ...(c.negate ? { negate: true } : {}),
    ...(c.caseInsensitive && takesCase(c.operator) ? { case_insensitive: true } : {})
  }
}

export function rulesToSend (draft: Draft): ApiRule[] {
  const names = draft.variants.map((v) => v.name)
  return draft.rules.map((r) => ({
    id: r.id.trim(),
    ...(r.description.trim() === '' ? {} : { description: r.description.trim() }),
    clauses: r.clauses.map(clauseToSend),
    serve: r.serve.kind === 'variant' ? { variant: r.serve.variant } : { rollout: weightsToSend(r.serve.weights, names) }
  }))
}

/** The draft in the API's terms (variant values parsed; unparsable ones kept as their text, to compare). */
export function apiForm (draft: Draft) {
  const names = draft.variants.map((v) => v.name)
  const variants: Record<string, unknown> = {}
  for (const v of draft.variants) {
    const parsed = parseValue(draft.type, v.text)
    variants[v.name] = parsed instanceof Error ? { unparsed: v.text } : parsed
  }
  return {
    variants,
    default_variant: draft.defaultVariant,
    off_variant: draft.offVariant,
    targeting_rules: {
      user_ids: draft.userIds,
      customer_ids: draft.customerIds,
      rules: rulesToSend(draft),
      percentage: draft.mode === 'percentage' ? draft.percentage : null,
      rollout: draft.mode === 'rollout' ? weightsToSend(draft.weights, names) : null,
      bucket_by: draft.bucketBy.trim()
    }
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Whether the form says something other than the flag `baseForm` is the apiForm of (so reformatting is no change). */
export const isDirty = (baseForm: ReturnType<typeof apiForm>, draft: Draft): boolean => !same(baseForm, apiForm(draft))

/** Whether two versions of a flag serve alike apart from the kill switch (which is saved on its own). */
export const sameConfiguration = (a: Flag, b: Flag): boolean => a.type === b.type && same(apiForm(draftOf(a)), apiForm(draftOf(b)))

/**
 * The JSON Merge Patch (RFC 7396) from `base` to `draft`: only what changed. Objects merge on the server,
 * so a variant or weight that is gone is sent as null; json values go as JSON text (the server parses
 * it), so a new object replaces the old one instead of merging into it, and a null value is not a removal.
 */
export function patchOf (base: Flag, draft: Draft): Schemas['FlagPatch'] {
  const from = apiForm(draftOf(base))
  const to = apiForm(draft)
  const patch: Schemas['FlagPatch'] = {}
  const variants: Record<string, unknown> = {}
  for (const v of draft.variants) {
    if (v.name in from.variants && same(from.variants[v.name], to.variants[v.name])) continue
    variants[v.name] = draft.type === 'json' ? JSON.stringify(to.variants[v.name]) : to.variants[v.name]
  }
  for (const name of Object.keys(from.variants)) if (!(name in to.variants)) variants[name] = null
  if (Object.keys(variants).length > 0) patch.variants = variants
  if (from.default_variant !== to.default_variant) patch.default_variant = to.default_variant
  if (from.off_variant !== to.off_variant) patch.off_variant = to.off_variant

  const a = from.targeting_rules
  const b = to.targeting_rules
  const tr: NonNullable<Schemas['FlagPatch']['targeting_rules']> = {}
  if (!same(a.user_ids, b.user_ids)) tr.user_ids = b.user_ids
  if (!same(a.customer_ids, b.customer_ids)) tr.customer_ids = b.customer_ids
  if (!same(a.rules, b.rules)) tr.rules = b.rules
  if (b.bucket_by !== a.bucket_by) tr.bucket_by = b.bucket_by
  if (b.rollout === null) {
    if (a.percentage !== b.percentage) tr.percentage = b.percentage === '' ? null : b.percentage
    if (a.rollout !== null) tr.rollout = null
  } else {
    const weights = b.rollout
    if (!same(a.rollout, weights)) {
      const removed = Object.keys(a.rollout ?? {}).filter((n) => !(n in weights))
      tr.rollout = { ...weights, ...Object.fromEntries(removed.map((n) => [n, null])) }
    }
    if (a.percentage !== null) tr.percentage = null
  }
  if (Object.keys(tr).length > 0) patch.targeting_rules = tr
  return patch
}
