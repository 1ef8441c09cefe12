import { asc, count, eq, sql } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { changeLog, environments, flagEnvironments, flags, meta } from '../../db/schema/sqlite.js'
import { EnvironmentExistsError, EnvironmentNotFoundError } from '../../errors.js'
import type { EnvironmentRepository } from '../flag-repository.js'
import { appendLog, isConstraint } from './change-log.js'

const IMMEDIATE = { behavior: 'immediate' } as const

/** The meta row the migration writes: the environment existing flags were put in, until adoptDefault. */
const ADOPT_MARKER = 'adopt_environment'

/** EnvironmentRepository on SQLite. Deletes and key changes reach configurations and overrides by cascade. */
export function createSqliteEnvironmentRepository (db: SqliteDb): EnvironmentRepository {
  return {
    async all () {
      return db.select().from(environments).orderBy(asc(environments.position), asc(environments.key)).all()
    },
    async get (key) {
      return db.select().from(environments).where(eq(environments.key, key)).get()
    },
    async create (environment, copyFrom, audit) {
      return db.transaction((tx) => {
        try {
          tx.insert(environments).values(environment).run()
        } catch (err) {
          if (isConstraint(err, 'PRIMARYKEY') || isConstraint(err, 'UNIQUE')) throw new EnvironmentExistsError(environment.key)
          throw err
        }
        if (copyFrom === undefined) {
          // Every flag must be configured in every environment: without a source there is nothing to copy from.
          if (tx.select({ id: flags.id }).from(flags).limit(1).get() !== undefined) {
            throw new Error(`environment "${environment.key}" cannot be created without one to copy flag configurations from`)
          }
        } else {
          if (tx.select({ key: environments.key }).from(environments).where(eq(environments.key, copyFrom)).get() === undefined) {
            throw new EnvironmentNotFoundError(copyFrom)
          }
          // Copied served off; overrides are not copied.
          tx.insert(flagEnvironments).select(tx.select({
            flagId: flagEnvironments.flagId,
            environment: sql<string>`${environment.key}`.as('environment'),
            enabled: sql<boolean>`0`.as('enabled'),
            defaultVariant: flagEnvironments.defaultVariant,
            offVariant: flagEnvironments.offVariant,
            targetingRules: flagEnvironments.targetingRules
          }).from(flagEnvironments).where(eq(flagEnvironments.environment, copyFrom))).run()
        }
        return appendLog(tx, audit)
      }, IMMEDIATE)
    },
    async update (environment, audit) {
      return db.transaction((tx) => {
        const result = tx.update(environments).set({ name: environment.name, position: environment.position })
          .where(eq(environments.key, environment.key)).run()
        return result.changes === 0 ? null : appendLog(tx, audit)
      }, IMMEDIATE)
    },
    async delete (key, audit) {
      return db.transaction((tx) => {
        const result = tx.delete(environments).where(eq(environments.key, key)).run()
        return result.changes === 0 ? null : appendLog(tx, audit)
      }, IMMEDIATE)
    },
    async flagCount () {
      return db.select({ n: count() }).from(flags).get()?.n ?? 0
    },
    async adoptDefault (defaultKey, audit) {
      return db.transaction((tx) => {
        const marker = tx.delete(meta).where(eq(meta.key, ADOPT_MARKER)).returning({ value: meta.value }).get()
        if (marker === undefined || marker.value === defaultKey) return false
        if (tx.select({ key: environments.key }).from(environments).where(eq(environments.key, defaultKey)).get() !== undefined) return false
        // ON UPDATE CASCADE moves its flag configurations and overrides with it.
        const renamed = tx.update(environments).set({ key: defaultKey, name: defaultKey }).where(eq(environments.key, marker.value)).run()
        if (renamed.changes === 0) return false
        tx.update(changeLog).set({ environment: defaultKey }).where(eq(changeLog.environment, marker.value)).run()
        appendLog(tx, audit)
        return true
      }, IMMEDIATE)
    }
  }
}
