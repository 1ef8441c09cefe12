import type { SqliteDb } from '../../db/sqlite-client.js'
import type { Repositories } from '../repositories.js'
import { guardUnavailable } from '../unavailable.js'
import { createSqliteApiKeyRepository } from './api-key-repository.js'
import { createSqliteChangeLogRepository } from './change-log-repository.js'
import { createSqliteEnvironmentRepository } from './environment-repository.js'
import { createSqliteFlagRepository } from './flag-repository.js'
import { createSqliteMetaRepository } from './meta-repository.js'
import { createSqliteSubjectRepository } from './subject-repository.js'
import { isSqliteUnavailable } from './unavailable.js'

/** The SQLite repositories; "cannot serve" errors become 503s. */
export function createSqliteRepositories (db: SqliteDb): Repositories {
  return {
    flags: guardUnavailable(createSqliteFlagRepository(db), isSqliteUnavailable),
    environments: guardUnavailable(createSqliteEnvironmentRepository(db), isSqliteUnavailable),
    subjects: guardUnavailable(createSqliteSubjectRepository(db), isSqliteUnavailable),
    apiKeys: guardUnavailable(createSqliteApiKeyRepository(db), isSqliteUnavailable),
    changes: guardUnavailable(createSqliteChangeLogRepository(db), isSqliteUnavailable),
    meta: guardUnavailable(createSqliteMetaRepository(db), isSqliteUnavailable)
  }
}
