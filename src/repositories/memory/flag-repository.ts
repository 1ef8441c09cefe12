import { FlagExistsError } from '../../errors.js'
import { collectChanges } from '../change-set.js'
import type { ApiKeyRepository, AuditEntry, FlagRepository, StoredApiKey, StoredFlag } from '../flag-repository.js'

export interface LogRow extends AuditEntry { id: number, at: Date }

/** State shared by the in-memory repositories, as tables are shared in one database. */
export interface MemoryStore {
  flags: Map<string, StoredFlag>
  log: LogRow[]
  /** Called when a flag row is deleted (the overrides' ON DELETE CASCADE). */
  onFlagDeleted: Array<(id: string) => void>
}

export const createMemoryStore = (): MemoryStore => ({ flags: new Map(), log: [], onFlagDeleted: [] })

/** Append a change-log row; its id is the new revision. */
export function appendMemoryLog (store: MemoryStore, audit: AuditEntry): number {
  const id = store.log.length + 1
  store.log.push({ id, at: new Date(), ...structuredClone(audit) })
  return id
}

/**
 * In-memory FlagRepository: the fake the contract suite holds to the same behaviour as SQL.
 * Values are cloned in and out so callers can never mutate the store by accident.
 */
export function createMemoryFlagRepository (store: MemoryStore = createMemoryStore()): FlagRepository & { log: LogRow[] } {
  const byId = store.flags
  const log = store.log
  const clone = (f: StoredFlag): StoredFlag => structuredClone(f)
  const byName = (name: string): StoredFlag | undefined => [...byId.values()].find((f) => f.name === name)
  const sorted = (): StoredFlag[] => [...byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const append = (audit: AuditEntry): number => appendMemoryLog(store, audit)

  return {
    log,
    async get (name) { const f = byName(name); return f && clone(f) },
    async getMany (names) { const wanted = new Set(names); return sorted().filter((f) => wanted.has(f.name)).map(clone) },
    async all () { return sorted().map(clone) },
    async list ({ limit, after, tag, q }) {
      const needle = q?.toLowerCase()
      return sorted()
        .filter((f) => after === undefined || f.name > after)
        .filter((f) => tag === undefined || f.tags.includes(tag))
        .filter((f) => needle === undefined || f.name.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle))
        .slice(0, limit).map(clone)
    },
    async create (flag, audit) {
      if (byName(flag.name) !== undefined || byId.has(flag.id)) throw new FlagExistsError(flag.name)
      byId.set(flag.id, clone(flag))
      return append(audit)
    },
    async update (flag, expectedVersion, audit) {
      const current = byId.get(flag.id)
      if (current === undefined || current.version !== expectedVersion) return null
      const clash = byName(flag.name)
      if (clash !== undefined && clash.id !== flag.id) throw new FlagExistsError(flag.name)
      byId.set(flag.id, { ...clone(flag), createdAt: current.createdAt })
      return append(audit)
    },
    async delete (id, expectedVersion, audit) {
      const current = byId.get(id)
      if (current === undefined || current.version !== expectedVersion) return null
      byId.delete(id)
      for (const cascade of store.onFlagDeleted) cascade(id)
      return append(audit)
    },
    async latestRevision () { return log.length },
    async changesSince (revision, limit) {
      return collectChanges(log.slice(revision, revision + limit), revision)
    }
  }
}

/** In-memory ApiKeyRepository; its writes append to the store's change log like the others. */
export function createMemoryApiKeyRepository (store: MemoryStore = createMemoryStore()): ApiKeyRepository {
  const keys: StoredApiKey[] = []
  return {
    async all () { return keys.map((k) => ({ ...k })) },
    async addFirst (key, audit) {
      if (keys.length > 0) return null
      keys.push({ ...key })
      return appendMemoryLog(store, audit)
    }
  }
}
