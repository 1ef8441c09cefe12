import type { DatabaseHandle } from '../db/database.js'
import type { ChangeLogRepository } from './change-log-repository.js'
import { createPgChangeLogRepository } from './pg/change-log-repository.js'
import { createSqliteChangeLogRepository } from './sqlite/change-log-repository.js'
import type { ApiKeyRepository, EnvironmentRepository, FlagRepository, MetaRepository } from './flag-repository.js'
import { createPgApiKeyRepository } from './pg/api-key-repository.js'
import { createPgEnvironmentRepository } from './pg/environment-repository.js'
import { createPgFlagRepository } from './pg/flag-repository.js'
import { createPgMetaRepository } from './pg/meta-repository.js'
import { createPgSubjectRepository } from './pg/subject-repository.js'
import { isPgUnavailable } from './pg/unavailable.js'
import { createSqliteApiKeyRepository } from './sqlite/api-key-repository.js'
import { createSqliteEnvironmentRepository } from './sqlite/environment-repository.js'
import { createSqliteFlagRepository } from './sqlite/flag-repository.js'
import { createSqliteMetaRepository } from './sqlite/meta-repository.js'
import { createSqliteSubjectRepository } from './sqlite/subject-repository.js'
import { isSqliteUnavailable } from './sqlite/unavailable.js'
import type { SubjectRepository } from './subject-repository.js'
import { guardUnavailable } from './unavailable.js'

export interface Repositories {
  flags: FlagRepository
  environments: EnvironmentRepository
  subjects: SubjectRepository
  apiKeys: ApiKeyRepository
  changes: ChangeLogRepository
  meta: MetaRepository
}

/** Pick the repository implementations for the opened database; "cannot serve" errors become 503s. */
export function createRepositories (handle: DatabaseHandle): Repositories {
  if (handle.kind === 'postgres') {
    return {
      flags: guardUnavailable(createPgFlagRepository(handle.db), isPgUnavailable),
      environments: guardUnavailable(createPgEnvironmentRepository(handle.db), isPgUnavailable),
      subjects: guardUnavailable(createPgSubjectRepository(handle.db), isPgUnavailable),
      apiKeys: guardUnavailable(createPgApiKeyRepository(handle.db), isPgUnavailable),
      changes: guardUnavailable(createPgChangeLogRepository(handle.db), isPgUnavailable),
      meta: guardUnavailable(createPgMetaRepository(handle.db), isPgUnavailable)
    }
  }
  return {
    flags: guardUnavailable(createSqliteFlagRepository(handle.db), isSqliteUnavailable),
    environments: guardUnavailable(createSqliteEnvironmentRepository(handle.db), isSqliteUnavailable),
    subjects: guardUnavailable(createSqliteSubjectRepository(handle.db), isSqliteUnavailable),
    apiKeys: guardUnavailable(createSqliteApiKeyRepository(handle.db), isSqliteUnavailable),
    changes: guardUnavailable(createSqliteChangeLogRepository(handle.db), isSqliteUnavailable),
    meta: guardUnavailable(createSqliteMetaRepository(handle.db), isSqliteUnavailable)
  }
}
