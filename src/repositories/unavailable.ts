import { UnavailableError } from '../errors.js'

/** Tells a "the database cannot serve now" error from a bad statement; each dialect has its own. */
export type UnavailablePredicate = (err: unknown) => boolean

/**
 * Wrap every method of a repository so that a database that cannot serve becomes a 503
 * (FLAGPOST_ERR_UNAVAILABLE) instead of an internal error; other errors pass through.
 */
export function guardUnavailable<T extends object> (repo: T, isUnavailable: UnavailablePredicate): T {
  const guarded = {} as Record<string, unknown>
  for (const [name, fn] of Object.entries(repo)) {
    guarded[name] = typeof fn !== 'function'
      ? fn
      : async (...args: unknown[]) => {
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>).apply(repo, args)
        } catch (err) {
          if (isUnavailable(err)) throw new UnavailableError('The database is unavailable; retry shortly')
          throw err
        }
      }
  }
  return guarded as T
}
