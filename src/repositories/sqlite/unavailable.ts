// better-sqlite3 errors that mean "the database cannot serve now", as opposed to a bad statement.
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOTADB|CORRUPT)/

/** True for better-sqlite3 errors that mean the database cannot serve now (busy, I/O, closed…). */
export function isSqliteUnavailable (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { code, message } = err as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) ||
    (err instanceof TypeError && typeof message === 'string' && message.includes('database connection is not open'))
}
