import { randomBytes, randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { meta } from '../../db/schema/pg.js'
import type { MetaRepository } from '../flag-repository.js'

/** MetaRepository on Postgres. */
export function createPgMetaRepository (db: PgDb): MetaRepository {
  /** The value stored under `key`, made by the first caller (a race is won by one insert). */
  const once = async (key: string, make: () => string): Promise<string> => {
    await db.insert(meta).values({ key, value: make() }).onConflictDoNothing()
    const [row] = await db.select().from(meta).where(eq(meta.key, key))
    return row.value
  }
  return {
    deploymentId: () => once('deployment_id', randomUUID),
    streamSecret: () => once('stream_secret', () => randomBytes(32).toString('base64url'))
  }
}
