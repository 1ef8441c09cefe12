import { loadConfig } from './config.js'
import { createContainer } from './container.js'
import type { SnapshotLogger } from './cache/flag-snapshot.js'
import type { ContextInput } from './engine/context.js'
import { FLAG_TYPES, type EvaluationContext, type EvaluationResult, type FlagType } from './engine/types.js'
import { EnvironmentNotFoundError, invalid, invalidField } from './errors.js'
import { existingEnvironment, existingName, isPlainObject, optionsObject, storable, typeName } from './library-arguments.js'
import { historyCalls, type FlagpostHistory } from './library-history.js'
import { LIMITS, type FlagBody } from './schemas/flags.js'
import { ENVIRONMENT_KEY_RULE, FLAG_NAME_RULE, SUBJECT_ID_RULE } from './schemas/names.js'
import { isOn } from './services/flag-service.js'
import { everyItem } from './services/paging.js'
import type { Customer, Override, SubjectKind, User } from './services/subject-service.js'
import type { Environment as DomainEnvironment, PromotedFlag } from './services/environment-service.js'
import { evaluationContext } from './services/evaluation-context.js'
import { toFlagBody } from './services/flag-view.js'

/** Where the embedded library keeps its data, and who its writes are recorded as. */
export interface FlagpostOptions {
  /** `file:<path>` (SQLite, the folder is created), `:memory:`, or `postgres://…` (pooled). Default `file:./data/flagpost.db`, as the server. */
  databaseUrl?: string
  /** `redis://…`: the library joins the change feed and the shared flag copy as a server does, so other instances' writes reach it at once (without it, it polls the database). */
  redisUrl?: string
  /** Recorded as the actor of every write in the change log. Default `library`. */
  actor?: string
  /** How often (ms) to pick up writes made by other processes (servers, the CLI, other apps). Default 1000. */
  cacheRefreshMs?: number
  /** Receives the snapshot's catch-up (debug) and refresh-failure (warn) messages; a pino logger fits. Default: silent. */
  logger?: SnapshotLogger
  /** The environment every call addresses (SPEC §9). Default: the deployment's default (`production`). */
  environment?: string
}

/** An id as the original tool took it: a string, or an integer (stored as its decimal string). */
export type SubjectId = string | number

/** Whom an explicit switch is for: one customer or one user. */
export type Subject = { customerId: SubjectId, userId?: never } | { userId: SubjectId, customerId?: never }

/** How `addFeature` creates a flag; without options: a boolean flag, off for everyone until switched on. */
export interface AddFeatureOptions {
  /** On for everyone (global switch at 100 %) instead of off (0 %). Default false. */
  defaultEnabled?: boolean
  /** `boolean` (default), `string`, `number` or `json`. */
  type?: FlagType
  /** The value served when the flag is on (strings are coerced: `"25"`, `"true"`, JSON text). Required for non-boolean types. */
  defaultValue?: unknown
  /** The value served when the flag is off (default `false`, `""`, `0` or `null` by type). */
  offValue?: unknown
  description?: string
}

/**
 * An evaluation context: `userId` / `customerId` (or `user_id` / `customer_id`, `targetingKey`) and any other
 * attributes your rules use (`country`, `app_version`…).
 */
export type FlagpostContext = ContextInput & { userId?: SubjectId, customerId?: SubjectId }

/** A flag as the HTTP API returns it (snake_case fields, all five value fields, ISO timestamps). */
export type Flag = FlagBody

/** An environment (SPEC §9): its key (what `environment` and URLs name), display name and place in the list. */
export type Environment = DomainEnvironment

/** How `removeEnvironment` goes about an environment that configures flags. */
export interface RemoveEnvironmentOptions {
  /** Delete it even when flags are configured there: their configurations and overrides in it go too. Default false. */
  force?: boolean
}

/** What `promote` copies. */
export interface PromoteOptions {
  /** Only these features (default: every feature). */
  flags?: string[]
  /** Also make the target's explicit switches of each feature exactly the source's. Default false. */
  includeOverrides?: boolean
  /** Only answer what would change; nothing is written. Default false. */
  dryRun?: boolean
}

/** One feature whose configuration in the target changes (or would): each field's value now (`from`) and after (`to`). */
export type { PromotedFlag }

/** What `promote` changed (or, with `dryRun`, would change). */
export interface PromoteResult {
  dryRun: boolean
  flags: PromotedFlag[]
}

export type { Change, ChangesFilter, HistoryOptions, RevertOptions } from './library-history.js'

/** Any error Flagpost throws on purpose: a stable `code` (`FLAGPOST_ERR_…`) and the HTTP status it maps to. */
export type FlagpostError = Error & { code: string, statusCode: number }

/** True for Flagpost's own errors (unknown feature, invalid input, conflict…), which carry a stable `code`. */
export function isFlagpostError (err: unknown): err is FlagpostError {
  const code = (err as { code?: unknown } | null)?.code
  return err instanceof Error && typeof code === 'string' && code.startsWith('FLAGPOST_ERR_')
}

/* Arguments are checked as library-arguments.ts says, before anything reaches a service or the database. */

/** An optional boolean option: undefined (or null) for the default. */
const optionalBool = (field: string, value: unknown): boolean | undefined => value == null ? undefined : bool(field, value)

function promoteOptions (given: unknown): PromoteOptions {
  const options = optionsObject(given, ['flags', 'includeOverrides', 'dryRun'])
  let flags: string[] | undefined
  if (options.flags != null) {
    if (!Array.isArray(options.flags)) throw invalidField('options.flags', `must be an array of feature names, got ${typeName(options.flags)}`)
    flags = options.flags.map((name: unknown, i) => {
      if (typeof name !== 'string') throw invalidField(`options.flags.${i}`, `must be a string, got ${typeName(name)}`)
      if (!FLAG_NAME_RULE.test(name)) throw invalidField(`options.flags.${i}`, FLAG_NAME_RULE.message)
      return name
    })
  }
  const includeOverrides = optionalBool('options.includeOverrides', options.includeOverrides)
  const dryRun = optionalBool('options.dryRun', options.dryRun)
  return { ...(flags !== undefined ? { flags } : {}), ...(includeOverrides !== undefined ? { includeOverrides } : {}), ...(dryRun !== undefined ? { dryRun } : {}) }
}

function bool (field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidField(field, `must be true or false, got ${typeName(value)}`)
  return value
}

/** An optional string argument: undefined (or null) for none. */
function optionalString (field: string, value: unknown, maxLength: number): string | undefined {
  if (value == null) return undefined
  if (typeof value !== 'string') throw invalidField(field, `must be a string, got ${typeName(value)}`)
  if (value.length > maxLength) throw invalidField(field, `must be at most ${maxLength} characters`)
  storable(field, value)
  return value
}

const ADD_FEATURE_OPTIONS = new Set(['defaultEnabled', 'type', 'defaultValue', 'offValue', 'description'])

function addFeatureOptions (options: unknown): AddFeatureOptions {
  if (options == null) return {}
  if (!isPlainObject(options)) throw invalidField('options', `must be an object, got ${typeName(options)}`)
  const unknown = Object.keys(options).filter((key) => !ADD_FEATURE_OPTIONS.has(key))
  if (unknown.length > 0) throw invalid(unknown.map((key) => ({ field: `options.${key}`, message: 'is not a known option' })))
  if (options.defaultEnabled !== undefined) bool('options.defaultEnabled', options.defaultEnabled)
  if (options.type != null && !(FLAG_TYPES as readonly unknown[]).includes(options.type)) {
    throw invalidField('options.type', `must be one of ${FLAG_TYPES.map((type) => JSON.stringify(type)).join(', ')}`)
  }
  optionalString('options.description', options.description, LIMITS.description)
  storable('options', options)
  return options as AddFeatureOptions
}

/**
 * Ids follow the HTTP API's rule (so whatever the library registers is addressable as `/customers/{id}`):
 * 1 to 256 URL-safe characters; a non-negative integer is taken as its decimal string.
 */
function checkedId (id: unknown, field: string): string {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) throw invalidField(field, 'must be a string id or a non-negative integer')
    return String(id)
  }
  if (typeof id !== 'string' || !SUBJECT_ID_RULE.test(id)) {
    throw invalidField(field, SUBJECT_ID_RULE.message)
  }
  return id
}

function checkedSubject (subject: unknown): [SubjectKind, string] {
  if (!isPlainObject(subject)) throw invalidField('subject', `must be { customerId } or { userId }, got ${typeName(subject)}`)
  if (subject.customerId !== undefined && subject.userId === undefined) return ['customer', checkedId(subject.customerId, 'subject.customerId')]
  if (subject.userId !== undefined && subject.customerId === undefined) return ['user', checkedId(subject.userId, 'subject.userId')]
  throw invalidField('subject', 'must be { customerId } or { userId }')
}

/**
 * A context: a plain object of strings, finite numbers and booleans (null or undefined: unset); a
 * nested object is read as dotted attributes (`{ user: { plan } }` is `user.plan`), arrays are ignored.
 */
function contextOf (given: unknown): EvaluationContext {
  if (given == null) return {}
  if (!isPlainObject(given)) throw invalidField('context', `must be an object, got ${typeName(given)}`)
  storable('context', given)
  const { userId, customerId, ...rest } = given
  const context = { ...evaluationContext(rest) }
  if (userId != null) context.user_id = checkedId(userId, 'context.userId')
  if (customerId != null) context.customer_id = checkedId(customerId, 'context.customerId')
  return context
}

/**
 * The original tool's API, camelCase, over the same domain services as the HTTP API and the CLI. Writes go
 * to the database at once (with a change-log row); evaluation reads an in-process snapshot that catches up
 * after this instance's own writes immediately and with other processes' writes every `cacheRefreshMs`.
 * Every method rejects with a Flagpost error (`code` `FLAGPOST_ERR_…`, see `isFlagpostError`) on bad input or
 * an unknown feature/customer/user, and then writes nothing. The change log's calls (`history`, `changes`,
 * `revert`) are described in library-history.ts.
 */
export interface Flagpost extends FlagpostHistory {
  /**
   * Create a feature: a boolean flag off for everyone (global switch 0 %) unless `defaultEnabled`.
   * @example await flagpost.addFeature('new_dashboard')
   * @example await flagpost.addFeature('max_cart_items', { type: 'number', defaultValue: 25, defaultEnabled: true })
   * @throws `FLAGPOST_ERR_FLAG_EXISTS` when the name is taken, `FLAGPOST_ERR_VALIDATION` on a bad name or value.
   */
  addFeature (name: string, options?: AddFeatureOptions): Promise<Flag>
  /** One feature as the HTTP API shows it. @throws `FLAGPOST_ERR_FLAG_NOT_FOUND` */
  getFeature (name: string): Promise<Flag>
  /**
   * The global switch: on (100 %) or off (0 %) for everyone without an explicit switch; explicit switches
   * (`setFlag`) and targeted ids still win. @example await flagpost.setGlobalFlag('new_dashboard', true)
   */
  setGlobalFlag (name: string, enabled: boolean): Promise<Flag>
  /** Turn the kill switch back off: the feature is served by its targeting again. */
  enableFeature (name: string): Promise<Flag>
  /** The kill switch: the feature is off for everyone, explicit switches included. */
  disableFeature (name: string): Promise<Flag>
  /** Rename a feature; its explicit switches follow. @example await flagpost.renameFeature('new_dashboard', 'dashboard_v2') */
  renameFeature (oldName: string, newName: string): Promise<Flag>
  /** Remove a feature and its explicit switches. */
  removeFeature (name: string): Promise<void>
  /** Register a customer (an integer id is stored as its string). @throws `FLAGPOST_ERR_CUSTOMER_EXISTS` */
  addCustomer (id: SubjectId, name?: string): Promise<Customer>
  /** Remove a customer and its explicit switches; its users stay, without a customer. */
  removeCustomer (id: SubjectId): Promise<void>
  /** Register a user, optionally of a customer (an unknown customer is registered too). @throws `FLAGPOST_ERR_USER_EXISTS` */
  addUser (id: SubjectId, customerId?: SubjectId): Promise<User>
  /** Remove a user and its explicit switches. */
  removeUser (id: SubjectId): Promise<void>
  /**
   * Switch a feature on or off explicitly for one customer or one user (registering an unknown one); a user's
   * switch beats their customer's. `variant` serves that variant instead of the default/off one.
   * @example await flagpost.setFlag('new_dashboard', { customerId: 42 }, true)
   * @example await flagpost.setFlag('new_dashboard', { userId: 'alice' }, false)
   */
  setFlag (name: string, subject: Subject, enabled: boolean, variant?: string): Promise<Override>
  /** Remove an explicit switch. @throws `FLAGPOST_ERR_OVERRIDE_NOT_FOUND` when there is none. */
  clearFlag (name: string, subject: Subject): Promise<void>
  /** Ids of the registered customers the feature is on for (effective: switches, targeting, global switch, kill switch). */
  listCustomersWithFeature (name: string): Promise<string[]>
  /** Names of the features on for a registered customer (effective). @throws `FLAGPOST_ERR_CUSTOMER_NOT_FOUND` */
  listFeaturesForCustomer (customerId: SubjectId): Promise<string[]>
  /** Ids of the customers with an explicit switch turning the feature on. */
  listCustomersWithFeatureExplicitlyEnabled (name: string): Promise<string[]>
  /** Ids of the customers with an explicit switch turning the feature off. */
  listCustomersWithFeatureExplicitlyDisabled (name: string): Promise<string[]>
  /**
   * Evaluate a feature for a context, from memory (no database round trip): `{name, value, variant, reason, rule…}`.
   * @example flagpost.evaluate('checkout_button_color', { userId: 'alice', country: 'DE' }).value
   * @throws `FLAGPOST_ERR_FLAG_NOT_FOUND` for an unknown feature.
   */
  evaluate (name: string, context?: FlagpostContext): EvaluationResult
  /**
   * Whether the feature is on for a context (it serves a variant other than its off variant). An unknown
   * feature is off (false), as Unleash's `isEnabled` does; use `evaluate` to have it thrown.
   * @example if (flagpost.isEnabled('new_dashboard', { customerId: 42 })) { … }
   */
  isEnabled (name: string, context?: FlagpostContext): boolean
  /** Every environment, in order. */
  listEnvironments (): Promise<Environment[]>
  /**
   * Create an environment: every feature is configured there as in the default environment, but served off.
   * @example await flagpost.addEnvironment('staging', 'Staging')
   * @throws `FLAGPOST_ERR_ENVIRONMENT_EXISTS` when the key is taken, `FLAGPOST_ERR_VALIDATION` on a bad key or name.
   */
  addEnvironment (key: string, name?: string): Promise<Environment>
  /**
   * Delete an environment (never the default one); one where features are configured only with `force`.
   * @throws `FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND`, `FLAGPOST_ERR_ENVIRONMENT_IN_USE`
   */
  removeEnvironment (key: string, options?: RemoveEnvironmentOptions): Promise<void>
  /**
   * Copy features' configuration (kill switch, default and off variant, targeting; with `includeOverrides` their
   * explicit switches too) from one environment to another in one transaction; `dryRun` only answers the diff.
   * @example await flagpost.promote('staging', 'production', { flags: ['new_dashboard'], dryRun: true })
   * @throws `FLAGPOST_ERR_ENVIRONMENT_NOT_FOUND`, `FLAGPOST_ERR_VALIDATION` (an unknown feature in `flags`).
   */
  promote (from: string, to: string, options?: PromoteOptions): Promise<PromoteResult>
  /** Pick up other processes' writes now instead of at the next poll. */
  refresh (): Promise<void>
  /** Stop polling and close the database; the instance is unusable afterwards. Safe to call twice. */
  close (): Promise<void>
}

/** Open the database (migrating it) and build the in-process domain services: see `createFlagpost` in index.ts. */
export async function openFlagpost (options: FlagpostOptions = {}): Promise<Flagpost> {
  const env: Record<string, string> = { LOG_LEVEL: 'silent' }
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl
  if (options.redisUrl !== undefined) env.REDIS_URL = options.redisUrl
  if (options.cacheRefreshMs !== undefined) env.CACHE_REFRESH_MS = String(options.cacheRefreshMs)
  if (options.environment !== undefined && (typeof options.environment !== 'string' || !ENVIRONMENT_KEY_RULE.test(options.environment))) {
    throw invalidField('environment', ENVIRONMENT_KEY_RULE.message)
  }
  // An embedded library lives in a long-running app: poll (an unref'd timer) so it sees other processes' writes.
  const container = await createContainer(loadConfig(env), { poll: true, ...(options.logger ? { logger: options.logger } : {}) })
  const { flags, subjects, environments, history } = container.services
  const opts = { actor: options.actor ?? 'library' }
  const environment = options.environment ?? container.config.defaultEnvironment
  if (!container.snapshot.hasEnvironment(environment)) {
    await container.close()
    throw new EnvironmentNotFoundError(environment)
  }
  let closed = false
  const live = (): void => { if (closed) throw new Error('This Flagpost instance is closed') }

  return {
    async addFeature (name: string, given?: AddFeatureOptions): Promise<Flag> {
      live()
      const options = addFeatureOptions(given)
      if (typeof name !== 'string') throw invalidField('name', `must be a string, got ${typeName(name)}`)
      const { defaultEnabled, ...spec } = options
      return toFlagBody(await flags.create(environment, { name, ...spec, targetingRules: { percentage: defaultEnabled === true ? 100 : 0 } }, opts))
    },
    async getFeature (name: string): Promise<Flag> { live(); return toFlagBody(await flags.get(environment, existingName(name))) },
    async setGlobalFlag (name: string, enabled: boolean): Promise<Flag> {
      live()
      const on = bool('enabled', enabled)
      return toFlagBody(await flags.update(environment, existingName(name), { targetingRules: { percentage: on ? 100 : 0 } }, opts))
    },
    async enableFeature (name: string): Promise<Flag> { live(); return toFlagBody(await flags.update(environment, existingName(name), { enabled: true }, opts)) },
    async disableFeature (name: string): Promise<Flag> { live(); return toFlagBody(await flags.update(environment, existingName(name), { enabled: false }, opts)) },
    async renameFeature (oldName: string, newName: string): Promise<Flag> {
      live()
      if (typeof oldName !== 'string') existingName(oldName, 'oldName')
      return toFlagBody(await flags.rename(environment, existingName(oldName, 'oldName'), newName, opts))
    },
    async removeFeature (name: string): Promise<void> { live(); await flags.remove(environment, existingName(name), opts) },
    async addCustomer (id: SubjectId, name?: string): Promise<Customer> {
      live()
      const customerName = optionalString('name', name, LIMITS.customerName)
      return subjects.addCustomer({ id: checkedId(id, 'id'), ...(customerName !== undefined ? { name: customerName } : {}) }, opts)
    },
    async removeCustomer (id: SubjectId): Promise<void> { live(); await subjects.removeCustomer(checkedId(id, 'id'), opts) },
    async addUser (id: SubjectId, customerId?: SubjectId): Promise<User> {
      live()
      return subjects.addUser({ id: checkedId(id, 'id'), ...(customerId != null ? { customerId: checkedId(customerId, 'customerId') } : {}) }, opts)
    },
    async removeUser (id: SubjectId): Promise<void> { live(); await subjects.removeUser(checkedId(id, 'id'), opts) },
    async setFlag (name: string, subject: Subject, enabled: boolean, variant?: string): Promise<Override> {
      live()
      const [kind, id] = checkedSubject(subject)
      const on = bool('enabled', enabled)
      const served = optionalString('variant', variant, LIMITS.variantName)
      return subjects.setOverride(environment, existingName(name), kind, id, { enabled: on, ...(served !== undefined ? { variant: served } : {}) }, opts)
    },
    async clearFlag (name: string, subject: Subject): Promise<void> {
      live()
      const [kind, id] = checkedSubject(subject)
      await subjects.clearOverride(environment, existingName(name), kind, id, opts)
    },
    async listCustomersWithFeature (name: string): Promise<string[]> {
      live()
      const flag = existingName(name)
      return (await everyItem((q) => subjects.listCustomersForFlag(environment, flag, { ...q, state: 'enabled' }))).map((c) => c.id)
    },
    async listFeaturesForCustomer (customerId: SubjectId): Promise<string[]> {
      live()
      return (await subjects.listFlagsForCustomer(environment, checkedId(customerId, 'customerId'))).map((r) => r.name)
    },
    async listCustomersWithFeatureExplicitlyEnabled (name: string): Promise<string[]> {
      live()
      const flag = existingName(name)
      return (await everyItem((q) => subjects.listCustomersForFlag(environment, flag, { ...q, state: 'explicitly_enabled' }))).map((c) => c.id)
    },
    async listCustomersWithFeatureExplicitlyDisabled (name: string): Promise<string[]> {
      live()
      const flag = existingName(name)
      return (await everyItem((q) => subjects.listCustomersForFlag(environment, flag, { ...q, state: 'explicitly_disabled' }))).map((c) => c.id)
    },
    evaluate (name: string, context?: FlagpostContext): EvaluationResult {
      live()
      const checked = contextOf(context)
      return flags.evaluate(environment, existingName(name), checked)
    },
    isEnabled (name: string, context?: FlagpostContext): boolean {
      live()
      if (typeof name !== 'string') existingName(name)
      const checked = contextOf(context)
      const flag = container.snapshot.get(environment, name)
      return flag !== undefined && isOn(flag, flags.evaluate(environment, name, checked))
    },
    async listEnvironments (): Promise<Environment[]> { live(); return environments.list() },
    async addEnvironment (key: string, name?: string): Promise<Environment> {
      live()
      if (typeof key !== 'string') throw invalidField('key', `must be a string, got ${typeName(key)}`)
      if (!ENVIRONMENT_KEY_RULE.test(key)) throw invalidField('key', ENVIRONMENT_KEY_RULE.message)
      const displayName = optionalString('name', name, 64)
      if (displayName !== undefined && displayName.trim() === '') throw invalidField('name', 'must be 1 to 64 characters, not only spaces')
      return environments.create({ key, ...(displayName !== undefined ? { name: displayName } : {}) }, opts)
    },
    async removeEnvironment (key: string, given?: RemoveEnvironmentOptions): Promise<void> {
      live()
      const checked = existingEnvironment(key, 'key')
      const force = optionalBool('options.force', optionsObject(given, ['force']).force) ?? false
      await environments.remove(checked, { force }, opts)
    },
    async promote (from: string, to: string, given?: PromoteOptions): Promise<PromoteResult> {
      live()
      const source = existingEnvironment(from, 'from')
      const target = existingEnvironment(to, 'to')
      const options = promoteOptions(given)
      if (source === target) throw invalidField('to', 'must be another environment than from')
      return environments.promote(target, { from: source, ...options }, opts)
    },
    ...historyCalls({ history, environment, write: opts, live }),
    async refresh (): Promise<void> { live(); await container.snapshot.catchUp() },
    async close (): Promise<void> { closed = true; await container.close() }
  }
}
