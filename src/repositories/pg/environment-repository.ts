import { asc, count, eq, sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { changeLog, environments, flagEnvironments, flags, meta } from '../../db/schema/pg.js'
import { EnvironmentExistsError, EnvironmentNotFoundError } from '../../errors.js'
import type { EnvironmentRepository } from '../flag-repository.js'
import { appendLog, writeTransaction, type PgTx } from './change-log.js'
import { isUniqueViolation } from './errors.js'

/** The meta row the migration writes: the environment existing data was put in, until adoptDefault renames it. */
const ADOPT = 'adopt_environment'

const exists = async (tx: PgTx, key: string): Promise<boolean> =>
  (await tx.select({ key: environments.key }).from(environments).where(eq(environments.key, key)).limit(1)).length > 0

/** EnvironmentRepository on Postgres: the same semantics as the SQLite one, asynchronously. */
export function createPgEnvironmentRepository (db: PgDb): EnvironmentRepository {
  return {
    async all () {
      return await db.select().from(environments).orderBy(asc(environments.position), asc(environments.key))
    },
    async get (key) {
      return (await db.select().from(environments).where(eq(environments.key, key)).limit(1))[0]
    },
    async create (environment, copyFrom, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          // Writers go one at a time (writeTransaction): what these reads see still holds at the commit.
          if (await exists(tx, environment.key)) throw new EnvironmentExistsError(environment.key)
          if (copyFrom !== undefined && !await exists(tx, copyFrom)) throw new EnvironmentNotFoundError(copyFrom)
          if (copyFrom === undefined && (await tx.select({ id: flags.id }).from(flags).limit(1)).length > 0) {
            // Every flag must have a configuration in every environment, and there is none to copy.
            throw new Error(`creating environment "${environment.key}" needs an environment to copy the flags' configurations from`)
          }
          await tx.insert(environments).values(environment)
          if (copyFrom !== undefined) {
            // Each flag's configuration in copyFrom, served off; overrides are not copied.
            await tx.insert(flagEnvironments).select(tx.select({
              flagId: flagEnvironments.flagId,
              environment: sql<string>`${environment.key}`.as('environment'),
              enabled: sql<boolean>`false`.as('enabled'),
              defaultVariant: flagEnvironments.defaultVariant,
              offVariant: flagEnvironments.offVariant,
              targetingRules: flagEnvironments.targetingRules
            }).from(flagEnvironments).where(eq(flagEnvironments.environment, copyFrom)))
          }
          return await appendLog(tx, audit)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new EnvironmentExistsError(environment.key)
        throw err
      }
    },
    async update (environment, audit) {
      return await writeTransaction(db, async (tx) => {
        const updated = await tx.update(environments).set({ name: environment.name, position: environment.position })
          .where(eq(environments.key, environment.key)).returning({ key: environments.key })
        if (updated.length === 0) return null
        return await appendLog(tx, audit)
      })
    },
    async delete (key, audit) {
      return await writeTransaction(db, async (tx) => {
        // The cascades remove its flag configurations and overrides.
        const deleted = await tx.delete(environments).where(eq(environments.key, key)).returning({ key: environments.key })
        if (deleted.length === 0) return null
        return await appendLog(tx, audit)
      })
    },
    async flagCount () {
      const [row] = await db.select({ n: count() }).from(flags)
      return row.n
    },
    async adoptDefault (defaultKey, audit) {
      // Instances started together take turns (writeTransaction): the first consumes the marker, the others find none.
      return await writeTransaction(db, async (tx) => {
        const [marker] = await tx.delete(meta).where(eq(meta.key, ADOPT)).returning({ value: meta.value })
        if (marker === undefined || marker.value === defaultKey || await exists(tx, defaultKey)) return false
        // ON UPDATE CASCADE moves its flag configurations and overrides along.
        const renamed = await tx.update(environments).set({ key: defaultKey, name: defaultKey })
          .where(eq(environments.key, marker.value)).returning({ key: environments.key })
        if (renamed.length === 0) return false
        await tx.update(changeLog).set({ environment: defaultKey }).where(eq(changeLog.environment, marker.value))
        await appendLog(tx, audit)
        return true
      })
    }
  }
}
