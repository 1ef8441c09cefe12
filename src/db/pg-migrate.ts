import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type { PgHandle } from './pg-client.js'

// src/db/pg-migrate.ts and dist/db/pg-migrate.js are both two levels below the package root.
const MIGRATIONS = fileURLToPath(new URL('../../drizzle/pg', import.meta.url))

/**
 * Apply the committed drizzle-kit migrations; idempotent, and safe when several instances start at
 * once (they take turns on an advisory lock). With a `?schema=` URL the schema is created first and
 * the migration journal lives in it too, so each schema (each test file's, say) migrates on its own
 * and dropping the schema drops everything. Without one, tables go to `public` and the journal to
 * drizzle's default `drizzle` schema. The committed SQL never names a schema (drizzle-kit writes
 * `"public".` into foreign keys; test/db/migrations-current.test.ts makes sure none is left).
 */
export async function migratePostgres (handle: PgHandle): Promise<void> {
  const lockKey = `flagpost:migrate:${handle.schema ?? ''}`
  const client = await handle.pool.connect()
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [lockKey])
    try {
      // The name was checked against SCHEMA_NAME when the URL was parsed.
      if (handle.schema !== undefined) await client.query(`create schema if not exists "${handle.schema}"`)
      await migrate(drizzle(client), { migrationsFolder: MIGRATIONS, migrationsSchema: handle.schema ?? 'drizzle' })
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey])
    }
  } finally {
    client.release()
  }
}
