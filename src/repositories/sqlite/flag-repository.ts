import { and, asc, eq, gt, max, sql } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { changeLog, environments, flagEnvironments, flags, overrides } from '../../db/schema/sqlite.js'
import { collectChanges } from '../change-set.js'
import { appendLog, inList } from './change-log.js'
import { EnvironmentNotFoundError, FlagExistsError } from '../../errors.js'
import { offElsewhere, storedFlagColumns, type AuditEntry, type FlagRepository, type StoredFlag } from '../flag-repository.js'

type Tx = Parameters<Parameters<SqliteDb['transaction']>[0]>[0]
const IMMEDIATE = { behavior: 'immediate' } as const

const storedFlag = storedFlagColumns(flags, flagEnvironments)

/** `flags` joined with `flag_environments`: one row per (flag, environment). */
const joined = (db: Pick<SqliteDb, 'select'>) =>
  db.select(storedFlag).from(flags).innerJoin(flagEnvironments, eq(flagEnvironments.flagId, flags.id))

/** A StoredFlag split into the `flags` row and its `flag_environments` configuration. */
function split (flag: StoredFlag): { definition: typeof flags.$inferInsert, configuration: Omit<typeof flagEnvironments.$inferInsert, 'environment' | 'flagId'> } {
  const { environment, enabled, defaultVariant, offVariant, targetingRules, ...definition } = flag
  return { definition, configuration: { enabled, defaultVariant, offVariant, targetingRules } }
}

const isUniqueViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE'

/** Escape LIKE wildcards so a user's `%` or `_` matches literally. */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** Overrides inserted per statement: 8 columns each, well under SQLite's 32,766 bound parameters. */
const OVERRIDE_BATCH = 500

/** Thrown inside a multi-flag transaction when a version moved: rolls it back, caught outside. */
class VersionMoved extends Error {}

/**
 * One `update` inside the caller's transaction: the definition if its version is still `expectedVersion`
 * (null, nothing written, otherwise), the configuration in `flag.environment` (its absence throws
 * EnvironmentNotFoundError, which rolls the transaction back), the change-log row.
 */
function applyUpdate (tx: Tx, flag: StoredFlag, expectedVersion: number, audit: AuditEntry): number | null {
  const { definition: { id, createdAt, ...changes }, configuration } = split(flag)
  let result
  try {
    result = tx.update(flags).set(changes).where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).run()
  } catch (err) {
    if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
    throw err
  }
  if (result.changes === 0) return null
  const configured = tx.update(flagEnvironments).set(configuration)
    .where(and(eq(flagEnvironments.flagId, id), eq(flagEnvironments.environment, flag.environment))).run()
  if (configured.changes === 0) throw new EnvironmentNotFoundError(flag.environment)
  return appendLog(tx, audit)
}

/** FlagRepository on SQLite. better-sqlite3 is synchronous, so each transaction is too. */
export function createSqliteFlagRepository (db: SqliteDb): FlagRepository {
  const latestRevision = (): number => db.select({ id: max(changeLog.id) }).from(changeLog).get()?.id ?? 0
  return {
    async get (environment, name) {
      return joined(db).where(and(eq(flags.name, name), eq(flagEnvironments.environment, environment))).get()
    },
    async getMany (names) {
      if (names.length === 0) return []
      return joined(db).where(inList(flags.name, names)).orderBy(asc(flags.name), asc(flagEnvironments.environment)).all()
    },
    async all () {
      return joined(db).orderBy(asc(flags.name), asc(flagEnvironments.environment)).all()
    },
    async list (environment, { limit, after, tag, q }) {
      const where = and(
        eq(flagEnvironments.environment, environment),
        after === undefined ? undefined : gt(flags.name, after),
        tag === undefined ? undefined : sql`exists (select 1 from json_each(${flags.tags}) where json_each.value = ${tag})`,
        q === undefined ? undefined : sql`(lower(${flags.name}) like ${likePattern(q)} escape '\\' or lower(${flags.description}) like ${likePattern(q)} escape '\\')`
      )
      return joined(db).where(where).orderBy(asc(flags.name)).limit(limit).all()
    },
    async create (flag, audit) {
      try {
        return db.transaction((tx) => {
          const keys = tx.select({ key: environments.key }).from(environments).all().map((e) => e.key)
          if (!keys.includes(flag.environment)) throw new EnvironmentNotFoundError(flag.environment)
          const { definition, configuration } = split(flag)
          tx.insert(flags).values(definition).run()
          tx.insert(flagEnvironments).values(keys.map((environment) => ({
            ...(environment === flag.environment ? configuration : offElsewhere(configuration)), flagId: flag.id, environment
          }))).run()
          return appendLog(tx, audit)
        }, IMMEDIATE)
      } catch (err) {
        if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
        throw err
      }
    },
    async update (flag, expectedVersion, audit) {
      return db.transaction((tx) => applyUpdate(tx, flag, expectedVersion, audit), IMMEDIATE)
    },
    async updateMany (changes) {
      if (changes.length === 0) return latestRevision()
      try {
        return db.transaction((tx) => {
          let revision = 0
          for (const { flag, expectedVersion, audit, overrides: replacement } of changes) {
            const written = applyUpdate(tx, flag, expectedVersion, audit)
            if (written === null) throw new VersionMoved()
            revision = written
            if (replacement === undefined) continue
            tx.delete(overrides).where(and(eq(overrides.flagId, flag.id), eq(overrides.environment, flag.environment))).run()
            for (let i = 0; i < replacement.length; i += OVERRIDE_BATCH) {
              tx.insert(overrides).values(replacement.slice(i, i + OVERRIDE_BATCH)
                .map((o) => ({ ...o, flagId: flag.id, environment: flag.environment }))).run()
            }
          }
          return revision
        }, IMMEDIATE)
      } catch (err) {
        if (err instanceof VersionMoved) return null
        throw err
      }
    },
    async delete (id, expectedVersion, audit) {
      return db.transaction((tx) => {
        const result = tx.delete(flags).where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).run()
        if (result.changes === 0) return null
        return appendLog(tx, audit)
      }, IMMEDIATE)
    },
    async latestRevision () {
      return latestRevision()
    },
    async changesSince (revision, limit) {
      const rows = db.select({ id: changeLog.id, action: changeLog.action, names: changeLog.names, users: changeLog.users, overrides: changeLog.overrides })
        .from(changeLog).where(gt(changeLog.id, revision)).orderBy(asc(changeLog.id)).limit(limit).all()
      return collectChanges(rows, revision)
    }
  }
}
