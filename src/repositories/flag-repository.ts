import type { ApiKeyRole, OverrideKey } from '../db/schema/shared.js'
import type { FlagType, JsonValue, TargetingRules } from '../engine/types.js'

export type { OverrideKey }

/**
 * A flag as stored, seen in one environment: its definition (name, type, variants, description, tags,
 * metadata, bucketing seed, version, timestamps: one for every environment) and its configuration in
 * `environment` (enabled, default and off variant, targeting). Timestamps are Dates; JSON columns are
 * already parsed. `version` and `updatedAt` are the flag's: they move with a change in any environment.
 */
export interface StoredFlag {
  id: string
  name: string
  environment: string
  /** What rollouts hash before the bucket value: the first name unless set, kept on rename. */
  bucketingSeed: string
  description: string
  type: FlagType
  enabled: boolean
  variants: Record<string, JsonValue>
  defaultVariant: string
  offVariant: string
  targetingRules: TargetingRules
  tags: string[]
  metadata: Record<string, string | number | boolean>
  version: number
  createdAt: Date
  updatedAt: Date
}

/** What a write records in the change log, in the same transaction as the write. */
export interface AuditEntry {
  actor: string
  action: string
  /** The environment the change was made in; absent for what is global (customers, users, keys). */
  environment?: string | null
  /** The one flag the write is about (flag and override writes): its id, and its name after the write. */
  flagId?: string | null
  flag?: string | null
  /** Flag names the write touched: what caches must refresh. */
  names: string[]
  /** Users whose registration (and so inferred customer) the write changed. */
  users?: string[]
  /** Single overrides the write set or cleared (their flags need no full reload). */
  overrides?: OverrideKey[]
  before: unknown
  after: unknown
}

export interface FlagListQuery {
  limit: number
  /** Return flags whose name sorts after this one (keyset pagination). */
  after?: string
  tag?: string
  /** Case-insensitive substring of name or description. */
  q?: string
}

export interface ChangeSet {
  /** The highest revision read. */
  revision: number
  /** An environment was created, changed or deleted: caches reload everything. */
  environments: boolean
  names: string[]
  users: string[]
  overrides: OverrideKey[]
}

/**
 * The flag store. Each write method is one transaction that also appends the change-log row,
 * and returns the new revision (the change-log id). Writes that lose an optimistic-concurrency
 * race return `null` instead of writing; unique-name violations throw FlagExistsError.
 */
export interface FlagRepository {
  /** The flag in one environment. */
  get (environment: string, name: string): Promise<StoredFlag | undefined>
  /** These flags in every environment (what caches reload), by name then environment. */
  getMany (names: string[]): Promise<StoredFlag[]>
  /** Every flag in every environment, by name then environment. */
  all (): Promise<StoredFlag[]>
  /** One environment's flags, by name. */
  list (environment: string, query: FlagListQuery): Promise<StoredFlag[]>
  /**
   * Store a new flag: its definition, its configuration in `flag.environment`, and in every other
   * environment `offElsewhere` of it.
   */
  create (flag: StoredFlag, audit: AuditEntry): Promise<number>
  /**
   * Replace the definition of the flag with id `flag.id` and its configuration in `flag.environment`,
   * if its stored version is still `expectedVersion`.
   */
  update (flag: StoredFlag, expectedVersion: number, audit: AuditEntry): Promise<number | null>
  /**
   * Several such replacements in one transaction (promote): each with its own change-log row, and,
   * for those with `overrides`, the target environment's overrides of that flag replaced by them.
   * Null (and nothing written) when any version moved.
   */
  updateMany (changes: FlagUpdate[]): Promise<number | null>
  /** Delete the flag with this id if its stored version is still `expectedVersion`. */
  delete (id: string, expectedVersion: number, audit: AuditEntry): Promise<number | null>
  /** The latest revision (0 when nothing was ever written). */
  latestRevision (): Promise<number>
  /** Names touched by revisions after `revision`, up to `limit` revisions. */
  changesSince (revision: number, limit: number): Promise<ChangeSet>
}

/** A StoredFlag's fields that come from `flag_environments`; every other comes from `flags`. */
type ConfigurationColumn = 'environment' | 'enabled' | 'defaultVariant' | 'offVariant' | 'targetingRules'
type FlagColumn = Exclude<keyof StoredFlag, ConfigurationColumn>

/**
 * The columns a StoredFlag is selected from, either dialect's tables: one row of `flags` ⋈
 * `flag_environments` is the definition and one environment's configuration.
 */
export function storedFlagColumns<F extends Record<FlagColumn, unknown>, E extends Record<ConfigurationColumn, unknown>> (flags: F, configuration: E): Pick<F, FlagColumn> & Pick<E, ConfigurationColumn> {
  return {
    id: flags.id,
    name: flags.name,
    environment: configuration.environment,
    bucketingSeed: flags.bucketingSeed,
    description: flags.description,
    type: flags.type,
    enabled: configuration.enabled,
    variants: flags.variants,
    defaultVariant: configuration.defaultVariant,
    offVariant: configuration.offVariant,
    targetingRules: configuration.targetingRules,
    tags: flags.tags,
    metadata: flags.metadata,
    version: flags.version,
    createdAt: flags.createdAt,
    updatedAt: flags.updatedAt
  }
}

/**
 * What a new flag is in the environments other than the one it was created in (SPEC §9): served off
 * (the kill switch), with the same default and off variant, and targeting nobody in particular
 * (every context falls through to 100 %, bucketed by the same attribute). Copying the creating
 * environment's rules instead would tie the flag's variants to rules nobody sees there: removing a
 * variant in the one environment in use would be refused for the copies.
 */
export function offElsewhere<T extends Pick<StoredFlag, 'enabled' | 'targetingRules'>> (configuration: T): T {
  const { bucket_by: bucketBy } = configuration.targetingRules
  return { ...configuration, enabled: false, targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: bucketBy } }
}

/** One replacement of a multi-flag write. */
export interface FlagUpdate {
  flag: StoredFlag
  expectedVersion: number
  audit: AuditEntry
  /** When given: every override of the flag in `flag.environment` becomes exactly these. */
  overrides?: Array<import('./subject-repository.js').StoredOverride>
}

/** An environment (SPEC §9). */
export interface StoredEnvironment {
  key: string
  name: string
  position: number
  createdAt: Date
}

/**
 * Environments. Creating one gives every flag a configuration in it, copied from `copyFrom` and served
 * off; deleting one deletes its configurations and overrides. Each write appends a change-log row with
 * action `environment.*`, so caches reload.
 */
export interface EnvironmentRepository {
  all (): Promise<StoredEnvironment[]>
  get (key: string): Promise<StoredEnvironment | undefined>
  /** Throws EnvironmentExistsError. */
  create (environment: StoredEnvironment, copyFrom: string | undefined, audit: AuditEntry): Promise<number>
  /** null when there is no such environment. */
  update (environment: StoredEnvironment, audit: AuditEntry): Promise<number | null>
  /** null when there is no such environment. */
  delete (key: string, audit: AuditEntry): Promise<number | null>
  /** How many flags there are (each has a configuration in every environment). */
  flagCount (): Promise<number>
  /**
   * Once per database, the first start after the migration: the environment the migration put every
   * existing flag in (`production`) takes the key `defaultKey` when that is another one and free. True
   * when this call did it.
   */
  adoptDefault (defaultKey: string, audit: AuditEntry): Promise<boolean>
}

export type { ApiKeyRole }

/** A managed API key (SPEC §10): never its secret, only the secret's SHA-256 and first characters. */
export interface StoredApiKey {
  id: string
  /** Unique; the actor of the key's writes in the change log. */
  name: string
  keyHash: string
  role: ApiKeyRole
  /** The environments it may address; empty: every one (admin keys). */
  environments: string[]
  prefix: string
  createdAt: Date
  expiresAt: Date | null
  lastUsedAt: Date | null
}

/** Managed API keys; only hashes are ever stored. Writes append a change-log row (`api_key.*`), so every instance reloads its keys. */
export interface ApiKeyRepository {
  /** Every key, by creation time then id. */
  all (): Promise<StoredApiKey[]>
  get (id: string): Promise<StoredApiKey | undefined>
  /** Throws ApiKeyExistsError when the name is taken. */
  create (key: StoredApiKey, audit: AuditEntry): Promise<number>
  /** null when there is no such key. */
  delete (id: string, audit: AuditEntry): Promise<number | null>
  /**
   * When keys were last used (coarse, batched by the caller): last_used_at becomes the later of the
   * stored and the given time. No change-log row: nothing served depends on it.
   */
  touch (uses: Array<{ id: string, at: Date }>): Promise<void>
  /**
   * Store `key` only if no key is stored yet, in one write that also appends the change-log row
   * (so every instance reloads its keys when it catches up). Returns the revision, or null when a
   * key already existed: of instances started together on a fresh database, exactly one wins.
   */
  addFirst (key: StoredApiKey, audit: AuditEntry): Promise<number | null>
}

/** Facts about the database itself. */
export interface MetaRepository {
  /**
   * A random id created once per database (the first caller wins a race): what instances of one
   * deployment share and no other deployment does, e.g. the namespace of their Redis keys.
   */
  deploymentId (): Promise<string>
  /**
   * A random secret created once per database, the same way: the key that signs stream tokens
   * (SPEC §12), so that a token one instance issued is honoured by every other.
   */
  streamSecret (): Promise<string>
}
