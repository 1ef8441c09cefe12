import type { SqliteDb } from '../../db/sqlite-client.js'
import { apiKeys } from '../../db/schema/sqlite.js'
import type { ApiKeyRepository } from '../flag-repository.js'
import { appendLog } from './change-log.js'

/** ApiKeyRepository on SQLite. */
export function createSqliteApiKeyRepository (db: SqliteDb): ApiKeyRepository {
  return {
    async all () { return db.select().from(apiKeys).all() },
    async addFirst (key, audit) {
      return db.transaction((tx) => {
        if (tx.select({ id: apiKeys.id }).from(apiKeys).limit(1).get() !== undefined) return null
        tx.insert(apiKeys).values(key).run()
        return appendLog(tx, audit)
      }, { behavior: 'immediate' })
    }
  }
}
