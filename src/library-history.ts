import { invalidField } from './errors.js'
import { existingEnvironment, existingName, optionsObject, storable, typeName } from './library-arguments.js'
import type { FlagBody } from './schemas/flags.js'
import { historyInputProblem, type HistoryInput } from './schemas/history-input.js'
import { ENVIRONMENT_KEY_RULE, FLAG_NAME_RULE, type NameRule } from './schemas/names.js'
import { toChangeBody, type ChangeBody } from './services/change-view.js'
import type { ChangeFilter, HistoryService } from './services/history-service.js'
import { everyItem } from './services/paging.js'
import { toFlagBody } from './services/flag-view.js'

/**
 * One change-log entry, as `GET /changes` shows it — snake_case, as the library's `Flag` is the API's body:
 * `revision` (the global revision the write made), `at` (ISO 8601), `actor`, `action` (`flag.update`,
 * `override.set`, `customer.add`…), `environment` and `flag` (null where the change is global), `before` and
 * `after` (the resource as the API shows it; null for a creation / a deletion) and `changed` (the fields
 * that differ, one level deep: `enabled`, `targeting_rules.percentage`).
 */
export type Change = ChangeBody

/** Which of a feature's changes `history` answers. */
export interface HistoryOptions {
  /** The environment whose changes to read. Default: the instance's (`createFlagpost({ environment })`). */
  environment?: string
  /** Only this many, the newest. Default: every one. */
  limit?: number
}

/** Which entries of the change log `changes` answers: every filter given must hold. */
export interface ChangesFilter {
  /** Changes to this feature (by its name after each change). */
  flag?: string
  /** Changes made in this environment (it may since have been removed). Default: every environment, and global changes. */
  environment?: string
  /** Changes by this actor (an API key's name, `cli:<user>`, `library`, `system`…). */
  actor?: string
  /** One action (`flag.update`) or a group of them (`flag`: every `flag.*`). */
  action?: string
  /** Revisions from this one on. */
  fromRevision?: number
  /** Revisions up to this one. */
  toRevision?: number
  /** At or after this time: a Date, or an RFC 3339 date-time (`2030-01-31T12:00:00Z`). */
  since?: Date | string
  /** Before this time. */
  until?: Date | string
  /** Only this many, the newest. Default: every one. */
  limit?: number
}

/** Where `revert` writes. */
export interface RevertOptions {
  /** The environment to revert the feature in. Default: the instance's. */
  environment?: string
}

/** The change log through the library (SPEC §11): every entry, including API key changes, as an admin sees it. */
export interface FlagpostHistory {
  /**
   * A feature's changes in one environment, newest first: across renames (not a deleted namesake's), its
   * explicit switches' changes included.
   * @example (await flagpost.history('new_dashboard', { limit: 5 })).map((c) => `${c.revision} ${c.action} ${c.changed.join(', ')}`)
   * @throws `FLAGPOST_ERR_FLAG_NOT_FOUND`, `FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND`, `FLAGPOST_ERR_VALIDATION` (a bad option).
   */
  history (name: string, options?: HistoryOptions): Promise<Change[]>
  /**
   * The change log, newest first, filtered: by default every environment's changes and the global ones.
   * @example await flagpost.changes({ flag: 'new_dashboard', action: 'flag', since: new Date(Date.now() - 86_400_000) })
   * @throws `FLAGPOST_ERR_VALIDATION` on a bad filter (a malformed name, a revision that is not a positive integer, a bad date).
   */
  changes (filter?: ChangesFilter): Promise<Change[]>
  /**
   * Serve a feature in an environment as it was there at a revision (its kill switch, default and off variant and
   * targeting then, with the variants it has now): a new write, recorded as `flag.revert`; nothing is written
   * when it is served that way already. Answers the feature as `getFeature` shows it.
   * @example await flagpost.revert('new_dashboard', 12)
   * @throws `FLAGPOST_ERR_REVERT_CONFLICT` when its type or variants no longer allow it (or it did not exist then),
   * `FLAGPOST_ERR_VALIDATION` for a revision that is not a positive integer or is after the latest, `FLAGPOST_ERR_FLAG_NOT_FOUND`.
   */
  revert (name: string, revision: number, options?: RevertOptions): Promise<FlagBody>
}

/** `value` as `field` of the history rules (schemas/history-input.ts), or undefined (or null) for none given. */
function rule (field: HistoryInput, path: string, value: unknown): void {
  if (value == null) return
  storable(path, value)
  const problem = historyInputProblem(field, value)
  if (problem !== undefined) throw invalidField(path, problem)
}

/** An optional name filter: undefined (or null) for none, else a string its rule accepts. */
function nameFilter (path: string, value: unknown, nameRule: NameRule): string | undefined {
  if (value == null) return undefined
  if (typeof value !== 'string') throw invalidField(path, `must be a string, got ${typeName(value)}`)
  if (!nameRule.test(value)) throw invalidField(path, nameRule.message)
  return value
}

/** A time filter: a valid Date, or an RFC 3339 string. */
function timeFilter (field: 'since' | 'until', value: unknown): Date | undefined {
  if (value == null) return undefined
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidField(`filter.${field}`, 'must be a valid Date')
    return value
  }
  if (typeof value !== 'string') throw invalidField(`filter.${field}`, `must be a Date or an RFC 3339 string, got ${typeName(value)}`)
  rule(field, `filter.${field}`, value)
  return new Date(value)
}

/** `limit`: a positive integer, or undefined (or null) for every entry. */
function limitOf (path: string, value: unknown): number | undefined {
  if (value == null) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalidField(path, 'must be a positive integer')
  return value
}

function changeFilter (given: unknown): { filter: ChangeFilter, limit: number | undefined } {
  const filter = optionsObject(given, ['flag', 'environment', 'actor', 'action', 'fromRevision', 'toRevision', 'since', 'until', 'limit'], 'filter')
  for (const field of ['actor', 'action', 'fromRevision', 'toRevision'] as const) rule(field, `filter.${field}`, filter[field])
  return {
    filter: {
      flag: nameFilter('filter.flag', filter.flag, FLAG_NAME_RULE),
      environment: nameFilter('filter.environment', filter.environment, ENVIRONMENT_KEY_RULE),
      actor: (filter.actor ?? undefined) as string | undefined,
      action: (filter.action ?? undefined) as string | undefined,
      fromRevision: (filter.fromRevision ?? undefined) as number | undefined,
      toRevision: (filter.toRevision ?? undefined) as number | undefined,
      since: timeFilter('since', filter.since),
      until: timeFilter('until', filter.until)
    },
    limit: limitOf('filter.limit', filter.limit)
  }
}

/** The history calls of one instance: `environment` is its default, `write` whom its writes are recorded as. */
export function historyCalls ({ history, environment, write, live }: {
  history: HistoryService
  environment: string
  write: { actor: string }
  live: () => void
}): FlagpostHistory {
  return {
    async history (name: string, given?: HistoryOptions): Promise<Change[]> {
      live()
      const flag = existingName(name)
      const options = optionsObject(given, ['environment', 'limit'])
      const where = options.environment == null ? environment : existingEnvironment(options.environment, 'options.environment')
      const limit = limitOf('options.limit', options.limit)
      return (await everyItem((page) => history.flagHistory(where, flag, page), 1000, limit)).map(toChangeBody)
    },
    async changes (given?: ChangesFilter): Promise<Change[]> {
      live()
      const { filter, limit } = changeFilter(given)
      return (await everyItem((page) => history.list(filter, page, { apiKeys: true }), 1000, limit)).map(toChangeBody)
    },
    async revert (name: string, revision: number, given?: RevertOptions): Promise<FlagBody> {
      live()
      const flag = existingName(name)
      if (typeof revision !== 'number') throw invalidField('revision', `must be a positive integer, got ${typeName(revision)}`)
      rule('revision', 'revision', revision)
      const options = optionsObject(given, ['environment'])
      const where = options.environment == null ? environment : existingEnvironment(options.environment, 'options.environment')
      return toFlagBody(await history.revert(where, flag, revision, write))
    }
  }
}
