import { randomUUID } from 'node:crypto'
import type { Repositories } from '../index.js'
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
  return {
    flags: createMemoryFlagRepository(store),
    environments: createMemoryEnvironmentRepository(store),
    subjects: createMemorySubjectRepository(store),
    apiKeys: createMemoryApiKeyRepository(store),
    meta: { deploymentId: async () => deploymentId },
    log: store.log
  }
}
