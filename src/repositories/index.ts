import type { SqliteHandle } from '../db/client.js'
import type { ApiKeyRepository, FlagRepository } from './flag-repository.js'
import { createSqliteApiKeyRepository } from './sqlite/api-key-repository.js'
import { createSqliteFlagRepository } from './sqlite/flag-repository.js'
import { guardUnavailable } from './sqlite/unavailable.js'

export interface Repositories {
  flags: FlagRepository
  apiKeys: ApiKeyRepository
}

/** Pick the repository implementations for the opened database. */
export function createRepositories (handle: SqliteHandle): Repositories {
  return {
    flags: guardUnavailable(createSqliteFlagRepository(handle.db)),
    apiKeys: guardUnavailable(createSqliteApiKeyRepository(handle.db))
  }
}
