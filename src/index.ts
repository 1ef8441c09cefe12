import { openFlagpost, type Flagpost, type FlagpostOptions } from './library.js'

export { isFlagpostError } from './library.js'
export type { AddFeatureOptions, Flag, Flagpost, FlagpostContext, FlagpostError, FlagpostOptions, Subject, SubjectId } from './library.js'
export type { Environment, PromotedFlag, PromoteOptions, PromoteResult, RemoveEnvironmentOptions } from './library.js'
export type { Change, ChangesFilter, HistoryOptions, RevertOptions } from './library.js'
export type { EvaluationResult, FlagType, JsonValue, Reason } from './engine/types.js'
export type { Customer, Override, User } from './services/subject-service.js'
export { ConfigError } from './config.js'

/**
 * Flagpost embedded in your process: the same domain services as the HTTP API and the CLI, over the same
 * database (a SQLite file by default, migrated on open), without a server. Other processes — servers, the
 * CLI, other apps — may use the same database; this instance picks up their writes every `cacheRefreshMs`
 * (an unref'd timer: it never keeps your process alive). Call `close()` when done.
 *
 * @example
 * import { createFlagpost } from 'flagpost'
 *
 * const flagpost = await createFlagpost({ databaseUrl: 'file:./data/flagpost.db' })
 * await flagpost.addFeature('new_dashboard')                    // off for everyone
 * await flagpost.setGlobalFlag('new_dashboard', true)           // on for everyone…
 * await flagpost.setFlag('new_dashboard', { customerId: 42 }, false)   // …except customer 42
 * await flagpost.setFlag('new_dashboard', { userId: 'alice' }, true)   // alice (any customer) has it
 * await flagpost.listCustomersWithFeatureExplicitlyDisabled('new_dashboard')   // ['42']
 * flagpost.isEnabled('new_dashboard', { customerId: 42 })        // false
 * await flagpost.close()
 *
 * @throws `ConfigError` for an unusable `databaseUrl` / `redisUrl`.
 */
export async function createFlagpost (options: FlagpostOptions = {}): Promise<Flagpost> {
  return openFlagpost(options)
}
