import { and, asc, eq, gt, isNotNull, sql } from 'drizzle-orm'
import type { PgDb } from '../../db/pg-client.js'
import { customers, environments, flags, overrides, users } from '../../db/schema/pg.js'
import { CustomerExistsError, EnvironmentNotFoundError, FlagNotFoundError, UserExistsError } from '../../errors.js'
import { listBySubject, overrideSliceQuery } from '../override-query.js'
import type { SubjectRepository, UserCustomer } from '../subject-repository.js'
import { appendLog, writeTransaction, type PgTx } from './change-log.js'
import { isForeignKeyViolation, isUniqueViolation } from './errors.js'
import { inList } from './in-list.js'

/** Names of the flags that have overrides for one subject, in any environment (what a removal must refresh). */
const flagsOverriding = async (tx: PgTx, subject: 'customer' | 'user', id: string): Promise<string[]> =>
  (await tx.selectDistinct({ name: flags.name }).from(overrides).innerJoin(flags, eq(flags.id, overrides.flagId))
    .where(and(eq(overrides.subject, subject), eq(overrides.subjectId, id)))).map((r) => r.name)

/** The columns of an override the snapshot compiles. */
const overrideState = { flagId: overrides.flagId, environment: overrides.environment, subject: overrides.subject, subjectId: overrides.subjectId, enabled: overrides.enabled, variant: overrides.variant }

/** SubjectRepository on Postgres: the same semantics as the SQLite one, asynchronously. */
export function createPgSubjectRepository (db: PgDb): SubjectRepository {
  // Scans over every customer read ids only; a named statement is planned once per connection.
  const idsFrom = db.select({ id: customers.id }).from(customers)
    .where(gt(customers.id, sql.placeholder('after'))).orderBy(asc(customers.id)).limit(sql.placeholder('limit'))
    .prepare('flagpost_customer_ids')
  const exists = async (tx: PgTx, table: typeof customers | typeof users, id: string): Promise<boolean> =>
    (await tx.select({ id: table.id }).from(table).where(eq(table.id, id)).limit(1)).length > 0
  return {
    async getCustomer (id) { return (await db.select().from(customers).where(eq(customers.id, id)).limit(1))[0] },
    async getCustomers (ids) {
      return ids.length === 0 ? [] : await db.select().from(customers).where(inList(customers.id, ids)).orderBy(asc(customers.id))
    },
    async customerIds ({ limit, after }) { return (await idsFrom.execute({ after: after ?? '', limit })).map((r) => r.id) },
    async listCustomers ({ limit, after }) {
      return await db.select().from(customers).where(after === undefined ? undefined : gt(customers.id, after)).orderBy(asc(customers.id)).limit(limit)
    },
    async addCustomer (customer, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          await tx.insert(customers).values(customer)
          return await appendLog(tx, { ...audit, names: [] })
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new CustomerExistsError(customer.id)
        throw err
      }
    },
    async removeCustomer (id, audit) {
      return await writeTransaction(db, async (tx) => {
        if (!await exists(tx, customers, id)) return null
        const names = await flagsOverriding(tx, 'customer', id)
        const detached = (await tx.select({ id: users.id }).from(users).where(eq(users.customerId, id)).orderBy(asc(users.id))).map((u) => u.id)
        await tx.delete(overrides).where(and(eq(overrides.subject, 'customer'), eq(overrides.subjectId, id)))
        await tx.update(users).set({ customerId: null }).where(eq(users.customerId, id))
        await tx.delete(customers).where(eq(customers.id, id))
        return await appendLog(tx, { ...audit, names, users: detached })
      })
    },

    async getUser (id) { return (await db.select().from(users).where(eq(users.id, id)).limit(1))[0] },
    async getUsers (ids) { return ids.length === 0 ? [] : await db.select().from(users).where(inList(users.id, ids)) },
    async listUsers ({ limit, after, customerId }) {
      const where = and(after === undefined ? undefined : gt(users.id, after), customerId === undefined ? undefined : eq(users.customerId, customerId))
      return await db.select().from(users).where(where).orderBy(asc(users.id)).limit(limit)
    },
    async userCustomerPage (after, limit) {
      return await db.select({ id: users.id, customerId: users.customerId }).from(users)
        .where(and(isNotNull(users.customerId), after === undefined ? undefined : gt(users.id, after)))
        .orderBy(asc(users.id)).limit(limit) as UserCustomer[]
    },
    async addUser (user, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          if (user.customerId !== null) await tx.insert(customers).values({ id: user.customerId, name: null, createdAt: user.createdAt }).onConflictDoNothing()
          await tx.insert(users).values(user)
          return await appendLog(tx, { ...audit, names: [], users: [user.id] })
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new UserExistsError(user.id)
        throw err
      }
    },
    async removeUser (id, audit) {
      return await writeTransaction(db, async (tx) => {
        if (!await exists(tx, users, id)) return null
        const names = await flagsOverriding(tx, 'user', id)
        await tx.delete(overrides).where(and(eq(overrides.subject, 'user'), eq(overrides.subjectId, id)))
        await tx.delete(users).where(eq(users.id, id))
        return await appendLog(tx, { ...audit, names, users: [id] })
      })
    },

    async setOverride (override, flagName, audit) {
      try {
        return await writeTransaction(db, async (tx) => {
          // Writers go one at a time (writeTransaction): the environment is still there at the commit.
          const known = await tx.select({ key: environments.key }).from(environments).where(eq(environments.key, override.environment)).limit(1)
          if (known.length === 0) throw new EnvironmentNotFoundError(override.environment)
          const at = override.createdAt
          if (override.subject === 'customer') await tx.insert(customers).values({ id: override.subjectId, name: null, createdAt: at }).onConflictDoNothing()
          else await tx.insert(users).values({ id: override.subjectId, customerId: null, createdAt: at }).onConflictDoNothing()
          await tx.insert(overrides).values(override).onConflictDoUpdate({
            target: [overrides.flagId, overrides.environment, overrides.subject, overrides.subjectId],
            set: { enabled: override.enabled, variant: override.variant, updatedAt: override.updatedAt }
          })
          return await appendLog(tx, { ...audit, environment: override.environment, names: [], overrides: [[flagName, override.subject, override.subjectId, override.environment]] })
        })
      } catch (err) {
        // The flag was deleted between the service's read and this write.
        if (isForeignKeyViolation(err)) throw new FlagNotFoundError(flagName)
        throw err
      }
    },
    async clearOverride (flagId, flagName, environment, subject, subjectId, audit) {
      return await writeTransaction(db, async (tx) => {
        const cleared = await tx.delete(overrides)
          .where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment), eq(overrides.subject, subject), eq(overrides.subjectId, subjectId)))
          .returning({ flagId: overrides.flagId })
        return cleared.length === 0 ? null : await appendLog(tx, { ...audit, environment, names: [], overrides: [[flagName, subject, subjectId, environment]] })
      })
    },
    async getOverride (flagId, environment, subject, subjectId) {
      return (await db.select().from(overrides)
        .where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment), eq(overrides.subject, subject), eq(overrides.subjectId, subjectId))).limit(1))[0]
    },
    async listOverrides (flagId, environment, query) {
      return await listBySubject(query, async (subject, after, limit) => {
        const { where, orderBy } = overrideSliceQuery(overrides, flagId, environment, subject, after, query)
        return await db.select().from(overrides).where(where).orderBy(orderBy).limit(limit)
      })
    },
    async overridesOf (flagIds) {
      if (flagIds.length === 0) return []
      return await db.select(overrideState).from(overrides).where(inList(overrides.flagId, flagIds))
    },
    async overridePage (after, limit) {
      return await db.select(overrideState).from(overrides)
        .where(after === undefined ? undefined : sql`(${overrides.flagId}, ${overrides.environment}, ${overrides.subject}, ${overrides.subjectId}) > (${after.flagId}, ${after.environment}, ${after.subject}, ${after.subjectId})`)
        .orderBy(asc(overrides.flagId), asc(overrides.environment), asc(overrides.subject), asc(overrides.subjectId)).limit(limit)
    },
    async customersWithOverride (flagId, environment, enabled, { limit, after }) {
      return await db.select({ id: customers.id, name: customers.name, createdAt: customers.createdAt }).from(overrides)
        .innerJoin(customers, eq(customers.id, overrides.subjectId))
        .where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment), eq(overrides.subject, 'customer'), eq(overrides.enabled, enabled),
          after === undefined ? undefined : gt(overrides.subjectId, after)))
        .orderBy(asc(overrides.subjectId)).limit(limit)
    }
  }
}
