import type { ChangeLogRepository } from '../../src/repositories/change-log-repository.js'
import type { ApiKeyRepository, EnvironmentRepository, FlagRepository, MetaRepository } from '../../src/repositories/flag-repository.js'
import { openSqlite } from '../../src/db/sqlite-client.js'
import { migrateSqlite } from '../../src/db/migrate.js'
import { createMemoryRepositories } from '../../src/repositories/memory/index.js'
import { createPgApiKeyRepository } from '../../src/repositories/pg/api-key-repository.js'
import { createPgChangeLogRepository } from '../../src/repositories/pg/change-log-repository.js'
import { createPgEnvironmentRepository } from '../../src/repositories/pg/environment-repository.js'
import { createPgFlagRepository } from '../../src/repositories/pg/flag-repository.js'
import { createPgMetaRepository } from '../../src/repositories/pg/meta-repository.js'
import { createPgSubjectRepository } from '../../src/repositories/pg/subject-repository.js'
import { createSqliteApiKeyRepository } from '../../src/repositories/sqlite/api-key-repository.js'
import { createSqliteChangeLogRepository } from '../../src/repositories/sqlite/change-log-repository.js'
import { createSqliteEnvironmentRepository } from '../../src/repositories/sqlite/environment-repository.js'
import { createSqliteFlagRepository } from '../../src/repositories/sqlite/flag-repository.js'
import { createSqliteMetaRepository } from '../../src/repositories/sqlite/meta-repository.js'
import { createSqliteSubjectRepository } from '../../src/repositories/sqlite/subject-repository.js'
import type { SubjectRepository } from '../../src/repositories/subject-repository.js'
import { openIsolated, postgresUrlOrSkip } from '../support/postgres.js'

/** One contract, every implementation: the fake must behave like the databases. */
export interface TestLike { teardown (fn: () => unknown): void }
export interface Repos {
  flags: FlagRepository
  environments: EnvironmentRepository
  subjects: SubjectRepository
  apiKeys: ApiKeyRepository
  changes: ChangeLogRepository
  meta: MetaRepository
  /** The `environment` column of every change-log row, by id: what no repository method reads back. */
  logEnvironments (): Promise<Array<string | null>>
}
/**
 * The implementations a contract suite runs against: memory, SQLite (in memory) and, when Postgres is
 * reachable, a private schema of its own per test. `label` names the suite in the skip message.
 */
export async function repositoryImplementations (t: TestLike & Parameters<typeof postgresUrlOrSkip>[0], label: string): Promise<{
  implementations: Array<[string, (t: TestLike) => Promise<Repos>]>
  /** The Postgres URL, or null when Postgres is skipped (already reported). */
  pgUrl: string | null
}> {
  const pgUrl = await postgresUrlOrSkip(t, label)
  const implementations: Array<[string, (t: TestLike) => Promise<Repos>]> = [
    ['memory', async () => {
      const repos = createMemoryRepositories()
      return { ...repos, logEnvironments: async () => repos.log.map((row) => row.environment) }
    }],
    ['sqlite', async (t) => {
      const handle = openSqlite(':memory:')
      migrateSqlite(handle)
      t.teardown(() => handle.close())
      const { db } = handle
      return {
        flags: createSqliteFlagRepository(db),
        environments: createSqliteEnvironmentRepository(db),
        subjects: createSqliteSubjectRepository(db),
        apiKeys: createSqliteApiKeyRepository(db),
        changes: createSqliteChangeLogRepository(db),
        meta: createSqliteMetaRepository(db),
        logEnvironments: async () => (handle.raw.prepare('select environment from change_log order by id').all() as Array<{ environment: string | null }>).map((r) => r.environment)
      }
    }],
    // A schema of its own per test: every test starts from revision 0, and files run in parallel.
    ...(pgUrl === null
      ? []
      : [['postgres', async (t: TestLike) => {
          const { db, pool } = await openIsolated(t, pgUrl)
          return {
            flags: createPgFlagRepository(db),
            environments: createPgEnvironmentRepository(db),
            subjects: createPgSubjectRepository(db),
            apiKeys: createPgApiKeyRepository(db),
            changes: createPgChangeLogRepository(db),
            meta: createPgMetaRepository(db),
            logEnvironments: async () => (await pool.query<{ environment: string | null }>('select environment from change_log order by id')).rows.map((r) => r.environment)
          }
        }] as [string, (t: TestLike) => Promise<Repos>]])
  ]
  return { implementations, pgUrl }
}
