import type { SqliteDb } from '../../db/client.js'
import { apiKeys } from '../../db/schema/sqlite.js'
import type { ApiKeyRepository } from '../flag-repository.js'

/** ApiKeyRepository on SQLite. */
export function createSqliteApiKeyRepository (db: SqliteDb): ApiKeyRepository {
  return {
    async all () { return db.select().from(apiKeys).all() },
    async add (key) { db.insert(apiKeys).values(key).run() }
  }
}
