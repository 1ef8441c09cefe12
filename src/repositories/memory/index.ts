import { randomBytes, randomUUID } from 'node:crypto'
import type { Repositories } from '../index.js'
import { createMemoryChangeLogRepository } from './change-log-repository.js'
import { createMemoryEnvironmentRepository } from './environment-repository.js'
import { createMemoryApiKeyRepository, createMemoryFlagRepository, createMemoryStore, type LogRow } from './flag-repository.js'
import { createMemorySubjectRepository } from './subject-repository.js'

/**
 * Every repository in memory, sharing one store like tables share a database; `log` is the change log.
 * It starts as a freshly migrated database does: environments `development` and `production`.
 */
export function createMemoryRepositories (): Repositories & { log: LogRow[] } {
  const store = createMemoryStore()
  const deploymentId = randomUUID()
  const streamSecret = randomBytes(32).toString('base64url')
  return {
    flags: createMemoryFlagRepository(store),
    environments: createMemoryEnvironmentRepository(store),
    subjects: createMemorySubjectRepository(store),
    apiKeys: createMemoryApiKeyRepository(store),
    changes: createMemoryChangeLogRepository(store.log),
    meta: { deploymentId: async () => deploymentId, streamSecret: async () => streamSecret },
    log: store.log
  }
}
