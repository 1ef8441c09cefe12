import type { AuditEntry } from './flag-repository.js'

export type SubjectKind = 'customer' | 'user'

export interface StoredCustomer { id: string, name: string | null, createdAt: Date }
export interface StoredUser { id: string, customerId: string | null, createdAt: Date }
export interface StoredOverride {
  flagId: string
  environment: string
  subject: SubjectKind
  subjectId: string
  enabled: boolean
  variant: string | null
  createdAt: Date
  updatedAt: Date
}

/** What the snapshot compiles from an override: no timestamps. */
export type OverrideState = Pick<StoredOverride, 'flagId' | 'environment' | 'subject' | 'subjectId' | 'enabled' | 'variant'>
/** A user that belongs to a customer. */
export interface UserCustomer { id: string, customerId: string }

/** An audit entry whose affected flags and users the repository works out inside the transaction. */
export type SubjectAudit = Omit<AuditEntry, 'names' | 'users'>

export interface KeysetQuery { limit: number, after?: string }
/** An override listing: `after` is `<subject>:<id>`; `prefix` keeps the ids that start with it (literally). */
export interface OverrideListQuery extends KeysetQuery { subject?: SubjectKind, enabled?: boolean, prefix?: string }

/** An override list position `<subject>:<id>` (ids may contain ':' themselves) as its two parts. */
export function splitPosition (after: string): [SubjectKind, string] {
  const at = after.indexOf(':')
  return [after.slice(0, at) as SubjectKind, after.slice(at + 1)]
}

/**
 * Customers, users and overrides. Like the flag store, every write is one transaction that also
 * appends the change-log row and returns the revision; the rows it touched decide the row's
 * `names` (flags whose overrides changed) and `users` (users whose customer changed).
 */
export interface SubjectRepository {
  getCustomer (id: string): Promise<StoredCustomer | undefined>
  getCustomers (ids: string[]): Promise<StoredCustomer[]>
  listCustomers (query: KeysetQuery): Promise<StoredCustomer[]>
  /** Only the ids, in order: what scans over every customer read (much cheaper than whole rows). */
  customerIds (query: KeysetQuery): Promise<string[]>
  /** Throws CustomerExistsError. */
  addCustomer (customer: StoredCustomer, audit: SubjectAudit): Promise<number>
  /** Deletes its overrides and detaches its users; null when there is no such customer. */
  removeCustomer (id: string, audit: SubjectAudit): Promise<number | null>

  getUser (id: string): Promise<StoredUser | undefined>
  getUsers (ids: string[]): Promise<StoredUser[]>
  listUsers (query: KeysetQuery & { customerId?: string }): Promise<StoredUser[]>
  /**
   * Users that belong to a customer (what evaluation infers customers from), by id: at most
   * `limit` after `after`. The snapshot's full load reads them a page at a time.
   */
  userCustomerPage (after: string | undefined, limit: number): Promise<UserCustomer[]>
  /** Registers an unknown customer too. Throws UserExistsError. */
  addUser (user: StoredUser, audit: SubjectAudit): Promise<number>
  /** Deletes its overrides; null when there is no such user. */
  removeUser (id: string, audit: SubjectAudit): Promise<number | null>

  /**
   * Insert or replace (in `override.environment`); registers an unknown subject. Throws
   * FlagNotFoundError if the flag is gone, EnvironmentNotFoundError if the environment is.
   */
  setOverride (override: StoredOverride, flagName: string, audit: SubjectAudit): Promise<number>
  /** null when there was no such override. */
  clearOverride (flagId: string, flagName: string, environment: string, subject: SubjectKind, subjectId: string, audit: SubjectAudit): Promise<number | null>
  getOverride (flagId: string, environment: string, subject: SubjectKind, subjectId: string): Promise<StoredOverride | undefined>
  /** One flag's overrides in one environment, in (subject, subject id) order; `after` is `<subject>:<id>`. */
  listOverrides (flagId: string, environment: string, query: OverrideListQuery): Promise<StoredOverride[]>
  /** Every override of these flags in every environment: what the snapshot compiles in when it reloads them. */
  overridesOf (flagIds: string[]): Promise<OverrideState[]>
  /**
   * Every override, in (flag id, environment, subject, subject id) order: at most `limit` after `after`.
   * The snapshot's full load reads them a page at a time, so that 100k rows never sit in memory at once.
   */
  overridePage (after: OverrideState | undefined, limit: number): Promise<OverrideState[]>
  /** Customers with an explicit override of one state on a flag in one environment, by id. */
  customersWithOverride (flagId: string, environment: string, enabled: boolean, query: KeysetQuery): Promise<StoredCustomer[]>
}
