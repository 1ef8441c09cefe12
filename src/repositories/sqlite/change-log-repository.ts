import { and, lt, max } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { changeLog } from '../../db/schema/sqlite.js'
import type { ChangeLogRepository } from '../change-log-repository.js'
import { changeLogQuery } from '../change-log-query.js'

const entry = {
  revision: changeLog.id,
  at: changeLog.at,
  actor: changeLog.actor,
  action: changeLog.action,
  environment: changeLog.environment,
  flagId: changeLog.flagId,
  flag: changeLog.flag,
  before: changeLog.before,
  after: changeLog.after
}

/** The change log read back, on SQLite. */
export function createSqliteChangeLogRepository (db: SqliteDb): ChangeLogRepository {
  return {
    async list (query) {
      const { where, orderBy } = changeLogQuery(changeLog, query)
      return db.select(entry).from(changeLog).where(where).orderBy(orderBy).limit(query.limit).all()
    },
    async prune (before) {
      return db.transaction((tx) => {
        // The latest row stays: its id is the revision every instance compares against.
        const latest = tx.select({ id: max(changeLog.id) }).from(changeLog).get()?.id ?? 0
        return tx.delete(changeLog).where(and(lt(changeLog.at, before), lt(changeLog.id, latest))).run().changes
      }, { behavior: 'immediate' })
    }
  }
}
