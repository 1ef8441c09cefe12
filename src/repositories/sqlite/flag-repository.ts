import { and, asc, eq, gt, max, sql } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { changeLog, flags, type FlagRow } from '../../db/schema/sqlite.js'
import { collectChanges } from '../change-set.js'
import { appendLog, inList } from './change-log.js'
import { FlagExistsError } from '../../errors.js'
import type { FlagRepository, StoredFlag } from '../flag-repository.js'

const toStored = (row: FlagRow): StoredFlag => ({ ...row })

function isUniqueViolation (err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE'
}

/** Escape LIKE wildcards so a user's `%` or `_` matches literally. */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** FlagRepository on SQLite. better-sqlite3 is synchronous, so each transaction is too. */
export function createSqliteFlagRepository (db: SqliteDb): FlagRepository {
  return {
    async get (name) {
      const row = db.select().from(flags).where(eq(flags.name, name)).get()
      return row === undefined ? undefined : toStored(row)
    },
    async getMany (names) {
      if (names.length === 0) return []
      return db.select().from(flags).where(inList(flags.name, names)).all().map(toStored)
    },
    async all () {
      return db.select().from(flags).orderBy(asc(flags.name)).all().map(toStored)
    },
    async list ({ limit, after, tag, q }) {
      const where = and(
        after === undefined ? undefined : gt(flags.name, after),
        tag === undefined ? undefined : sql`exists (select 1 from json_each(${flags.tags}) where json_each.value = ${tag})`,
        q === undefined ? undefined : sql`(lower(${flags.name}) like ${likePattern(q)} escape '\\' or lower(${flags.description}) like ${likePattern(q)} escape '\\')`
      )
      return db.select().from(flags).where(where).orderBy(asc(flags.name)).limit(limit).all().map(toStored)
    },
    async create (flag, audit) {
      try {
        return db.transaction((tx) => {
          tx.insert(flags).values(flag).run()
          return appendLog(tx, audit)
        }, { behavior: 'immediate' })
      } catch (err) {
        if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
        throw err
      }
    },
    async update (flag, expectedVersion, audit) {
      try {
        return db.transaction((tx) => {
          const { id, createdAt, ...changes } = flag
          const result = tx.update(flags).set(changes)
            .where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).run()
          if (result.changes === 0) return null
          return appendLog(tx, audit)
        }, { behavior: 'immediate' })
      } catch (err) {
        if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
        throw err
      }
    },
    async delete (id, expectedVersion, audit) {
      return db.transaction((tx) => {
        const result = tx.delete(flags).where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).run()
        if (result.changes === 0) return null
        return appendLog(tx, audit)
      }, { behavior: 'immediate' })
    },
    async latestRevision () {
      return db.select({ id: max(changeLog.id) }).from(changeLog).get()?.id ?? 0
    },
    async changesSince (revision, limit) {
      const rows = db.select({ id: changeLog.id, names: changeLog.names, users: changeLog.users, overrides: changeLog.overrides })
        .from(changeLog).where(gt(changeLog.id, revision)).orderBy(asc(changeLog.id)).limit(limit).all()
      return collectChanges(rows, revision)
    }
  }
}
