import type { FlagSnapshot } from '../cache/flag-snapshot.js'
import { EnvironmentNotFoundError, FlagNotFoundError, invalidField, RevertConflictError } from '../errors.js'
import type { ChangeEntry, ChangeLogRepository, ChangeQuery, ChangeVisibility } from '../repositories/change-log-repository.js'
import { offElsewhere, type FlagRepository, type StoredFlag } from '../repositories/flag-repository.js'
import type { Principal } from './api-key-service.js'
import { decodeCursor } from './cursor.js'
import type { FlagService, RestoreTarget, WriteOptions } from './flag-service.js'
import { page, type Page, type PageQuery } from './paging.js'

/** The filters of GET /changes (SPEC §11), in domain terms. */
export interface ChangeFilter {
  flag?: string
  environment?: string
  actor?: string
  action?: string
  fromRevision?: number
  toRevision?: number
  since?: Date
  until?: Date
}

/** Revisions in cursors: a positive integer, as the change log's ids. */
const REVISION_CURSOR = /^[1-9]\d{0,15}$/
/** Change-log actions whose `after` is the flag as the write left it, in the environment it was made in. */
const FLAG_STATES = new Set(['flag.create', 'flag.update', 'flag.rename', 'flag.promote', 'flag.revert'])

/**
 * What a reader may see of the change log: entries of the environments its key covers (anonymous
 * readers, with reads open, and admins: every one), global entries, and `api_key.*` for admins only.
 */
export function visibilityOf (principal: Principal | null): ChangeVisibility {
  if (principal === null) return { apiKeys: false }
  if (principal.role === 'admin') return { apiKeys: true }
  return { environments: principal.environments.length === 0 ? undefined : principal.environments, apiKeys: false }
}

/** A recorded flag body (toFlagBody of the stored flag), as far as a restore reads it. */
interface RecordedFlag {
  type: StoredFlag['type']
  enabled: boolean
  default_variant: string
  off_variant: string
  targeting_rules: StoredFlag['targetingRules']
}

/**
 * History (SPEC §11): the change log read back with filters and keyset paging, a flag's own history
 * (by id, so across renames), reverts, and retention.
 */
export function createHistoryService ({ changes, repo, flags, snapshot }: {
  changes: ChangeLogRepository, repo: FlagRepository, flags: Pick<FlagService, 'restore'>, snapshot: Pick<FlagSnapshot, 'hasEnvironment' | 'revision' | 'catchUp'>
}) {
  const checkEnvironment = (environment: string): void => {
    if (!snapshot.hasEnvironment(environment)) throw new EnvironmentNotFoundError(environment)
  }
  const mustGet = async (environment: string, name: string): Promise<StoredFlag> => {
    checkEnvironment(environment)
    const flag = await repo.get(environment, name)
    if (flag === undefined) throw new FlagNotFoundError(name)
    return flag
  }
  /** A page, newest first, after the cursor's revision. */
  const newestFirst = async (query: Omit<ChangeQuery, 'limit' | 'order' | 'after'>, { limit = 100, cursor }: PageQuery): Promise<Page<ChangeEntry>> => {
    const after = decodeCursor(cursor, REVISION_CURSOR)
    const rows = await changes.list({ ...query, limit: limit + 1, order: 'desc', after: after === undefined ? undefined : Number(after) })
    return page(rows, limit, (entry) => String(entry.revision))
  }

  /** The configuration `flag` served in `environment` at `revision`, from the change log. */
  const stateAt = async (flag: StoredFlag, environment: string, revision: number): Promise<RestoreTarget> => {
    const [created] = await changes.list({ flagId: flag.id, action: 'flag.create', order: 'asc', limit: 1 })
    if (created === undefined || created.revision > revision) {
      throw new RevertConflictError(`Flag "${flag.name}" has no recorded state at revision ${revision}: ${created === undefined ? 'its creation predates its history' : `it was created at revision ${created.revision}`}`)
    }
    // The latest write of the flag in this environment at or before the revision (rows of other
    // actions, override changes, are skipped a page at a time: a flag can have many of them).
    let after: number | undefined
    for (;;) {
      const rows = await changes.list({ flagId: flag.id, environment, action: 'flag', toRevision: revision, order: 'desc', limit: 100, after })
      const found = rows.find((row) => FLAG_STATES.has(row.action))
      if (found !== undefined) return target(flag, revision, found.after as RecordedFlag)
      if (rows.length < 100) break
      after = rows[rows.length - 1].revision
    }
    // Never written here: created in another environment, and served here as every new flag is elsewhere.
    return target(flag, revision, created.after as RecordedFlag, true)
  }
  const target = (flag: StoredFlag, revision: number, body: RecordedFlag, elsewhere = false): RestoreTarget => {
    const rules = elsewhere ? offElsewhere({ enabled: body.enabled, targetingRules: body.targeting_rules }) : { enabled: body.enabled, targetingRules: body.targeting_rules }
    return { revision, flagId: flag.id, type: body.type, defaultVariant: body.default_variant, offVariant: body.off_variant, ...rules }
  }

  return {
    /** GET /changes: newest first, filtered, restricted to what `visibility` shows. */
    list (filter: ChangeFilter, paging: PageQuery, visibility: ChangeVisibility): Promise<Page<ChangeEntry>> {
      return newestFirst({ ...filter, visibility }, paging)
    },

    /** The flag's own history in one environment (by id: across renames, not a deleted namesake's). */
    async flagHistory (environment: string, name: string, paging: PageQuery): Promise<Page<ChangeEntry>> {
      const flag = await mustGet(environment, name)
      return newestFirst({ flagId: flag.id, environment }, paging)
    },

    /** Entries after `revision`, oldest first: what a resumed stream replays. */
    since (revision: number, limit: number, visibility: ChangeVisibility, environment?: string): Promise<ChangeEntry[]> {
      return changes.list({ order: 'asc', after: revision, limit, visibility, environment })
    },

    /** Serve the flag in `environment` as it was there at `revision`: a new write, recorded as `flag.revert`. */
    async revert (environment: string, name: string, revision: number, opts: WriteOptions): Promise<StoredFlag> {
      if (!Number.isSafeInteger(revision) || revision < 1) throw invalidField('revision', 'must be a positive integer')
      const flag = await mustGet(environment, name)
      // This instance may not have heard of the newest revisions yet (another instance wrote them).
      if (revision > snapshot.revision) await snapshot.catchUp().catch(() => {})
      if (revision > snapshot.revision) throw invalidField('revision', `is after the latest revision (${snapshot.revision})`)
      return flags.restore(environment, name, await stateAt(flag, environment, revision), opts)
    },

    /** Delete entries older than `days` days (the latest always stays); answers how many went. */
    prune (days: number, now = new Date()): Promise<number> {
      return changes.prune(new Date(now.getTime() - days * 86_400_000))
    }
  }
}

export type HistoryService = ReturnType<typeof createHistoryService>
