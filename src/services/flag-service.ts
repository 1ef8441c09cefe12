import { randomUUID } from 'node:crypto'
import type { FlagSnapshot } from '../cache/flag-snapshot.js'
import { checkRegexSafety, compileFlag, evaluate, FlagCompileError, type CompiledFlag } from '../engine/index.js'
import { toDefinition } from '../repositories/flag-definition.js'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import { ConflictError, EnvironmentNotFoundError, FlagNotFoundError, FlagUnservableError, invalidField, VersionMismatchError } from '../errors.js'
import type { AuditEntry, FlagRepository, StoredFlag } from '../repositories/flag-repository.js'
import type { SubjectRepository } from '../repositories/subject-repository.js'
import type { FlagChange, FlagSpec, NewFlag } from './flag-commands.js'
import { mergePatch, normalizeFlag, writtenForm, type FlagState } from './flag-input.js'
import { camelField } from './field-names.js'
import { FLAG_NAME_RULE } from '../schemas/names.js'
import { isServableMetadata } from '../schemas/storable.js'
import { decodeCursor } from './cursor.js'
import { page, type Page, type PageQuery } from './paging.js'
import { toFlagBody } from './flag-view.js'
import { createKeyedQueue } from './keyed-queue.js'

/** Who is writing and on which version the change is based (`If-Match`). */
export interface WriteOptions {
  actor: string
  ifMatch?: number
}

export interface EvaluationFailure { name: string, error_code: 'FLAG_NOT_FOUND', error_message: string }
/** A flag whose stored row cannot be served (see FlagUnservableError): reported in bulk results, never failing them. */
export interface EvaluationUnservable { name: string, error_code: 'GENERAL', error_message: string }
export type BulkEntry = EvaluationResult | EvaluationFailure | EvaluationUnservable

/**
 * Told of every evaluation the service answers (one and many): a result, a name no flag has, or a
 * flag whose stored row cannot be served. Metrics count through this; it must be cheap and not throw.
 */
export interface EvaluationObserver {
  served (environment: string, result: EvaluationResult): void
  missing (environment: string, name: string): void
  unservable (environment: string, name: string): void
}

/**
 * Whether a result can be sent as the API describes it. Writes refuse anything else; a row written
 * by an older version (metadata `{"x": null}` from a non-finite number) may still hold it.
 */
export const isServable = (result: EvaluationResult): boolean => isServableMetadata(result.metadata)
const unservable = (name: string): EvaluationUnservable => ({ name, error_code: 'GENERAL', error_message: new FlagUnservableError(name).message })

/** Whether a flag is on for a context: it serves anything but its off variant. */
export const isOn = (flag: CompiledFlag, result: EvaluationResult): boolean => result.variant !== flag.offVariant

const MAX_ATTEMPTS = 8
const RETRY = Symbol('retry')
/** Before retrying a write another process got in ahead of, wait a little, longer each time, jittered. */
const backoff = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)))

/** Metadata without the values an older version stored unservable (null from a non-finite number). */
function servableMetadata (metadata: StoredFlag['metadata']): StoredFlag['metadata'] {
  if (isServableMetadata(metadata)) return metadata
  return Object.fromEntries(Object.entries(metadata).filter(([, v]) => isServableMetadata({ v })))
}

/** The HTTP schema checks names too; the CLI and the library come to the service directly. */
function checkFlagName (field: string, name: string): void {
  if (!FLAG_NAME_RULE.test(name)) throw invalidField(field, FLAG_NAME_RULE.message)
}

/**
 * What the snapshot will compile must compile now, and its patterns must be RE2 the engine can run,
 * so a bad flag is a 400 and never reaches evaluation.
 */
function compilable (flag: StoredFlag): StoredFlag {
  try {
    const definition = toDefinition(flag)
    compileFlag(definition)
    checkRegexSafety(definition)
  } catch (err) {
    // The engine names fields as stored (`targeting_rules.rules.0`); the domain's names are camelCase.
    if (err instanceof FlagCompileError) throw invalidField(camelField(err.field), err.message)
    throw err
  }
  return flag
}

/**
 * Flags: CRUD with optimistic concurrency and a change-log row per write, and evaluation from
 * the in-process snapshot. After each commit the snapshot catches up before the call returns,
 * so a client reads its own writes on this instance.
 */
export function createFlagService ({ repo, snapshot, subjects, now = () => new Date() }: {
  repo: FlagRepository, snapshot: FlagSnapshot, subjects?: SubjectRepository, now?: () => Date
}) {
  /** Refuse to remove variants that overrides still pin: they would silently serve something else. */
  const checkPinnedVariants = async (current: StoredFlag, next: StoredFlag): Promise<void> => {
    const removed = Object.keys(current.variants).filter((v) => !Object.hasOwn(next.variants, v))
    if (removed.length === 0 || subjects === undefined) return
    const pinned = (await subjects.overridesOf([current.id])).filter((o) => o.variant !== null && removed.includes(o.variant))
    if (pinned.length === 0) return
    const who = pinned.slice(0, 5).map((o) => `${o.subject} ${o.subjectId} → ${o.variant}`).join(', ')
    throw new ConflictError(`Overrides still serve the variants this change removes (${who}${pinned.length > 5 ? `, and ${pinned.length - 5} more` : ''}); change or clear them first`)
  }
  /** An unknown environment is its own 404, never "flag not found". */
  const checkEnvironment = (environment: string): void => {
    if (!snapshot.hasEnvironment(environment)) throw new EnvironmentNotFoundError(environment)
  }
  const mustGet = async (environment: string, name: string): Promise<StoredFlag> => {
    checkEnvironment(environment)
    const flag = await repo.get(environment, name)
    if (flag === undefined) throw new FlagNotFoundError(name)
    return flag
  }
  /**
   * A change of the definition (variants, type…) reaches every environment: it must leave the flag
   * servable in each of them, not only in the one it was made in.
   */
  const compilableEverywhere = async (current: StoredFlag, updated: StoredFlag): Promise<void> => {
    // Only the type and the variants decide whether another environment's configuration still compiles.
    if (current.type === updated.type && JSON.stringify(current.variants) === JSON.stringify(updated.variants)) return
    const { enabled: _e, defaultVariant: _d, offVariant: _o, targetingRules: _t, environment, ...definition } = updated
    for (const other of await repo.getMany([current.name])) {
      if (other.environment !== environment) compilable({ ...other, ...definition })
    }
  }
  const checkVersion = (flag: StoredFlag, ifMatch: number | undefined): void => {
    if (ifMatch !== undefined && flag.version !== ifMatch) throw new VersionMismatchError(flag.name, flag.version)
  }
  const audit = (actor: string, action: string, names: string[], before: StoredFlag | null, after: StoredFlag | null): AuditEntry =>
    ({ actor, action, environment: (after ?? before)?.environment ?? null, names, before: before && toFlagBody(before), after: after && toFlagBody(after) })
  const committed = async <T>(value: T): Promise<T> => { await snapshot.committed(); return value }
  /** SPEC §2.4: a registered user's customer stands in when the context names no customer. */
  const withInferredCustomer = (context: EvaluationContext): EvaluationContext => {
    if (context.customer_id !== undefined && context.customer_id !== '') return context
    const userId = context.user_id ?? context.targetingKey
    const customerId = userId === undefined ? undefined : snapshot.customerOf(String(userId))
    return customerId === undefined ? context : { ...context, customer_id: customerId }
  }
  const serialized = createKeyedQueue()
  const observers = new Set<EvaluationObserver>()
  /** A bulk entry, told to the observers. */
  const observed = (environment: string, entry: BulkEntry): BulkEntry => {
    if (observers.size === 0) return entry
    for (const observer of observers) {
      if (!('error_code' in entry)) observer.served(environment, entry)
      else if (entry.error_code === 'FLAG_NOT_FOUND') observer.missing(environment, entry.name)
      else observer.unservable(environment, entry.name)
    }
    return entry
  }

  /**
   * An optimistic write: read the flag, honour If-Match, write on the version read. Writes to one
   * flag queue up in this process; when another process got in between, `attempt` returns RETRY
   * and the write is recomputed on the new version after a short backoff.
   */
  function optimistic<T> (environment: string, name: string, opts: WriteOptions, attempt: (current: StoredFlag) => Promise<T | typeof RETRY>): Promise<T> {
    return serialized(name, async () => {
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        if (i > 0) await backoff(i)
        const current = await mustGet(environment, name)
        checkVersion(current, opts.ifMatch)
        const result = await attempt(current)
        if (result !== RETRY) return result
      }
      throw new ConflictError(`Flag "${name}" is being changed concurrently; retry`)
    })
  }

  /** Replace a flag with `next(current)`; null means nothing changes (no write, no new version). */
  const change = (environment: string, name: string, opts: WriteOptions, action: string, next: (current: StoredFlag) => StoredFlag | null): Promise<StoredFlag> =>
    optimistic(environment, name, opts, async (current) => {
      const updated = next(current)
      if (updated === null) return current
      await compilableEverywhere(current, updated)
      await checkPinnedVariants(current, updated)
      const names = updated.name === current.name ? [current.name] : [current.name, updated.name]
      const revision = await repo.update(updated, current.version, audit(opts.actor, action, names, current, updated))
      return revision === null ? RETRY : committed(updated)
    })

  const withState = (current: StoredFlag, state: FlagState): StoredFlag =>
    compilable({ ...current, ...state, version: current.version + 1, updatedAt: now() })

  return {
    /** A new flag, configured as given in `environment` and served off in every other. */
    async create (environment: string, input: NewFlag, opts: WriteOptions): Promise<StoredFlag> {
      checkFlagName('name', input.name)
      checkEnvironment(environment)
      const at = now()
      const flag = compilable({ id: randomUUID(), name: input.name, environment, ...normalizeFlag(input, input.name), version: 1, createdAt: at, updatedAt: at })
      await repo.create(flag, audit(opts.actor, 'flag.create', [flag.name], null, flag))
      return committed(flag)
    },

    get: mustGet,

    async list (environment: string, query: PageQuery & { tag?: string, q?: string }): Promise<Page<StoredFlag>> {
      checkEnvironment(environment)
      const limit = query.limit ?? 100
      const after = decodeCursor(query.cursor, FLAG_NAME_RULE.regex)
      return page(await repo.list(environment, { limit: limit + 1, after, tag: query.tag, q: query.q }), limit, (flag) => flag.name)
    },

    /** Apply a merge patch to the flag's written state. */
    update (environment: string, name: string, patch: FlagChange, opts: WriteOptions): Promise<StoredFlag> {
      if (patch.name !== undefined && patch.name !== name) throw invalidField('name', 'cannot change here; use POST /flags/{name}/rename')
      return change(environment, name, opts, 'flag.update', (current) => {
        const base = writtenForm(current)
        // percentage and rollout are alternatives: writing one replaces the stored other.
        const tr = patch.targetingRules
        if (tr?.rollout != null && !('percentage' in tr)) base.targetingRules!.percentage = null
        if (tr?.percentage != null && !('rollout' in tr)) base.targetingRules!.rollout = null
        const { name: _name, ...change } = patch
        const state = normalizeFlag(mergePatch(base, change) as FlagSpec, current.name)
        if (JSON.stringify(state) === JSON.stringify(normalizeFlag(base, current.name))) return null
        return withState(current, state)
      })
    },

    /** Renames the flag in every environment; answers it as `environment` sees it. */
    async rename (environment: string, name: string, newName: string, opts: WriteOptions): Promise<StoredFlag> {
      if (typeof newName !== 'string') throw invalidField('newName', 'must be a string')
      checkFlagName('newName', newName)
      return change(environment, name, opts, 'flag.rename', (current) =>
        // Metadata an older version stored unservable is dropped, as any update does: the renamed flag is always served.
        // The bucketing seed stays (spread from current): a rename never moves anyone between buckets.
        newName === current.name ? null : { ...current, metadata: servableMetadata(current.metadata), name: newName, version: current.version + 1, updatedAt: now() })
    },

    /** Deletes the flag in every environment (`environment` is where the request was made). */
    remove (environment: string, name: string, opts: WriteOptions): Promise<void> {
      return optimistic(environment, name, opts, async (current) => {
        const revision = await repo.delete(current.id, current.version, audit(opts.actor, 'flag.delete', [name], current, null))
        return revision === null ? RETRY : committed(undefined)
      })
    },

    /** Be told of every evaluation from now on; returns what stops it. */
    observe (observer: EvaluationObserver): () => void {
      observers.add(observer)
      return () => { observers.delete(observer) }
    },

    /** One flag for one context, from the snapshot. */
    evaluate (environment: string, name: string, context: EvaluationContext): EvaluationResult {
      const flag = snapshot.get(environment, name)
      if (flag === undefined) {
        checkEnvironment(environment)
        for (const observer of observers) observer.missing(environment, name)
        throw new FlagNotFoundError(name)
      }
      const result = evaluate(flag, withInferredCustomer(context), Date.now())
      if (!isServable(result)) {
        for (const observer of observers) observer.unservable(environment, name)
        throw new FlagUnservableError(name)
      }
      for (const observer of observers) observer.served(environment, result)
      return result
    },

    /** Every flag (or the named ones) for one context; unknown names are reported, not thrown. */
    evaluateMany (environment: string, context: EvaluationContext, names?: string[]): Record<string, BulkEntry> {
      checkEnvironment(environment)
      const at = Date.now()
      context = withInferredCustomer(context)
      const results: Record<string, BulkEntry> = {}
      if (names === undefined) {
        for (const flag of snapshot.values(environment)) {
          const result = evaluate(flag, context, at)
          results[flag.definition.name] = observed(environment, isServable(result) ? result : unservable(flag.definition.name))
        }
        return results
      }
      for (const name of names) {
        const flag = snapshot.get(environment, name)
        const result = flag === undefined ? undefined : evaluate(flag, context, at)
        results[name] = observed(environment, result === undefined
          ? { name, error_code: 'FLAG_NOT_FOUND', error_message: new FlagNotFoundError(name).message }
          : isServable(result) ? result : unservable(name))
      }
      return results
    }
  }
}

export type FlagService = ReturnType<typeof createFlagService>
