import { CustomerExistsError, EnvironmentNotFoundError, FlagNotFoundError, UserExistsError } from '../../errors.js'
import type { OverrideState, StoredCustomer, StoredOverride, StoredUser, SubjectKind, SubjectRepository } from '../subject-repository.js'
import { appendMemoryLog, createMemoryStore, overrideKey, type MemoryStore } from './flag-repository.js'

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
const state = ({ flagId, environment, subject, subjectId, enabled, variant }: OverrideState): OverrideState => ({ flagId, environment, subject, subjectId, enabled, variant })
/** Row-value order, as SQL compares `(a, b, c) > (x, y, z)`. */
const compareKeys = (a: string[], b: string[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  return 0
}
const position = (o: StoredOverride): string => `${o.subject}:${o.subjectId}`
const byPosition = (a: StoredOverride, b: StoredOverride): number => compareKeys([a.subject, a.subjectId], [b.subject, b.subjectId])
/** The primary key's order: (flag id, environment, subject, subject id). */
const pageKey = (o: OverrideState): string[] => [o.flagId, o.environment, o.subject, o.subjectId]

/** In-memory SubjectRepository over the same store as the in-memory flags (for the cascades and the log). */
export function createMemorySubjectRepository (store: MemoryStore = createMemoryStore()): SubjectRepository {
  const customers = new Map<string, StoredCustomer>()
  const users = new Map<string, StoredUser>()
  const { overrides } = store

  const flagName = (flagId: string): string | undefined => store.flags.get(flagId)?.name
  const namesOverriding = (subject: SubjectKind, id: string): string[] =>
    [...new Set([...overrides.values()].filter((o) => o.subject === subject && o.subjectId === id).map((o) => flagName(o.flagId)!))]
  const dropOverrides = (subject: SubjectKind, id: string): void => {
    for (const [k, o] of overrides) if (o.subject === subject && o.subjectId === id) overrides.delete(k)
  }
  const copy = <T>(value: T): T => structuredClone(value)
  const key = (flagId: string, environment: string, subject: SubjectKind, subjectId: string): string => overrideKey({ flagId, environment, subject, subjectId })

  return {
    async getCustomer (id) { return copy(customers.get(id)) },
    async getCustomers (ids) { return [...new Set(ids)].flatMap((id) => (customers.has(id) ? [copy(customers.get(id)!)] : [])).sort(byId) },
    async customerIds ({ limit, after }) {
      return [...customers.keys()].sort().filter((id) => after === undefined || id > after).slice(0, limit)
    },
    async listCustomers ({ limit, after }) {
      return [...customers.values()].sort(byId).filter((c) => after === undefined || c.id > after).slice(0, limit).map(copy)
    },
    async addCustomer (customer, audit) {
      if (customers.has(customer.id)) throw new CustomerExistsError(customer.id)
      customers.set(customer.id, copy(customer))
      return appendMemoryLog(store, { ...audit, names: [] })
    },
    async removeCustomer (id, audit) {
      if (!customers.has(id)) return null
      const names = namesOverriding('customer', id)
      const detached = [...users.values()].filter((u) => u.customerId === id).map((u) => u.id).sort()
      dropOverrides('customer', id)
      for (const user of users.values()) if (user.customerId === id) user.customerId = null
      customers.delete(id)
      return appendMemoryLog(store, { ...audit, names, users: detached })
    },

    async getUser (id) { return copy(users.get(id)) },
    async getUsers (ids) { return ids.flatMap((id) => (users.has(id) ? [copy(users.get(id)!)] : [])) },
    async listUsers ({ limit, after, customerId }) {
      return [...users.values()].sort(byId)
        .filter((u) => (after === undefined || u.id > after) && (customerId === undefined || u.customerId === customerId))
        .slice(0, limit).map(copy)
    },
    async userCustomerPage (after, limit) {
      return [...users.values()].filter((u) => u.customerId !== null && (after === undefined || u.id > after))
        .sort(byId).slice(0, limit).map((u) => ({ id: u.id, customerId: u.customerId! }))
    },
    async addUser (user, audit) {
      if (users.has(user.id)) throw new UserExistsError(user.id)
      if (user.customerId !== null && !customers.has(user.customerId)) customers.set(user.customerId, { id: user.customerId, name: null, createdAt: user.createdAt })
      users.set(user.id, copy(user))
      return appendMemoryLog(store, { ...audit, names: [], users: [user.id] })
    },
    async removeUser (id, audit) {
      if (!users.has(id)) return null
      const names = namesOverriding('user', id)
      dropOverrides('user', id)
      users.delete(id)
      return appendMemoryLog(store, { ...audit, names, users: [id] })
    },

    async setOverride (override, name, audit) {
      const { flagId, environment, subject, subjectId } = override
      if (!store.flags.has(flagId)) throw new FlagNotFoundError(name)
      if (!store.environments.has(environment)) throw new EnvironmentNotFoundError(environment)
      const at = override.createdAt
      if (subject === 'customer' && !customers.has(subjectId)) customers.set(subjectId, { id: subjectId, name: null, createdAt: at })
      if (subject === 'user' && !users.has(subjectId)) users.set(subjectId, { id: subjectId, customerId: null, createdAt: at })
      const k = overrideKey(override)
      const existing = overrides.get(k)
      overrides.set(k, { ...copy(override), createdAt: existing?.createdAt ?? override.createdAt })
      return appendMemoryLog(store, { ...audit, environment, names: [], overrides: [[name, subject, subjectId, environment]] })
    },
    async clearOverride (flagId, name, environment, subject, subjectId, audit) {
      if (!overrides.delete(key(flagId, environment, subject, subjectId))) return null
      return appendMemoryLog(store, { ...audit, environment, names: [], overrides: [[name, subject, subjectId, environment]] })
    },
    async getOverride (flagId, environment, subject, subjectId) { return copy(overrides.get(key(flagId, environment, subject, subjectId))) },
    async listOverrides (flagId, environment, { limit, after, subject, enabled, prefix }) {
      return [...overrides.values()].filter((o) => o.flagId === flagId && o.environment === environment &&
        (subject === undefined || o.subject === subject) && (enabled === undefined || o.enabled === enabled) &&
        (prefix === undefined || o.subjectId.startsWith(prefix)) && (after === undefined || position(o) > after))
        .sort(byPosition).slice(0, limit).map(copy)
    },
    async overridesOf (flagIds) {
      const wanted = new Set(flagIds)
      return [...overrides.values()].filter((o) => wanted.has(o.flagId)).sort((a, b) => compareKeys(pageKey(a), pageKey(b))).map(state)
    },
    async overridePage (after, limit) {
      const later = (o: OverrideState): boolean => after === undefined || compareKeys(pageKey(o), pageKey(after)) > 0
      return [...overrides.values()].filter(later).sort((a, b) => compareKeys(pageKey(a), pageKey(b))).slice(0, limit).map(state)
    },
    async customersWithOverride (flagId, environment, enabled, { limit, after }) {
      return [...overrides.values()]
        .filter((o) => o.flagId === flagId && o.environment === environment && o.subject === 'customer' && o.enabled === enabled && (after === undefined || o.subjectId > after))
        .map((o) => customers.get(o.subjectId)).filter((c): c is StoredCustomer => c !== undefined)
        .sort(byId).slice(0, limit).map(copy)
    }
  }
}
