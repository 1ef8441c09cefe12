import { UnavailableError } from '../../errors.js'

// better-sqlite3 errors that mean "the database cannot serve now", as opposed to a bad statement.
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOTADB|CORRUPT)/
const isUnavailable = (err: unknown): boolean => {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) ||
    (err instanceof TypeError && typeof message === 'string' && message.includes('database connection is not open'))
}

/**
 * Wrap every method of a repository so that a database that cannot serve becomes a 503
 * (FLAGPOST_ERR_UNAVAILABLE) instead of an internal error; other errors pass through.
 */
export function guardUnavailable<T extends object> (repo: T): T {
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
