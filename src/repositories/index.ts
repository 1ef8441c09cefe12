import type { SqliteHandle } from '../db/client.js'
import type { ApiKeyRepository, FlagRepository } from './flag-repository.js'
import { createSqliteApiKeyRepository } from './sqlite/api-key-repository.js'
import { createSqliteFlagRepository } from './sqlite/flag-repository.js'

export interface Repositories {
  flags: FlagRepository
  apiKeys: ApiKeyRepository
}

/** Pick the repository implementations for the opened database. */
export function createRepositories (handle: SqliteHandle): Repositories {
  return { flags: createSqliteFlagRepository(handle.db), apiKeys: createSqliteApiKeyRepository(handle.db) }
}
