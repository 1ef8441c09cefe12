import { and, asc, eq, gt, max, sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { changeLog, flags, type FlagRow } from '../../db/schema/pg.js'
import { FlagExistsError } from '../../errors.js'
import { collectChanges } from '../change-set.js'
import type { FlagRepository, StoredFlag } from '../flag-repository.js'
import { appendLog, writeTransaction } from './change-log.js'
import { isUniqueViolation } from './errors.js'
import { inList } from './in-list.js'

const toStored = (row: FlagRow): StoredFlag => ({ ...row })

/** Escape LIKE wildcards so a user's `%` or `_` matches literally (backslash is LIKE's default escape). */
const likePattern = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** FlagRepository on Postgres: the same semantics as the SQLite one, asynchronously. */
export function createPgFlagRepository (db: PgDb): FlagRepository {
  return {
    async get (name) {
      const [row] = await db.select().from(flags).where(eq(flags.name, name)).limit(1)
      return row === undefined ? undefined : toStored(row)
    },
    async getMany (names) {
      if (names.length === 0) return []
      return (await db.select().from(flags).where(inList(flags.name, names))).map(toStored)
    },
    async all () {
      return (await db.select().from(flags).orderBy(asc(flags.name))).map(toStored)
    },
    async list ({ limit, after, tag, q }) {
      const where = and(
        after === undefined ? undefined : gt(flags.name, after),
        tag === undefined ? undefined : sql`exists (select 1 from json_array_elements_text(${flags.tags}) as t(tag) where t.tag = ${tag})`,
        q === undefined ? undefined : sql`(lower(${flags.name}) like ${likePattern(q)} or lower(${flags.description}) like ${likePattern(q)})`
      )
      return (await db.select().from(flags).where(where).orderBy(asc(flags.name)).limit(limit)).map(toStored)
    },
    async create (flag, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          await tx.insert(flags).values(flag)
          return await appendLog(tx, audit)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
        throw err
      }
    },
    async update (flag, expectedVersion, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          const { id, createdAt, ...changes } = flag
          const updated = await tx.update(flags).set(changes)
            .where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).returning({ id: flags.id })
          if (updated.length === 0) return null
          return await appendLog(tx, audit)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new FlagExistsError(flag.name)
        throw err
      }
    },
    async delete (id, expectedVersion, audit) {
      return await writeTransaction(db, async (tx) => {
        const deleted = await tx.delete(flags).where(and(eq(flags.id, id), eq(flags.version, expectedVersion))).returning({ id: flags.id })
        if (deleted.length === 0) return null
        return await appendLog(tx, audit)
      })
    },
    async latestRevision () {
      const [row] = await db.select({ id: max(changeLog.id) }).from(changeLog)
      return row?.id ?? 0
    },
    async changesSince (revision, limit) {
      const rows = await db.select({ id: changeLog.id, names: changeLog.names, users: changeLog.users, overrides: changeLog.overrides })
        .from(changeLog).where(gt(changeLog.id, revision)).orderBy(asc(changeLog.id)).limit(limit)
      return collectChanges(rows, revision)
    }
  }
}
