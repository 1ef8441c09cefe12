import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { meta } from '../../db/schema/sqlite.js'
import type { MetaRepository } from '../flag-repository.js'

/** MetaRepository on SQLite. */
export function createSqliteMetaRepository (db: SqliteDb): MetaRepository {
  return {
    async deploymentId () {
      db.insert(meta).values({ key: 'deployment_id', value: randomUUID() }).onConflictDoNothing().run()
      return db.select().from(meta).where(eq(meta.key, 'deployment_id')).get()!.value
    }
  }
}
