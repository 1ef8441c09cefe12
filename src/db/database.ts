import type { SqliteHandle } from './sqlite-client.js'
import type { PgHandle } from './pg-client.js'
import { isPostgresUrl, parsePostgresUrl } from './pg-url.js'

/** An open database of either dialect; `kind` says which. */
export type DatabaseHandle = SqliteHandle | PgHandle

/**
 * The database could not be reached or refused us: one line naming where (host:port, user, database;
 * never the password) and what to check. Meant to be printed as is, without a stack.
 */
export class DatabaseConnectError extends Error {
  constructor (message: string, readonly hint: string, options: { cause: unknown }) {
    super(`${message} — ${hint}`, options)
    this.name = 'DatabaseConnectError'
  }
}

/**
 * Open the database DATABASE_URL names: Postgres (pooled, checked with one round trip so that a
 * wrong URL fails here with a hint, not in the middle of start-up) or SQLite. Each driver is loaded
 * only when used, so SQLite deployments never load `pg`.
 */
export async function openDatabase (url: string): Promise<DatabaseHandle> {
  if (!isPostgresUrl(url)) return (await import('./sqlite-client.js')).openSqlite(url)
  const handle = (await import('./pg-client.js')).openPostgres(url)
  try {
    await handle.ping()
  } catch (err) {
    await handle.close()
    throw connectError(url, err, handle.bounds.connect)
  }
  return handle
}

/** Apply the committed migrations of the handle's dialect; idempotent. */
export async function migrateDatabase (handle: DatabaseHandle): Promise<void> {
  if (handle.kind === 'sqlite') { (await import('./migrate.js')).migrateSqlite(handle); return }
  // DDL, and waiting for another instance's migration, may take longer than a request may: a pool
  // of its own with limits in minutes.
  const [{ migratePostgres }, { MIGRATION_BOUNDS }] = await Promise.all([import('./pg-migrate.js'), import('./pg-client.js')])
  const migrating = handle.reopen(MIGRATION_BOUNDS)
  try { await migratePostgres(migrating) } finally { await migrating.close() }
}

/** What went wrong reaching Postgres at `url`, and what to check, as one line. */
export function connectError (url: string, err: unknown, connectMs: number): DatabaseConnectError {
  const target = new URL(parsePostgresUrl(url).connectionString)
  const host = target.hostname === '' ? 'localhost' : target.hostname
  const where = `${host}:${target.port === '' ? '5432' : target.port}`
  const user = decodeURIComponent(target.username) || '(default user)'
  const database = decodeURIComponent(target.pathname.slice(1)) || user
  const { code, message } = driverError(err)
  const hints: Record<string, string> = {
    ECONNREFUSED: 'is Postgres running there, and are DATABASE_URL\'s host and port right?',
    ENOTFOUND: `host "${host}" does not resolve: check DATABASE_URL's host name (and DNS)`,
    EAI_AGAIN: `host "${host}" could not be resolved now: check DNS, or DATABASE_URL's host name`,
    EHOSTUNREACH: `no route to ${where}: check the network between this host and the database`,
    ENETUNREACH: `no route to ${where}: check the network between this host and the database`,
    ECONNRESET: `${where} closed the connection: is it Postgres, and does it expect TLS (add ?sslmode=require)?`,
    '28P01': `password authentication failed for user "${user}": check DATABASE_URL's user and password`,
    28000: `the server refuses user "${user}" from this host: check its pg_hba.conf and DATABASE_URL's user`,
    '3D000': 'create it, or fix DATABASE_URL\'s database name',
    '57P03': `Postgres at ${where} is starting up or shutting down: retry shortly`,
    53300: `Postgres at ${where} has no free connection slots: raise max_connections or lower the pools using it`
  }
  const timedOut = /timeout|timed out/i.test(message) || code === 'ETIMEDOUT'
  const hint = hints[code ?? ''] ?? (timedOut
    ? `no answer from ${where} within ${connectMs} ms: check that the host and port are right and that no firewall drops the traffic`
    : `check that Postgres runs at ${where} and that DATABASE_URL's user, password and database are right`)
  return new DatabaseConnectError(`cannot connect to Postgres at ${where} (user "${user}", database "${database}"): ${oneLine(message)}`, hint, { cause: err })
}

/** The first code and message in an error chain (a refused host with several addresses is an AggregateError). */
function driverError (err: unknown): { code: string | undefined, message: string } {
  let current: unknown = err
  for (let i = 0; i < 5 && typeof current === 'object' && current !== null; i++) {
    const { code, message, errors, cause } = current as { code?: unknown, message?: unknown, errors?: unknown, cause?: unknown }
    if (typeof code === 'string') return { code, message: typeof message === 'string' && message !== '' ? message : code }
    current = Array.isArray(errors) && errors.length > 0 ? errors[0] : cause
  }
  return { code: undefined, message: err instanceof Error ? err.message : String(err) }
}

// Driver messages never carry the password; they may carry line breaks.
const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim()
