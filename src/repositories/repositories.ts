import type { ChangeLogRepository } from './change-log-repository.js'
import type { ApiKeyRepository, EnvironmentRepository, FlagRepository, MetaRepository } from './flag-repository.js'
import type { SubjectRepository } from './subject-repository.js'

/** Every repository of one database (the in-memory fakes implement the same set). */
export interface Repositories {
  flags: FlagRepository
  environments: EnvironmentRepository
  subjects: SubjectRepository
  apiKeys: ApiKeyRepository
  changes: ChangeLogRepository
  meta: MetaRepository
}
