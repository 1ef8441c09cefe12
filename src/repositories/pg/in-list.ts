import { sql, type SQL } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'

/**
 * `column = any($1)` with the whole list bound as ONE text[] parameter: `inArray` binds one
 * parameter per id, and Postgres refuses a statement with more than 65,535 of them, so a list that
 * grows with the data (the users a customer removal detaches) must not.
 */
export const inList = (column: PgColumn, ids: string[]): SQL => sql`${column} = any(${sql.param(ids)}::text[])`
