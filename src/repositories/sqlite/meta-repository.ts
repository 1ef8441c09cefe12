import { randomBytes, randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { meta } from '../../db/schema/sqlite.js'
import type { MetaRepository } from '../flag-repository.js'

/** MetaRepository on SQLite. */
export function createSqliteMetaRepository (db: SqliteDb): MetaRepository {
  /** The value stored under `key`, made by the first caller (a race is won by one insert). */
  const once = (key: string, make: () => string): string => {
    db.insert(meta).values({ key, value: make() }).onConflictDoNothing().run()
    return db.select().from(meta).where(eq(meta.key, key)).get()!.value
  }
  return {
    async deploymentId () { return once('deployment_id', randomUUID) },
    async streamSecret () { return once('stream_secret', () => randomBytes(32).toString('base64url')) }
  }
}
