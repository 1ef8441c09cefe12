import type { PgDb } from '../../db/pg-client.js'
import { apiKeys } from '../../db/schema/pg.js'
import type { ApiKeyRepository } from '../flag-repository.js'
import { appendLog, writeTransaction } from './change-log.js'

/** ApiKeyRepository on Postgres. */
export function createPgApiKeyRepository (db: PgDb): ApiKeyRepository {
  return {
    async all () { return await db.select().from(apiKeys) },
    async addFirst (key, audit) {
      // writeTransaction serializes writers, so "no key yet" still holds when the insert commits.
      return await writeTransaction(db, async (tx) => {
        if ((await tx.select({ id: apiKeys.id }).from(apiKeys).limit(1)).length > 0) return null
        await tx.insert(apiKeys).values(key)
        return await appendLog(tx, audit)
      })
    }
  }
}
