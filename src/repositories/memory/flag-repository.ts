import { FlagExistsError } from '../../errors.js'
import type { ApiKeyRepository, AuditEntry, FlagRepository, StoredApiKey, StoredFlag } from '../flag-repository.js'

interface LogRow extends AuditEntry { id: number, at: Date }

/**
 * In-memory FlagRepository: the fake the contract suite holds to the same behaviour as SQL.
 * Values are cloned in and out so callers can never mutate the store by accident.
 */
export function createMemoryFlagRepository (): FlagRepository & { log: LogRow[] } {
  const byId = new Map<string, StoredFlag>()
  const log: LogRow[] = []
  const clone = (f: StoredFlag): StoredFlag => structuredClone(f)
  const byName = (name: string): StoredFlag | undefined => [...byId.values()].find((f) => f.name === name)
  const sorted = (): StoredFlag[] => [...byId.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const append = (audit: AuditEntry): number => {
    const id = log.length + 1
    log.push({ id, at: new Date(), ...structuredClone(audit) })
    return id
  }

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
      return append(audit)
    },
    async latestRevision () { return log.length },
    async changesSince (revision, limit) {
      const rows = log.slice(revision, revision + limit)
      return { revision: rows.at(-1)?.id ?? revision, names: [...new Set(rows.flatMap((r) => r.names))] }
    }
  }
}

/** In-memory ApiKeyRepository. */
export function createMemoryApiKeyRepository (): ApiKeyRepository {
  const keys: StoredApiKey[] = []
  return {
    async all () { return keys.map((k) => ({ ...k })) },
    async add (key) { keys.push({ ...key }) }
  }
}
