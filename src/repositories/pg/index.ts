import type { PgDb } from '../../db/pg-client.js'
import type { Repositories } from '../repositories.js'
import { guardUnavailable } from '../unavailable.js'
import { createPgApiKeyRepository } from './api-key-repository.js'
import { createPgChangeLogRepository } from './change-log-repository.js'
import { createPgEnvironmentRepository } from './environment-repository.js'
import { createPgFlagRepository } from './flag-repository.js'
import { createPgMetaRepository } from './meta-repository.js'
import { createPgSubjectRepository } from './subject-repository.js'
import { isPgUnavailable } from './unavailable.js'

/** The Postgres repositories; "cannot serve" errors become 503s. */
export function createPgRepositories (db: PgDb): Repositories {
  return {
    flags: guardUnavailable(createPgFlagRepository(db), isPgUnavailable),
    environments: guardUnavailable(createPgEnvironmentRepository(db), isPgUnavailable),
    subjects: guardUnavailable(createPgSubjectRepository(db), isPgUnavailable),
    apiKeys: guardUnavailable(createPgApiKeyRepository(db), isPgUnavailable),
    changes: guardUnavailable(createPgChangeLogRepository(db), isPgUnavailable),
    meta: guardUnavailable(createPgMetaRepository(db), isPgUnavailable)
  }
}
