import type { OverrideKey } from '../db/schema/shared.js'
import type { FlagType, JsonValue, TargetingRules } from '../engine/types.js'

export type { OverrideKey }

/** A flag as stored. Timestamps are Dates; JSON columns are already parsed. */
export interface StoredFlag {
  id: string
  name: string
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
  get (name: string): Promise<StoredFlag | undefined>
  getMany (names: string[]): Promise<StoredFlag[]>
  all (): Promise<StoredFlag[]>
  list (query: FlagListQuery): Promise<StoredFlag[]>
  create (flag: StoredFlag, audit: AuditEntry): Promise<number>
  /** Replace the flag with id `flag.id` if its stored version is still `expectedVersion`. */
  update (flag: StoredFlag, expectedVersion: number, audit: AuditEntry): Promise<number | null>
  /** Delete the flag with this id if its stored version is still `expectedVersion`. */
  delete (id: string, expectedVersion: number, audit: AuditEntry): Promise<number | null>
  /** The latest revision (0 when nothing was ever written). */
  latestRevision (): Promise<number>
  /** Names touched by revisions after `revision`, up to `limit` revisions. */
  changesSince (revision: number, limit: number): Promise<ChangeSet>
}

export interface StoredApiKey {
  id: string
  name: string
  keyHash: string
  scope: 'read' | 'write'
  createdAt: Date
}

/** API keys the service created itself; only hashes are ever stored. */
export interface ApiKeyRepository {
  all (): Promise<StoredApiKey[]>
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
}
