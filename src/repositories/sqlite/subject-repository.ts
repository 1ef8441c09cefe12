import { and, asc, eq, gt, isNotNull, sql } from 'drizzle-orm'
import type { SqliteDb } from '../../db/sqlite-client.js'
import { customers, environments, flags, overrides, users } from '../../db/schema/sqlite.js'
import { CustomerExistsError, EnvironmentNotFoundError, FlagNotFoundError, UserExistsError } from '../../errors.js'
import { listBySubject, overrideSliceQuery } from '../override-query.js'
import type { SubjectRepository, UserCustomer } from '../subject-repository.js'
import { appendLog, inList, isConstraint } from './change-log.js'

type Tx = Parameters<Parameters<SqliteDb['transaction']>[0]>[0]
const IMMEDIATE = { behavior: 'immediate' } as const

/** Names of the flags that have overrides for one subject in any environment (what a removal must refresh). */
const flagsOverriding = (tx: Tx, subject: 'customer' | 'user', id: string): string[] =>
  tx.selectDistinct({ name: flags.name }).from(overrides).innerJoin(flags, eq(flags.id, overrides.flagId))
    .where(and(eq(overrides.subject, subject), eq(overrides.subjectId, id))).all().map((r) => r.name)

/** The columns of an override the snapshot compiles. */
const overrideState = { flagId: overrides.flagId, environment: overrides.environment, subject: overrides.subject, subjectId: overrides.subjectId, enabled: overrides.enabled, variant: overrides.variant }

/** SubjectRepository on SQLite. */
export function createSqliteSubjectRepository (db: SqliteDb): SubjectRepository {
  // Scans over every customer read ids only, plucked without building row objects (~10x faster per 100k).
  const idsFrom = db.$client.prepare<[string, number], string>('select id from customers where id > ? order by id limit ?').pluck()
  return {
    async getCustomer (id) { return db.select().from(customers).where(eq(customers.id, id)).get() },
    async getCustomers (ids) {
      return ids.length === 0 ? [] : db.select().from(customers).where(inList(customers.id, ids)).orderBy(asc(customers.id)).all()
    },
    async customerIds ({ limit, after }) { return idsFrom.all(after ?? '', limit) },
    async listCustomers ({ limit, after }) {
      return db.select().from(customers).where(after === undefined ? undefined : gt(customers.id, after)).orderBy(asc(customers.id)).limit(limit).all()
    },
    async addCustomer (customer, audit) {
      try {
        return db.transaction((tx) => {
          tx.insert(customers).values(customer).run()
          return appendLog(tx, { ...audit, names: [] })
        }, IMMEDIATE)
      } catch (err) {
        if (isConstraint(err, 'PRIMARYKEY') || isConstraint(err, 'UNIQUE')) throw new CustomerExistsError(customer.id)
        throw err
      }
    },
    async removeCustomer (id, audit) {
      return db.transaction((tx) => {
        if (tx.select({ id: customers.id }).from(customers).where(eq(customers.id, id)).get() === undefined) return null
        const names = flagsOverriding(tx, 'customer', id)
        const detached = tx.select({ id: users.id }).from(users).where(eq(users.customerId, id)).all().map((u) => u.id)
        tx.delete(overrides).where(and(eq(overrides.subject, 'customer'), eq(overrides.subjectId, id))).run()
        tx.update(users).set({ customerId: null }).where(eq(users.customerId, id)).run()
        tx.delete(customers).where(eq(customers.id, id)).run()
        return appendLog(tx, { ...audit, names, users: detached })
      }, IMMEDIATE)
    },

    async getUser (id) { return db.select().from(users).where(eq(users.id, id)).get() },
    async getUsers (ids) { return ids.length === 0 ? [] : db.select().from(users).where(inList(users.id, ids)).all() },
    async listUsers ({ limit, after, customerId }) {
      const where = and(after === undefined ? undefined : gt(users.id, after), customerId === undefined ? undefined : eq(users.customerId, customerId))
      return db.select().from(users).where(where).orderBy(asc(users.id)).limit(limit).all()
    },
    async userCustomerPage (after, limit) {
      return db.select({ id: users.id, customerId: users.customerId }).from(users)
        .where(and(isNotNull(users.customerId), after === undefined ? undefined : gt(users.id, after)))
        .orderBy(asc(users.id)).limit(limit).all() as UserCustomer[]
    },
    async addUser (user, audit) {
      try {
        return db.transaction((tx) => {
          if (user.customerId !== null) tx.insert(customers).values({ id: user.customerId, name: null, createdAt: user.createdAt }).onConflictDoNothing().run()
          tx.insert(users).values(user).run()
          return appendLog(tx, { ...audit, names: [], users: [user.id] })
        }, IMMEDIATE)
      } catch (err) {
        if (isConstraint(err, 'PRIMARYKEY') || isConstraint(err, 'UNIQUE')) throw new UserExistsError(user.id)
        throw err
      }
    },
    async removeUser (id, audit) {
      return db.transaction((tx) => {
        if (tx.select({ id: users.id }).from(users).where(eq(users.id, id)).get() === undefined) return null
        const names = flagsOverriding(tx, 'user', id)
        tx.delete(overrides).where(and(eq(overrides.subject, 'user'), eq(overrides.subjectId, id))).run()
        tx.delete(users).where(eq(users.id, id)).run()
        return appendLog(tx, { ...audit, names, users: [id] })
      }, IMMEDIATE)
    },

    async setOverride (override, flagName, audit) {
      try {
        return db.transaction((tx) => {
          if (tx.select({ key: environments.key }).from(environments).where(eq(environments.key, override.environment)).get() === undefined) {
            throw new EnvironmentNotFoundError(override.environment)
          }
          const at = override.createdAt
          if (override.subject === 'customer') tx.insert(customers).values({ id: override.subjectId, name: null, createdAt: at }).onConflictDoNothing().run()
          else tx.insert(users).values({ id: override.subjectId, customerId: null, createdAt: at }).onConflictDoNothing().run()
          tx.insert(overrides).values(override).onConflictDoUpdate({
            target: [overrides.flagId, overrides.environment, overrides.subject, overrides.subjectId],
            set: { enabled: override.enabled, variant: override.variant, updatedAt: override.updatedAt }
          }).run()
          return appendLog(tx, { ...audit, environment: override.environment, names: [], overrides: [[flagName, override.subject, override.subjectId, override.environment]] })
        }, IMMEDIATE)
      } catch (err) {
        // The flag was deleted between the service's read and this write.
        if (isConstraint(err, 'FOREIGNKEY')) throw new FlagNotFoundError(flagName)
        throw err
      }
    },
    async clearOverride (flagId, flagName, environment, subject, subjectId, audit) {
      return db.transaction((tx) => {
        const result = tx.delete(overrides).where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment),
          eq(overrides.subject, subject), eq(overrides.subjectId, subjectId))).run()
        return result.changes === 0 ? null : appendLog(tx, { ...audit, environment, names: [], overrides: [[flagName, subject, subjectId, environment]] })
      }, IMMEDIATE)
    },
    async getOverride (flagId, environment, subject, subjectId) {
      return db.select().from(overrides).where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment),
        eq(overrides.subject, subject), eq(overrides.subjectId, subjectId))).get()
    },
    async listOverrides (flagId, environment, query) {
      return await listBySubject(query, async (subject, after, limit) => {
        const { where, orderBy } = overrideSliceQuery(overrides, flagId, environment, subject, after, query)
        return db.select().from(overrides).where(where).orderBy(orderBy).limit(limit).all()
      })
    },
    async overridesOf (flagIds) {
      if (flagIds.length === 0) return []
      return db.select(overrideState).from(overrides).where(inList(overrides.flagId, flagIds)).all()
    },
    async overridePage (after, limit) {
      return db.select(overrideState).from(overrides)
        .where(after === undefined
          ? undefined
          : sql`(${overrides.flagId}, ${overrides.environment}, ${overrides.subject}, ${overrides.subjectId}) > (${after.flagId}, ${after.environment}, ${after.subject}, ${after.subjectId})`)
        .orderBy(asc(overrides.flagId), asc(overrides.environment), asc(overrides.subject), asc(overrides.subjectId)).limit(limit).all()
    },
    async customersWithOverride (flagId, environment, enabled, { limit, after }) {
      return db.select({ id: customers.id, name: customers.name, createdAt: customers.createdAt }).from(overrides)
        .innerJoin(customers, eq(customers.id, overrides.subjectId))
        .where(and(eq(overrides.flagId, flagId), eq(overrides.environment, environment), eq(overrides.subject, 'customer'), eq(overrides.enabled, enabled),
          after === undefined ? undefined : gt(overrides.subjectId, after)))
        .orderBy(asc(overrides.subjectId)).limit(limit).all()
    }
  }
}
