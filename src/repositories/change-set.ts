import type { ChangeSet, OverrideKey } from './flag-repository.js'

interface LogLike { id: number, names: string[], users?: string[], overrides?: OverrideKey[] }

/** Fold change-log rows into one change set: what a cache must refresh, each thing once. */
export function collectChanges (rows: LogLike[], revision: number): ChangeSet {
  const names = new Set<string>()
  const users = new Set<string>()
  const overrides = new Map<string, OverrideKey>()
  for (const row of rows) {
    for (const name of row.names) names.add(name)
    for (const user of row.users ?? []) users.add(user)
    for (const key of row.overrides ?? []) overrides.set(JSON.stringify(key), key)
  }
  return { revision: rows.at(-1)?.id ?? revision, names: [...names], users: [...users], overrides: [...overrides.values()] }
}
