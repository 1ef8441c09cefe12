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
  /** One round trip; rejects when the database cannot serve. */
  ping (): Promise<void>
  /** End the pool (waits for checked-out clients); safe to call twice. */
  close (): Promise<void>
}

export interface PgOptions {
  /** Pool size (default 10). */
  max?: number
  /** How long a query waits for a free or new connection before failing as unavailable (default 5000 ms). */
  connectionTimeoutMillis?: number
}

/**
 * Open a pooled connection to Postgres. Nothing connects until the first query. When the URL names
 * a schema, every connection starts with `search_path=<schema>`, so unqualified SQL (all of ours)
 * reads and writes only there: that is how tests get a private copy of the tables per file.
 */
export function openPostgres (url: string, { max = 10, connectionTimeoutMillis = 5000 }: PgOptions = {}): PgHandle {
  const { connectionString, schema: schemaName } = parsePostgresUrl(url)
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis,
    idleTimeoutMillis: 30_000,
    ...(schemaName === undefined ? {} : { options: `-c search_path=${schemaName}` })
  })
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
    async ping () { await pool.query('select 1') },
    async close () {
      if (ended) return
      ended = true
      await pool.end()
    }
  }
}
