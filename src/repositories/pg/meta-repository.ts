import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { meta } from '../../db/schema/pg.js'
import type { MetaRepository } from '../flag-repository.js'

/** MetaRepository on Postgres. */
export function createPgMetaRepository (db: PgDb): MetaRepository {
  return {
    async deploymentId () {
      await db.insert(meta).values({ key: 'deployment_id', value: randomUUID() }).onConflictDoNothing()
      const [row] = await db.select().from(meta).where(eq(meta.key, 'deployment_id'))
      return row.value
    }
  }
}
