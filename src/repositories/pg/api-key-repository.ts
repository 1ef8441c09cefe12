import { asc, eq, sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { apiKeys } from '../../db/schema/pg.js'
import { ApiKeyExistsError } from '../../errors.js'
import type { ApiKeyRepository } from '../flag-repository.js'
import { appendLog, writeTransaction } from './change-log.js'
import { isUniqueViolation } from './errors.js'

/** ApiKeyRepository on Postgres. */
export function createPgApiKeyRepository (db: PgDb): ApiKeyRepository {
  return {
    async all () { return await db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id)) },
    async get (id) {
      const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1)
      return row
    },
    async create (key, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          await tx.insert(apiKeys).values(key)
          return await appendLog(tx, audit)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApiKeyExistsError(key.name)
        throw err
      }
    },
    async addFirst (key, audit) {
      // writeTransaction serializes writers, so "no key yet" still holds when the insert commits.
      return await writeTransaction(db, async (tx) => {
        if ((await tx.select({ id: apiKeys.id }).from(apiKeys).limit(1)).length > 0) return null
        await tx.insert(apiKeys).values(key)
        return await appendLog(tx, audit)
      })
    },
    async delete (id, audit) {
      return await writeTransaction(db, async (tx) => {
        const gone = await tx.delete(apiKeys).where(eq(apiKeys.id, id)).returning({ id: apiKeys.id })
        if (gone.length === 0) return null
        return await appendLog(tx, audit)
      })
    },
    async touch (uses) {
      if (uses.length === 0) return
      // One statement for the batch; not a writeTransaction: no change-log row, and a lost touch only
      // makes "last used" a minute older.
      // Each array is ONE parameter (sql.param), whatever the batch's size.
      const ids = uses.map((u) => u.id)
      const times = uses.map((u) => u.at.toISOString())
      await db.execute(sql`update ${apiKeys} set last_used_at = u.at
        from (select unnest(${sql.param(ids)}::text[]) as id, unnest(${sql.param(times)}::timestamptz[]) as at) as u
        where ${apiKeys.id} = u.id and (${apiKeys.lastUsedAt} is null or ${apiKeys.lastUsedAt} < u.at)`)
    }
  }
}
