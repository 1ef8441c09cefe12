import pg from 'pg'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import { parsePostgresUrl } from './pg-url.js'
import * as schema from './schema/pg.js'

/** Drizzle over a node-postgres pool; `$client` is the pool. */
export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool }

export interface PgHandle {
  kind: 'postgres'
  db: PgDb
  pool: pg.Pool
  /** The schema the tables live in (the connections' search_path), when the URL names one with `?schema=`. */
  schema: string | undefined
  /** The time limits every connection of this pool works under. */
  bounds: PgBounds
  /** One round trip; rejects when the database cannot serve. */
  ping (): Promise<void>
  /** Another pool on the same database with other limits (migrations); the caller closes it. */
  reopen (bounds: PgBounds): PgHandle
  /** End the pool (waits for checked-out clients); safe to call twice. */
  close (): Promise<void>
}

/**
 * Every time limit on a database call, in milliseconds, derived from one budget so that they hold
 * together. A database that does not answer (a stalled link, not a refused one) then costs a request
 * at most `transaction` ms and a 503, never a hang; and a write that gave up can never commit later
 * (see writeTransaction in repositories/pg/change-log.ts for why).
 */
export interface PgBounds {
  /** A whole write transaction, from asking for a connection to COMMIT answered: the 503 bound. */
  transaction: number
  /** Waiting for a pooled connection, or opening one (pg-pool's connectionTimeoutMillis). */
  connect: number
  /**
   * Client side, one statement's answer (node-postgres' query_timeout); the connection is then
   * destroyed, never reused. connect + query ≤ transaction: a single read gives up in time too.
   */
  query: number
  /** Server side, one statement's run: a slow statement is cancelled (57014) on a connection that stays usable. */
  statement: number
  /** Server side, waiting for a lock (writers queue on the change log's). */
  lock: number
  /**
   * Server side, a transaction left idle (its next statement or COMMIT held in a stalled link): the
   * server ends the session, which rolls back and frees the change-log lock.
   */
  idleInTransaction: number
  /** Slack for a COMMIT the server read just before idleInTransaction ran out to finish committing. */
  commitMargin: number
  /** TCP keepalive: a peer that vanished is found on an idle pooled connection. */
  keepAliveDelay: number
}

/** The default budget: a write answers (committed, or 503) within 4 s, under the 5 s the service promises. */
export const DATABASE_TIMEOUT_MS = 4000

/** The limits for a budget of `transaction` ms (at least 1000). */
export function pgBounds (transaction = DATABASE_TIMEOUT_MS): PgBounds {
  if (!Number.isInteger(transaction) || transaction < 1000) throw new RangeError(`the database budget must be an integer ≥ 1000 ms, got ${transaction}`)
  const eighth = Math.floor(transaction / 8)
  const connect = 3 * eighth
  const query = transaction - connect
  return {
    transaction,
    connect,
    query,
    statement: Math.floor(query * 0.8),
    lock: 3 * eighth,
    idleInTransaction: 3 * eighth,
    commitMargin: eighth,
    keepAliveDelay: 10_000
  }
}

/** The production limits: 4 s writes, 1.5 s connect, 2.5 s per statement answer, 2 s per statement run, 1.5 s lock and idle-in-transaction. */
export const PG_BOUNDS: PgBounds = Object.freeze(pgBounds())

/**
 * Migrations (DDL, and the advisory lock instances queue on while one migrates) run longer than any
 * request may: bounded still, but in minutes.
 */
export const MIGRATION_BOUNDS: PgBounds = Object.freeze({
  ...PG_BOUNDS, query: 300_000, statement: 290_000, lock: 280_000, idleInTransaction: 60_000, transaction: 300_000
})

export interface PgOptions {
  /** Pool size (default 10). */
  max?: number
  /** The time limits (default PG_BOUNDS). */
  bounds?: PgBounds
  /** Overrides bounds.connect alone. */
  connectionTimeoutMillis?: number
}

const boundsByPool = new WeakMap<pg.Pool, PgBounds>()
/** The limits a pool was opened with (for code that only has the pool, such as a repository's `db.$client`). */
export const boundsOf = (pool: pg.Pool): PgBounds => boundsByPool.get(pool) ?? PG_BOUNDS

/**
 * Open a pooled connection to Postgres. Nothing connects until the first query. When the URL names
 * a schema, every connection starts with `search_path=<schema>`, so unqualified SQL (all of ours)
 * reads and writes only there: that is how tests get a private copy of the tables per file.
 */
export function openPostgres (url: string, { max = 10, bounds: given = PG_BOUNDS, connectionTimeoutMillis }: PgOptions = {}): PgHandle {
  const bounds = connectionTimeoutMillis === undefined ? given : { ...given, connect: connectionTimeoutMillis }
  const { connectionString, schema: schemaName } = parsePostgresUrl(url)
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: bounds.connect,
    // A query that times out on the client rejects, and pg-pool removes the connection (release with
    // an error), which node-postgres destroys when a query is still active: a late answer can never
    // be read by the next user of the connection.
    query_timeout: bounds.query,
    // Sent in the startup packet: no extra round trip, and in force before the first statement.
    statement_timeout: bounds.statement,
    lock_timeout: bounds.lock,
    idle_in_transaction_session_timeout: bounds.idleInTransaction,
    keepAlive: true,
    keepAliveInitialDelayMillis: bounds.keepAliveDelay,
    ...(schemaName === undefined ? {} : { options: `-c search_path=${schemaName}` })
  })
  boundsByPool.set(pool, bounds)
  // An idle connection the server drops (restart, failover) is reported here; without a listener
  // the process would crash. The next query gets a fresh connection or fails as unavailable (503).
  pool.on('error', () => {})
  // The pool only listens on idle clients. A connection lost while checked out (mid-query, mid-
  // transaction) emits 'error' on its client too: with no listener that is an uncaught exception
  // that takes the whole server down. The query itself already rejects (→ 503), so nothing is lost.
  pool.on('connect', (client) => { client.on('error', () => {}) })
  const db = drizzle(pool, { schema })
  let ended = false
  return {
    kind: 'postgres',
    db,
    pool,
    schema: schemaName,
    bounds,
    async ping () { await pool.query('select 1') },
    reopen: (other) => openPostgres(url, { max: 1, bounds: other }),
    async close () {
      if (ended) return
      ended = true
      await pool.end()
    }
  }
}

/**
 * Destroy a checked-out connection's socket at once. pg's own end() says goodbye first when no
 * query is active, and a goodbye written into a stalled link keeps the socket open until it returns.
 */
export function destroyConnection (client: pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy (): void } } }).connection?.stream?.destroy()
}
