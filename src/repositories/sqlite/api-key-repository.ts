import { asc, eq, sql } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { apiKeys } from '../../db/schema/sqlite.js'
import { ApiKeyExistsError } from '../../errors.js'
import type { ApiKeyRepository } from '../flag-repository.js'
import { appendLog, isConstraint } from './change-log.js'

const IMMEDIATE = { behavior: 'immediate' } as const

/** ApiKeyRepository on SQLite. */
export function createSqliteApiKeyRepository (db: SqliteDb): ApiKeyRepository {
  return {
    async all () { return db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id)).all() },
    async get (id) { return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get() },
    async create (key, audit) {
      try {
        return db.transaction((tx) => {
          tx.insert(apiKeys).values(key).run()
          return appendLog(tx, audit)
        }, IMMEDIATE)
      } catch (err) {
        if (isConstraint(err, 'UNIQUE')) throw new ApiKeyExistsError(key.name)
        throw err
      }
    },
    async addFirst (key, audit) {
      return db.transaction((tx) => {
        if (tx.select({ id: apiKeys.id }).from(apiKeys).limit(1).get() !== undefined) return null
        tx.insert(apiKeys).values(key).run()
        return appendLog(tx, audit)
      }, IMMEDIATE)
    },
    async delete (id, audit) {
      return db.transaction((tx) => {
        if (tx.delete(apiKeys).where(eq(apiKeys.id, id)).run().changes === 0) return null
        return appendLog(tx, audit)
      }, IMMEDIATE)
    },
    async touch (uses) {
      if (uses.length === 0) return
      db.transaction((tx) => {
        for (const { id, at } of uses) {
          tx.update(apiKeys).set({ lastUsedAt: at })
            .where(sql`${apiKeys.id} = ${id} and (${apiKeys.lastUsedAt} is null or ${apiKeys.lastUsedAt} < ${at.getTime()})`).run()
        }
      })
    }
  }
}
