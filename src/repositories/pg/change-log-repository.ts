import { and, lt, max, sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { changeLog } from '../../db/schema/pg.js'
import type { ChangeLogRepository, ChangeQuery } from '../change-log-repository.js'
import { changeLogQuery } from '../change-log-query.js'
import { writeTransaction } from './change-log.js'

const entry = {
  revision: changeLog.id,
  at: changeLog.at,
  actor: changeLog.actor,
  action: changeLog.action,
  environment: changeLog.environment,
  flagId: changeLog.flagId,
  flag: changeLog.flag,
  // Read as text and parsed once: node-pg already parses `json`, and Drizzle's json column then parses
  // a string again, so a recorded "123" would come back as 123 (and "null" as null).
  before: sql<unknown>`${changeLog.before}::text`.mapWith(parseJson),
  after: sql<unknown>`${changeLog.after}::text`.mapWith(parseJson)
}

function parseJson (text: string | null): unknown {
  return text === null ? null : JSON.parse(text)
}

/** Postgres text cannot hold NUL (a parameter with one fails the query): a filter with one matches nothing. */
const holdsNul = (q: ChangeQuery): boolean => [q.flagId, q.flag, q.environment, q.actor, q.action].some((v) => v?.includes('\u0000'))

/** The change log read back, on Postgres. */
export function createPgChangeLogRepository (db: PgDb): ChangeLogRepository {
  return {
    async list (query) {
      if (holdsNul(query)) return []
      const { where, orderBy } = changeLogQuery(changeLog, query)
      return db.select(entry).from(changeLog).where(where).orderBy(orderBy).limit(query.limit)
    },
    async prune (before) {
      // Under the change log's write lock, as every writer: the latest row stays (its id is the revision).
      return writeTransaction(db, async (tx) => {
        const [row] = await tx.select({ id: max(changeLog.id) }).from(changeLog)
        const deleted = await tx.delete(changeLog).where(and(lt(changeLog.at, before), lt(changeLog.id, row?.id ?? 0))).returning({ id: changeLog.id })
        return deleted.length
      })
    }
  }
}
