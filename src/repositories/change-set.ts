import type { ChangeSet, OverrideKey } from './flag-repository.js'

interface LogLike { id: number, action: string, names: string[], users?: string[], overrides?: OverrideKey[] }

/** Fold change-log rows into one change set: what a cache must refresh, each thing once. */
export function collectChanges (rows: LogLike[], revision: number): ChangeSet {
  const names = new Set<string>()
  const users = new Set<string>()
  const overrides = new Map<string, OverrideKey>()
  let environments = false
  for (const row of rows) {
    if (row.action.startsWith('environment.')) environments = true
    for (const name of row.names) names.add(name)
    for (const user of row.users ?? []) users.add(user)
    for (const key of row.overrides ?? []) {
      // A row from before environments names no environment: the flag is reloaded whole instead.
      if (key[3] === undefined) names.add(key[0])
      else overrides.set(JSON.stringify(key), key)
    }
  }
  return { revision: rows.at(-1)?.id ?? revision, environments, names: [...names], users: [...users], overrides: [...overrides.values()] }
}
