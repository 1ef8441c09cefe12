import { and, asc, eq, gt, max, sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { changeLog, environments, flagEnvironments, flags, overrides } from '../../db/schema/pg.js'
import { EnvironmentNotFoundError, FlagExistsError } from '../../errors.js'
import { collectChanges } from '../change-set.js'
import { offElsewhere, storedFlagColumns, type AuditEntry, type FlagRepository, type FlagUpdate, type StoredFlag } from '../flag-repository.js'
import type { StoredOverride } from '../subject-repository.js'
import { appendLog, writeTransaction, type PgTx } from './change-log.js'
import { isUniqueViolation } from './errors.js'
import { inList } from './in-list.js'

const stored = storedFlagColumns(flags, flagEnvironments)

/** Escape LIKE wildcards so a user's `%` or `_` matches literally (backslash is LIKE's default escape). */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** A flag's columns split by table: `flags` (the definition, less its keys) and `flag_environments` (the configuration). */
function split ({ id, createdAt, environment, enabled, defaultVariant, offVariant, targetingRules, ...definition }: StoredFlag) {
  return { id, environment, definition, configuration: { enabled, defaultVariant, offVariant, targetingRules } }
}

/** Thrown inside updateMany's transaction when a version moved: rolls every change back. */
class VersionMoved extends Error {}

/**
 * What `update` does, inside the caller's transaction: null (nothing written) when the version moved;
 * throws FlagExistsError on a name taken, EnvironmentNotFoundError when the flag has no configuration in
 * `flag.environment` (either aborts the transaction).
 */
async function replace (tx: PgTx, flag: StoredFlag, expectedVersion: number, audit: AuditEntry): Promise<number | null> {
  const { id, environment, definition, configuration } = split(flag)
  let updated
  try {
    updated = await tx.update(flags).set(definition)
      .where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).returning({ id: flags.id })
  } catch (err) {
    if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
    throw err
  }
  if (updated.length === 0) return null
  const configured = await tx.update(flagEnvironments).set(configuration)
    .where(and(eq(flagEnvironments.flagId, id), eq(flagEnvironments.environment, environment))).returning({ id: flagEnvironments.flagId })
  if (configured.length === 0) throw new EnvironmentNotFoundError(environment)
  return await appendLog(tx, audit)
}

/**
 * Every override of `flagId` in `environment` becomes exactly `rows`. The rows go in as one array
 * parameter per column (unnest), not one parameter per value: a flag may have 100k overrides, and
 * Postgres refuses more than 65,535 parameters in a statement.
 */
async function replaceOverrides (tx: PgTx, flagId: string, environment: string, rows: StoredOverride[]): Promise<void> {
  await tx.delete(overrides).where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment)))
  if (rows.length === 0) return
  await tx.execute(sql`insert into ${overrides} (flag_id, environment, subject, subject_id, enabled, variant, created_at, updated_at)
    select ${flagId}, ${environment}, t.subject, t.subject_id, t.enabled, t.variant, t.created_at, t.updated_at
    from unnest(${sql.param(rows.map((o) => o.subject))}::text[], ${sql.param(rows.map((o) => o.subjectId))}::text[],
      ${sql.param(rows.map((o) => o.enabled))}::boolean[], ${sql.param(rows.map((o) => o.variant))}::text[],
      ${sql.param(rows.map((o) => o.createdAt))}::timestamptz[], ${sql.param(rows.map((o) => o.updatedAt))}::timestamptz[])
      as t(subject, subject_id, enabled, variant, created_at, updated_at)`)
}

/** FlagRepository on Postgres: the same semantics as the SQLite one, asynchronously. */
export function createPgFlagRepository (db: PgDb): FlagRepository {
  const joined = () => db.select(stored).from(flags).innerJoin(flagEnvironments, eq(flagEnvironments.flagId, flags.id))
  const latestRevision = async (): Promise<number> => {
    const [row] = await db.select({ id: max(changeLog.id) }).from(changeLog)
    return row?.id ?? 0
  }
  return {
    async get (environment, name) {
      const [row] = await joined().where(and(eq(flags.name, name), eq(flagEnvironments.environment, environment))).limit(1)
      return row
    },
    async getMany (names) {
      if (names.length === 0) return []
      return await joined().where(inList(flags.name, names)).orderBy(asc(flags.name), asc(flagEnvironments.environment))
    },
    async all () {
      return await joined().orderBy(asc(flags.name), asc(flagEnvironments.environment))
    },
    async list (environment, { limit, after, tag, q }) {
      const where = and(
        eq(flagEnvironments.environment, environment),
        after === undefined ? undefined : gt(flags.name, after),
        tag === undefined ? undefined : sql`exists (select 1 from json_array_elements_text(${flags.tags}) as t(tag) where t.tag = ${tag})`,
        q === undefined ? undefined : sql`(lower(${flags.name}) like ${likePattern(q)} or lower(${flags.description}) like ${likePattern(q)})`
      )
      return await joined().where(where).orderBy(asc(flags.name)).limit(limit)
    },
    async create (flag, audit) {
      const { id, environment, definition, configuration } = split(flag)
      try {
        return await writeTransaction(db, async (tx) => {
          // Writers go one at a time (writeTransaction), so no environment comes or goes before the commit.
          const keys = (await tx.select({ key: environments.key }).from(environments)).map((e) => e.key)
          if (!keys.includes(environment)) throw new EnvironmentNotFoundError(environment)
          await tx.insert(flags).values({ id, createdAt: flag.createdAt, ...definition })
          await tx.insert(flagEnvironments).values(keys.map((key) =>
            ({ flagId: id, environment: key, ...(key === environment ? configuration : offElsewhere(configuration)) })))
          return await appendLog(tx, audit)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
        throw err
      }
    },
    async update (flag, expectedVersion, audit) {
      return await writeTransaction(db, async (tx) => await replace(tx, flag, expectedVersion, audit))
    },
    async updateMany (changes: FlagUpdate[]) {
      if (changes.length === 0) return await latestRevision()
      try {
        return await writeTransaction(db, async (tx) => {
          // Versions first, as the changes would move them one after the other: a mismatch then
          // writes nothing at all (no change-log id is spent on a row that is rolled back).
          const ids = [...new Set(changes.map((c) => c.flag.id))]
          const versions = new Map((await tx.select({ id: flags.id, version: flags.version }).from(flags).where(inList(flags.id, ids))).map((f) => [f.id, f.version]))
          for (const { flag, expectedVersion } of changes) {
            if (versions.get(flag.id) !== expectedVersion) return null
            versions.set(flag.id, flag.version)
          }
          let revision = 0
          for (const { flag, expectedVersion, audit, overrides: rows } of changes) {
            const written = await replace(tx, flag, expectedVersion, audit)
            // Cannot happen after the check above (writers go one at a time); if it did, throwing (not
            // returning) makes writeTransaction roll back the changes already made.
            if (written === null) throw new VersionMoved()
            revision = written
            if (rows !== undefined) await replaceOverrides(tx, flag.id, flag.environment, rows)
          }
          return revision
        })
      } catch (err) {
        if (err instanceof VersionMoved) return null
        throw err
      }
    },
    async delete (id, expectedVersion, audit) {
      return await writeTransaction(db, async (tx) => {
        // The cascades remove its configurations and overrides in every environment.
        const deleted = await tx.delete(flags).where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).returning({ id: flags.id })
        if (deleted.length === 0) return null
        return await appendLog(tx, audit)
      })
    },
    latestRevision,
    async changesSince (revision, limit) {
      const rows = await db.select({ id: changeLog.id, action: changeLog.action, names: changeLog.names, users: changeLog.users, overrides: changeLog.overrides })
        .from(changeLog).where(gt(changeLog.id, revision)).orderBy(asc(changeLog.id)).limit(limit)
      return collectChanges(rows, revision)
    }
  }
}
