/** One change-log row as history reads it back (SPEC §11). */
export interface ChangeEntry {
  /** The row's id: the global revision the write made. */
  revision: number
  at: Date
  actor: string
  action: string
  /** The environment the change was made in; null for what is global (customers, users, keys). */
  environment: string | null
  /** The flag the change is about, by id (what its history follows across renames) and by name. */
  flagId: string | null
  flag: string | null
  before: unknown
  after: unknown
}

/** Which entries a reader may see: what its key covers. */
export interface ChangeVisibility {
  /** Environment-scoped entries of these environments only; undefined: every environment. */
  environments?: readonly string[]
  /** Whether `api_key.*` entries are shown (they describe admin resources). */
  apiKeys: boolean
}

export interface ChangeQuery {
  limit: number
  /** Newest first (the API's default) or oldest first (stream replay). */
  order: 'asc' | 'desc'
  /** Keyset paging: only entries past this revision in `order`. */
  after?: number
  /** Entries about the flag with this id (its history), or recorded under this name. */
  flagId?: string
  flag?: string
  environment?: string
  actor?: string
  /** An exact action (`flag.update`), or a group (`flag`: every `flag.*`). */
  action?: string
  /** Inclusive revision range. */
  fromRevision?: number
  toRevision?: number
  /** Time range: at ≥ since, at < until. */
  since?: Date
  until?: Date
  visibility?: ChangeVisibility
}

/** The change log, read (writers append to it inside their own transactions). */
export interface ChangeLogRepository {
  list (query: ChangeQuery): Promise<ChangeEntry[]>
  /** Delete entries written before `before`, always keeping the latest; answers how many went. */
  prune (before: Date): Promise<number>
}

/** Whether a reader with `visibility` may see an entry (what the SQL of a query with it says). */
export const isVisible = (entry: Pick<ChangeEntry, 'environment' | 'action'>, visibility: ChangeVisibility): boolean =>
  (visibility.environments === undefined || entry.environment === null || visibility.environments.includes(entry.environment)) &&
  (visibility.apiKeys || entry.environment !== null || !entry.action.startsWith('api_key.'))

/** How `action` filters: a value with a dot is one action, one without is its group. */
export const actionFilter = (action: string): { exact: string } | { prefix: string } =>
  action.includes('.') ? { exact: action } : { prefix: `${action}.` }
