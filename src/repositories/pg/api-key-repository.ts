import type { PgDb } from '../../db/pg-client.js'
import { apiKeys } from '../../db/schema/pg.js'
import type { ApiKeyRepository } from '../flag-repository.js'

/** ApiKeyRepository on Postgres. */
export function createPgApiKeyRepository (db: PgDb): ApiKeyRepository {
  return {
    async all () { return await db.select().from(apiKeys) },
    async add (key) { await db.insert(apiKeys).values(key) }
  }
}
