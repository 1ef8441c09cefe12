import type { FlagSnapshot } from '../cache/flag-snapshot.js'
import { evaluate, type CompiledFlag } from '../engine/index.js'
import type { EvaluationResult } from '../engine/types.js'
import { CustomerNotFoundError, EnvironmentNotFoundError, FlagNotFoundError, invalidField, OverrideNotFoundError, UserNotFoundError } from '../errors.js'
import type { FlagRepository, StoredFlag } from '../repositories/flag-repository.js'
import type { StoredCustomer, StoredOverride, StoredUser, SubjectKind, SubjectRepository } from '../repositories/subject-repository.js'
import { SUBJECT_ID_RULE } from '../schemas/names.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { page, type Page, type PageQuery } from './paging.js'
import { isOn } from './flag-service.js'

export type { SubjectKind, Page, PageQuery }
export type Customer = StoredCustomer
export type User = StoredUser
export interface Override { flag: string, subject: SubjectKind, id: string, enabled: boolean, variant: string | null, updatedAt: Date }
export type CustomerState = 'enabled' | 'explicitly_enabled' | 'explicitly_disabled'
interface WriteOptions { actor: string }

const OVERRIDE_POSITION = new RegExp(`^(customer|user):${SUBJECT_ID_RULE.pattern.slice(1)}`)
/** Customers read per step while filtering for effective state: bounded memory, few round trips. */
const SCAN_CHUNK = 5000

function checkId (field: string, id: string): string {
  // The same ids the HTTP API accepts, so nothing the CLI or library registers is unreachable over HTTP.
  if (!SUBJECT_ID_RULE.test(id)) throw invalidField(field, SUBJECT_ID_RULE.message)
  return id
}

/**
 * Customers, users and their per-flag overrides (SPEC §2.3), and the queries over who has what.
 * Writes go through the change log like flag writes; reads of effective state evaluate the
 * in-process snapshot, so "customers with the feature" is exactly what evaluation serves.
 */
export function createSubjectService ({ repo, flags, snapshot, now = () => new Date() }: {
  repo: SubjectRepository, flags: FlagRepository, snapshot: FlagSnapshot, now?: () => Date
}) {
  const committed = async <T>(value: T): Promise<T> => { await snapshot.committed(); return value }
  const checkEnvironment = (environment: string): void => {
    if (!snapshot.hasEnvironment(environment)) throw new EnvironmentNotFoundError(environment)
  }
  const mustFlag = async (environment: string, name: string): Promise<StoredFlag> => {
    checkEnvironment(environment)
    const flag = await flags.get(environment, name)
    if (flag === undefined) throw new FlagNotFoundError(name)
    return flag
  }
  const compiled = (environment: string, name: string): CompiledFlag => {
    checkEnvironment(environment)
    const flag = snapshot.get(environment, name)
    if (flag === undefined) throw new FlagNotFoundError(name)
    return flag
  }
  const mustCustomer = async (id: string): Promise<StoredCustomer> => {
    const customer = await repo.getCustomer(id)
    if (customer === undefined) throw new CustomerNotFoundError(id)
    return customer
  }
  const toOverride = (flag: StoredFlag, row: StoredOverride): Override =>
    ({ flag: flag.name, subject: row.subject, id: row.subjectId, enabled: row.enabled, variant: row.variant, updatedAt: row.updatedAt })
  const audit = (actor: string, action: string, before: unknown, after: unknown) => ({ actor, action, before, after })

  return {
    async addCustomer (input: { id: string, name?: string | null }, opts: WriteOptions): Promise<Customer> {
      const customer = { id: checkId('id', input.id), name: input.name ?? null, createdAt: now() }
      await repo.addCustomer(customer, audit(opts.actor, 'customer.add', null, customer))
      return committed(customer)
    },
    getCustomer: mustCustomer,
    async listCustomers ({ limit = 100, cursor }: PageQuery): Promise<Page<Customer>> {
      return page(await repo.listCustomers({ limit: limit + 1, after: decodeCursor(cursor, SUBJECT_ID_RULE.regex) }), limit, (c) => c.id)
    },
    async removeCustomer (id: string, opts: WriteOptions): Promise<void> {
      const revision = await repo.removeCustomer(id, audit(opts.actor, 'customer.remove', { id }, null))
      if (revision === null) throw new CustomerNotFoundError(id)
      return committed(undefined)
    },

    async addUser (input: { id: string, customerId?: string | null }, opts: WriteOptions): Promise<User> {
      const customerId = input.customerId == null ? null : checkId('customerId', input.customerId)
      const user = { id: checkId('id', input.id), customerId, createdAt: now() }
      await repo.addUser(user, audit(opts.actor, 'user.add', null, user))
      return committed(user)
    },
    async getUser (id: string): Promise<User> {
      const user = await repo.getUser(id)
      if (user === undefined) throw new UserNotFoundError(id)
      return user
    },
    async listUsers ({ limit = 100, cursor, customerId }: PageQuery & { customerId?: string }): Promise<Page<User>> {
      return page(await repo.listUsers({ limit: limit + 1, after: decodeCursor(cursor, SUBJECT_ID_RULE.regex), customerId }), limit, (u) => u.id)
    },
    async removeUser (id: string, opts: WriteOptions): Promise<void> {
      const revision = await repo.removeUser(id, audit(opts.actor, 'user.remove', { id }, null))
      if (revision === null) throw new UserNotFoundError(id)
      return committed(undefined)
    },

    async setOverride (environment: string, name: string, subject: SubjectKind, id: string, input: { enabled: boolean, variant?: string | null }, opts: WriteOptions): Promise<Override> {
      checkId('id', id)
      const flag = await mustFlag(environment, name)
      const variant = input.variant ?? null
      if (variant !== null && !Object.hasOwn(flag.variants, variant)) {
        throw invalidField('variant', `"${variant}" is not one of the variants of ${name} (${Object.keys(flag.variants).join(', ')})`)
      }
      const before = await repo.getOverride(flag.id, environment, subject, id)
      // Setting what is already set writes nothing: no new revision, no cache refresh anywhere.
      if (before !== undefined && before.enabled === input.enabled && before.variant === variant) return toOverride(flag, before)
      const at = now()
      const row: StoredOverride = { flagId: flag.id, environment, subject, subjectId: id, enabled: input.enabled, variant, createdAt: at, updatedAt: at }
      await repo.setOverride(row, flag.name, { ...audit(opts.actor, 'override.set', before && toOverride(flag, before), toOverride(flag, row)), environment, flagId: flag.id, flag: flag.name })
      return committed(toOverride(flag, row))
    },
    async clearOverride (environment: string, name: string, subject: SubjectKind, id: string, opts: WriteOptions): Promise<void> {
      const flag = await mustFlag(environment, name)
      const before = await repo.getOverride(flag.id, environment, subject, id)
      const revision = before === undefined
        ? null
        : await repo.clearOverride(flag.id, flag.name, environment, subject, id, { ...audit(opts.actor, 'override.clear', toOverride(flag, before), null), environment, flagId: flag.id, flag: flag.name })
      if (revision === null) throw new OverrideNotFoundError(name, subject, id)
      return committed(undefined)
    },
    /** `q`: only ids that start with it (literally: a prefix, read off the index in id order, never a scan). */
    async listOverrides (environment: string, name: string, { limit = 100, cursor, subject, state, q }: PageQuery & { subject?: SubjectKind, state?: 'enabled' | 'disabled', q?: string }): Promise<Page<Override>> {
      const flag = await mustFlag(environment, name)
      const enabled = state === undefined ? undefined : state === 'enabled'
      const rows = await repo.listOverrides(flag.id, environment, { limit: limit + 1, after: decodeCursor(cursor, OVERRIDE_POSITION), subject, enabled, prefix: q })
      return page(rows.map((row) => toOverride(flag, row)), limit, (o) => `${o.subject}:${o.id}`)
    },

    /** Customers with the flag: effective (`enabled`), or with an explicit override either way. */
    async listCustomersForFlag (environment: string, name: string, { limit = 100, cursor, state }: PageQuery & { state: CustomerState }): Promise<Page<Customer>> {
      const after = decodeCursor(cursor, SUBJECT_ID_RULE.regex)
      if (state !== 'enabled') {
        const flag = await mustFlag(environment, name)
        return page(await repo.customersWithOverride(flag.id, environment, state === 'explicitly_enabled', { limit: limit + 1, after }), limit, (c) => c.id)
      }
      const flag = compiled(environment, name)
      const at = Date.now()
      const found: string[] = []
      let from = after
      for (;;) {
        const ids = await repo.customerIds({ limit: SCAN_CHUNK, after: from })
        for (const id of ids) {
          if (isOn(flag, evaluate(flag, { customer_id: id }, at))) found.push(id)
          if (found.length > limit) break
        }
        if (found.length > limit || ids.length < SCAN_CHUNK) break
        from = ids[ids.length - 1]
      }
      const more = found.length > limit
      const kept = found.slice(0, limit)
      // Customers removed since the scan read their ids are left out; the cursor is the scan's
      // position, so the next page goes on from there whatever was removed.
      const items = await repo.getCustomers(kept)
      return { items, nextCursor: more ? encodeCursor(kept[kept.length - 1]) : null }
    },

    /** The flags on for one customer, by name. */
    async listFlagsForCustomer (environment: string, customerId: string): Promise<EvaluationResult[]> {
      checkEnvironment(environment)
      await mustCustomer(customerId)
      const at = Date.now()
      const results: EvaluationResult[] = []
      for (const flag of snapshot.values(environment)) {
        const result = evaluate(flag, { customer_id: customerId }, at)
        // A flag stored in a form that cannot be served (an older version's row) is left out, never failing the list.
        if (flag.servable && isOn(flag, result)) results.push(result)
      }
      return results.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    }
  }
}

export type SubjectService = ReturnType<typeof createSubjectService>
