import type { ChangeEntry } from '../repositories/change-log-repository.js'

/** A change-log entry as the API, the CLI's --json and the change stream show it (SPEC §11). */
export interface ChangeBody {
  revision: number
  at: string
  actor: string
  action: string
  environment: string | null
  flag: string | null
  before: unknown
  after: unknown
  changed: string[]
}

/** Fields every write moves, or that annotate the entry: they say nothing about what changed. */
const BOOKKEEPING = new Set(['version', 'created_at', 'updated_at', 'createdAt', 'updatedAt', 'last_used_at', 'lastUsedAt', 'promoted_from', 'reverted_to'])

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * The fields that differ between before and after: top-level names, and one level down in objects
 * (`targeting_rules.percentage`, `variants.on`), in the order they appear. A creation or a deletion
 * lists every field of the side there is.
 */
export function changedFields (before: unknown, after: unknown): string[] {
  if (!isObject(before) && !isObject(after)) return []
  const b = isObject(before) ? before : {}
  const a = isObject(after) ? after : {}
  const changed: string[] = []
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (BOOKKEEPING.has(key) || same(b[key], a[key])) continue
    const inner = b[key]
    const outer = a[key]
    if (isObject(inner) && isObject(outer)) {
      for (const sub of new Set([...Object.keys(inner), ...Object.keys(outer)])) {
        if (!same(inner[sub], outer[sub])) changed.push(`${key}.${sub}`)
      }
      // Same members in another order (variants, rollout weights: order decides bucketing).
      if (changed.at(-1)?.startsWith(`${key}.`) !== true) changed.push(key)
    } else {
      changed.push(key)
    }
  }
  return changed
}

export const toChangeBody = (entry: ChangeEntry): ChangeBody => ({
  revision: entry.revision,
  at: entry.at.toISOString(),
  actor: entry.actor,
  action: entry.action,
  environment: entry.environment,
  flag: entry.flag,
  before: entry.before ?? null,
  after: entry.after ?? null,
  changed: changedFields(entry.before, entry.after)
})
