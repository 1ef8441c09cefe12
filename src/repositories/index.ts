import type { SqliteHandle } from '../db/client.js'
import type { ApiKeyRepository, FlagRepository } from './flag-repository.js'
import { createSqliteApiKeyRepository } from './sqlite/api-key-repository.js'
import { createSqliteFlagRepository } from './sqlite/flag-repository.js'
import { createSqliteSubjectRepository } from './sqlite/subject-repository.js'
import { guardUnavailable } from './sqlite/unavailable.js'
import type { SubjectRepository } from './subject-repository.js'

export interface Repositories {
  flags: FlagRepository
  subjects: SubjectRepository
  apiKeys: ApiKeyRepository
}

/** Pick the repository implementations for the opened database. */
export function createRepositories (handle: SqliteHandle): Repositories {
  return {
    flags: guardUnavailable(createSqliteFlagRepository(handle.db)),
    subjects: guardUnavailable(createSqliteSubjectRepository(handle.db)),
    apiKeys: guardUnavailable(createSqliteApiKeyRepository(handle.db))
  }
}
