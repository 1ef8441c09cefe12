import { ApiKeyExistsError, EnvironmentNotFoundError, FlagExistsError } from '../../errors.js'
import { collectChanges } from '../change-set.js'
import { offElsewhere, type ApiKeyRepository, type AuditEntry, type FlagRepository, type FlagUpdate, type StoredApiKey, type StoredEnvironment, type StoredFlag } from '../flag-repository.js'
import type { StoredOverride } from '../subject-repository.js'

export interface LogRow extends AuditEntry { id: number, at: Date, environment: string | null, flagId: string | null, flag: string | null }

/** The columns of `flags`: what a flag is in every environment. */
export type FlagDefinition = Omit<StoredFlag, 'environment' | keyof FlagConfiguration>
/** The columns of `flag_environments`: what a flag serves in one environment. */
export type FlagConfiguration = Pick<StoredFlag, 'enabled' | 'defaultVariant' | 'offVariant' | 'targetingRules'>

/** State shared by the in-memory repositories, as tables are shared in one database. */
export interface MemoryStore {
  /** `flags`, by id. */
  flags: Map<string, FlagDefinition>
  /** `flag_environments`: flag id → environment key → configuration. */
  configurations: Map<string, Map<string, FlagConfiguration>>
  /** `environments`, by key. */
  environments: Map<string, StoredEnvironment>
  /** `overrides`, by overrideKey(). */
  overrides: Map<string, StoredOverride>
  /** `meta`. */
  meta: Map<string, string>
  log: LogRow[]
}

/** What a fresh migrated database holds: two environments and the marker adoptDefault consumes. */
export function createMemoryStore (): MemoryStore {
  const at = new Date()
  return {
    flags: new Map(),
    configurations: new Map(),
    environments: new Map([
      ['development', { key: 'development', name: 'Development', position: 0, createdAt: at }],
      ['production', { key: 'production', name: 'Production', position: 1, createdAt: at }]
    ]),
    overrides: new Map(),
    meta: new Map([['adopt_environment', 'production']]),
    log: []
  }
}

/** The primary key of an override row. */
export const overrideKey = (o: Pick<StoredOverride, 'flagId' | 'environment' | 'subject' | 'subjectId'>): string =>
  JSON.stringify([o.flagId, o.environment, o.subject, o.subjectId])

/** What a JSON column gives back: -0 as 0, no undefined members, Dates as strings; nothing at all as null. */
const asJson = (value: unknown): unknown => {
  const text = JSON.stringify(value)
  return text === undefined ? null : JSON.parse(text)
}

/** Append a change-log row; its id is the new revision. */
export function appendMemoryLog (store: MemoryStore, audit: AuditEntry): number {
  const id = store.log.length + 1
  store.log.push({
    id, at: new Date(), ...structuredClone(audit), environment: audit.environment ?? null, flagId: audit.flagId ?? null, flag: audit.flag ?? null, before: asJson(audit.before), after: asJson(audit.after)
  })
  return id
}

/**
 * Run `write` as one transaction: when it throws or returns null, every table is put back as it was
 * (the tables keep their identity: other repositories hold them).
 */
export function atomically<T> (store: MemoryStore, write: () => T): T {
  const saved = structuredClone({ flags: store.flags, configurations: store.configurations, environments: store.environments, overrides: store.overrides, meta: store.meta })
  const logLength = store.log.length
  const restore = (): void => {
    for (const table of ['flags', 'configurations', 'environments', 'overrides', 'meta'] as const) {
      const live = store[table] as Map<string, unknown>
      live.clear()
      for (const [k, v] of saved[table] as Map<string, unknown>) live.set(k, v)
    }
    store.log.length = logLength
  }
  try {
    const result = write()
    if (result === null) restore()
    return result
  } catch (err) {
    restore()
    throw err
  }
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const definitionOf = ({ environment: _e, enabled: _on, defaultVariant: _d, offVariant: _o, targetingRules: _t, ...definition }: StoredFlag): FlagDefinition => structuredClone(definition)
const configurationOf = ({ enabled, defaultVariant, offVariant, targetingRules }: StoredFlag): FlagConfiguration => structuredClone({ enabled, defaultVariant, offVariant, targetingRules })

/**
 * In-memory FlagRepository: the fake the contract suite holds to the same behaviour as SQL.
 * Values are cloned in and out so callers can never mutate the store by accident.
 */
export function createMemoryFlagRepository (store: MemoryStore = createMemoryStore()): FlagRepository & { log: LogRow[] } {
  const { flags, configurations, log } = store
  const byName = (name: string): FlagDefinition | undefined => [...flags.values()].find((f) => f.name === name)
  const sorted = (): FlagDefinition[] => [...flags.values()].sort((a, b) => byCodePoint(a.name, b.name))
  const join = (definition: FlagDefinition, environment: string): StoredFlag | undefined => {
    const configuration = configurations.get(definition.id)?.get(environment)
    return configuration && structuredClone({ ...definition, environment, ...configuration })
  }
  /** The flag in every environment it is configured in, by environment key. */
  const everywhere = (definition: FlagDefinition): StoredFlag[] =>
    [...(configurations.get(definition.id)?.keys() ?? [])].sort(byCodePoint).map((environment) => join(definition, environment)!)
  const append = (audit: AuditEntry): number => appendMemoryLog(store, audit)

  /** What `update` does, inside a transaction: null on a version mismatch, before anything is written. */
  const replace = ({ flag, expectedVersion, audit }: FlagUpdate): number | null => {
    const current = flags.get(flag.id)
    if (current === undefined || current.version !== expectedVersion) return null
    const clash = byName(flag.name)
    if (clash !== undefined && clash.id !== flag.id) throw new FlagExistsError(flag.name)
    const configured = configurations.get(flag.id)!
    if (!configured.has(flag.environment)) throw new EnvironmentNotFoundError(flag.environment)
    flags.set(flag.id, { ...definitionOf(flag), createdAt: current.createdAt })
    configured.set(flag.environment, configurationOf(flag))
    return append(audit)
  }

  return {
    log,
    async get (environment, name) { const f = byName(name); return f && join(f, environment) },
    async getMany (names) { const wanted = new Set(names); return sorted().filter((f) => wanted.has(f.name)).flatMap(everywhere) },
    async all () { return sorted().flatMap(everywhere) },
    async list (environment, { limit, after, tag, q }) {
      const needle = q?.toLowerCase()
      return sorted()
        .filter((f) => after === undefined || f.name > after)
        .filter((f) => tag === undefined || f.tags.includes(tag))
        .filter((f) => needle === undefined || f.name.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle))
        .flatMap((f) => join(f, environment) ?? [])
        .slice(0, limit)
    },
    async create (flag, audit) {
      if (!store.environments.has(flag.environment)) throw new EnvironmentNotFoundError(flag.environment)
      if (byName(flag.name) !== undefined || flags.has(flag.id)) throw new FlagExistsError(flag.name)
      flags.set(flag.id, definitionOf(flag))
      const configuration = configurationOf(flag)
      configurations.set(flag.id, new Map([...store.environments.keys()].map((environment) =>
        [environment, structuredClone(environment === flag.environment ? configuration : offElsewhere(configuration))])))
      return append(audit)
    },
    async update (flag, expectedVersion, audit) {
      return replace({ flag, expectedVersion, audit })
    },
    async updateMany (changes) {
      if (changes.length === 0) return log.length
      return atomically(store, () => {
        let revision: number | null = null
        for (const change of changes) {
          revision = replace(change)
          if (revision === null) return null
          if (change.overrides === undefined) continue
          const { id } = change.flag
          const { environment } = change.flag
          for (const [k, o] of store.overrides) if (o.flagId === id && o.environment === environment) store.overrides.delete(k)
          for (const o of change.overrides) {
            const row = { ...structuredClone(o), flagId: id, environment }
            store.overrides.set(overrideKey(row), row)
          }
        }
        return revision
      })
    },
    async delete (id, expectedVersion, audit) {
      const current = flags.get(id)
      if (current === undefined || current.version !== expectedVersion) return null
      flags.delete(id)
      configurations.delete(id)
      for (const [k, o] of store.overrides) if (o.flagId === id) store.overrides.delete(k)
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
  const copy = (k: StoredApiKey): StoredApiKey => structuredClone(k)
  return {
    async all () { return [...keys].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1)).map(copy) },
    async get (id) { const k = keys.find((k) => k.id === id); return k && copy(k) },
    async create (key, audit) {
      if (keys.some((k) => k.name === key.name)) throw new ApiKeyExistsError(key.name)
      keys.push(copy(key))
      return appendMemoryLog(store, audit)
    },
    async addFirst (key, audit) {
      if (keys.length > 0) return null
      keys.push(copy(key))
      return appendMemoryLog(store, audit)
    },
    async delete (id, audit) {
      const at = keys.findIndex((k) => k.id === id)
      if (at < 0) return null
      keys.splice(at, 1)
      return appendMemoryLog(store, audit)
    },
    async touch (uses) {
      for (const { id, at } of uses) {
        const key = keys.find((k) => k.id === id)
        if (key !== undefined && (key.lastUsedAt === null || key.lastUsedAt < at)) key.lastUsedAt = new Date(at)
      }
    }
  }
}
