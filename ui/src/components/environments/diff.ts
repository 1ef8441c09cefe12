import type { Schemas } from '../../api/client.js'

export type PromotedFlag = Schemas['PromotedFlag']

/** One line of a flag's diff: a setting, its value in the target now, and after the promotion. */
export interface DiffRow { setting: string, from: string[], to: string[] }

const LABELS: Record<string, string> = {
  enabled: 'Enabled (kill switch)',
  default_variant: 'Variant when on',
  off_variant: 'Variant when off',
  user_ids: 'Targeted users',
  customer_ids: 'Targeted customers',
  rules: 'Rules',
  percentage: 'Percentage on',
  rollout: 'Rollout',
  bucket_by: 'Bucket by'
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function weights (rollout: unknown): string {
  return isObject(rollout) ? Object.entries(rollout).map(([variant, weight]) => `${variant} ${String(weight)} %`).join(', ') : JSON.stringify(rollout)
}

interface RuleLike { id?: string, description?: string, clauses?: Array<{ attribute: string, operator: string, values?: unknown[], negate?: boolean }>, serve?: { variant?: string, rollout?: unknown } }

/** A rule in one line: `EU beta: country in DE, FR and app_version semver_gte 2.3.0 → on`. */
function ruleLine (rule: RuleLike, index: number): string {
  const clauses = (rule.clauses ?? []).map((c) => `${c.negate === true ? 'not ' : ''}${c.attribute} ${c.operator}${c.values === undefined || c.values.length === 0 ? '' : ` ${c.values.map(String).join(', ')}`}`)
  const serve = rule.serve?.variant ?? (rule.serve?.rollout === undefined ? '?' : weights(rule.serve.rollout))
  const name = rule.description !== undefined && rule.description !== '' ? rule.description : (rule.id ?? `rule ${index + 1}`)
  return `${name}: ${clauses.length === 0 ? 'always' : clauses.join(' and ')} → ${serve}`
}

/** A value as a person reads it, one line per item where it is a list. */
export function readable (setting: string, value: unknown): string[] {
  if (value === null || value === undefined) return ['(none)']
  if (setting === 'enabled' && typeof value === 'boolean') return [value ? 'on' : 'off']
  if (setting === 'percentage' && typeof value === 'number') return [`${value} %`]
  if (setting === 'rollout') return [weights(value)]
  if (setting === 'rules' && Array.isArray(value)) return value.length === 0 ? ['(none)'] : value.map((r, i) => ruleLine(r as RuleLike, i))
  if (Array.isArray(value)) return value.length === 0 ? ['(none)'] : [value.map((v) => typeof v === 'string' ? v : JSON.stringify(v)).join(', ')]
  return [typeof value === 'string' ? value : JSON.stringify(value)]
}

/** A flag's changes as rows; targeting rules are split into the parts that differ. */
export function diffRows (changes: PromotedFlag['changes']): DiffRow[] {
  const rows: DiffRow[] = []
  for (const [field, { from, to }] of Object.entries(changes)) {
    if (field === 'targeting_rules' && isObject(from) && isObject(to)) {
      for (const part of new Set([...Object.keys(from), ...Object.keys(to)])) {
        if (same(from[part], to[part])) continue
        rows.push({ setting: `Targeting: ${LABELS[part] ?? part}`, from: readable(part, from[part]), to: readable(part, to[part]) })
      }
    } else {
      rows.push({ setting: LABELS[field] ?? field, from: readable(field, from), to: readable(field, to) })
    }
  }
  return rows
}

/** How the target's overrides of a flag change, in words. */
export function overridesLine (overrides: NonNullable<PromotedFlag['overrides']>): string {
  const { added, removed, changed } = overrides
  if (added + removed + changed === 0) return 'Overrides: already the same'
  return `Overrides: ${added} added, ${removed} removed, ${changed} changed`
}
