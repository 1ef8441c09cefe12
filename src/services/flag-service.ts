import { randomUUID } from 'node:crypto'
import type { FlagSnapshot } from '../cache/flag-snapshot.js'
import { checkRegexSafety, compileFlag, evaluate, FlagCompileError, isServableMetadata, type CompiledFlag } from '../engine/index.js'
import { toDefinition } from '../repositories/flag-definition.js'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import { ConflictError, EnvironmentNotFoundError, FlagNotFoundError, FlagUnservableError, invalidField, RevertConflictError, VersionMismatchError } from '../errors.js'
import type { AuditEntry, FlagRepository, StoredFlag } from '../repositories/flag-repository.js'
import type { SubjectRepository } from '../repositories/subject-repository.js'
import type { FlagChange, FlagSpec, NewFlag } from './flag-commands.js'
import { mergePatch, normalizeFlag, writtenForm, type FlagState } from './flag-input.js'
import { camelField } from './field-names.js'
import { FLAG_NAME_RULE } from '../schemas/names.js'
import { decodeCursor } from './cursor.js'
import { page, type Page, type PageQuery } from './paging.js'
import { toFlagBody } from './flag-view.js'
import { createKeyedQueue } from './keyed-queue.js'
import { settleWithin } from '../settle-within.js'
import { bulkPlanOf, choose, chooseOne, isUnservableAt, unservable, type BulkEntry, type BulkPlan } from './bulk-plan.js'
import { contextKey, type BulkAnswerCache } from './bulk-answers.js'

export type { BulkEntry, EvaluationFailure, EvaluationUnservable } from './bulk-plan.js'

/** A flag's configuration in one environment at a revision, as the change log recorded it: what a revert restores. */
export interface RestoreTarget extends Pick<StoredFlag, 'type' | 'enabled' | 'defaultVariant' | 'offVariant' | 'targetingRules'> {
  revision: number
  /** The flag the configuration belonged to (a flag deleted and recreated under its name is another one). */
  flagId: string
}

/** Who is writing and on which version the change is based (`If-Match`). */
export interface WriteOptions {
  actor: string
  ifMatch?: number
}

/**
 * Told of every evaluation the service answers (one and many): a result, a name no flag has, or a
 * flag whose stored row cannot be served. Metrics count through this; it must be cheap and not throw.
 */
export interface EvaluationObserver {
  served (environment: string, result: EvaluationResult): void
  /**
   * Each of `results` was served once. A bulk evaluation passes the same array object every time for
   * the flags whose results are fixed until the next revision (BulkPlan.fixedResults), and a kept
   * answer its own (services/bulk-answers.ts), so an observer may count the array and expand it later.
   */
  servedAll (environment: string, results: readonly EvaluationResult[]): void
  /**
   * The entry `plan.outcomes[chosen[i]]` of each flag `i` at `plan.evaluated` (all results) was served
   * once: what a bulk evaluation evaluated for its context (`choose`), told in one call, so an observer
   * can count by a flag's position in the plan instead of finding each result's own tally (at 10,000
   * flags that lookup was half of a bulk request's CPU: bench/README).
   */
  servedEvaluated (environment: string, plan: BulkPlan, chosen: readonly number[]): void
  /** The entry `plan.outcomes[index]` (a result) was served once: a single evaluation made from the plan (`serveOne`). */
  servedAt (environment: string, plan: BulkPlan, index: number): void
  missing (environment: string, name: string): void
  unservable (environment: string, name: string): void
}

/** Whether a flag is on for a context: it serves anything but its off variant. */
export const isOn = (flag: CompiledFlag, result: EvaluationResult): boolean => result.variant !== flag.offVariant

/** How long a re-fetch triggered by an event waits for this instance to reach the event's revision. */
const FRESH_WAIT_MS = 1000
/**
 * How long a write keeps being recomputed after races lost to other instances before it answers 409.
 * A count of attempts was not enough: the instance that won keeps its queue of writes to the flag
 * going while the loser backs off, so the loser can lose as many times as the winner has writes queued.
 */
const RETRY_BUDGET_MS = 2000
const RETRY = Symbol('retry')
/**
 * How long after a single evaluation found no plan for the current revision the plan is made (for
 * `serveOne`): off the request path, and once for a burst of writes rather than once per write (at
 * 10,000 flags a plan takes tens of ms to make).
 */
export const PLAN_AFTER_MS = 100
/**
 * From how many flags an environment's single evaluations are served from its plan. Below, the
 * flags' own objects stay in the CPU's caches between requests and the object path is the cheaper
 * one: bench:http's `GET` ÷ bare read 81.5–81.9 % from the plan against 84.5–85.3 % from the objects
 * (twenty-first session), while at 10,000 flags the plan saved about 2 µs a request (bench:scale).
 * The engine's cost per flag starts to grow between 1,000 and 2,000 distinct flags (bench:cost).
 */
const PLAN_FROM_FLAGS = 1000
/** Before retrying a write another process got in ahead of, wait a little: doubling up to 50 ms, jittered. */
const backoff = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * 2 ** attempt)))

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
 * How a route makes its answer to a single evaluation (`serveOne`): from the result's entry in the
 * environment's bulk plan (`plan.outcomes[index]`, so that what it sends is made once per plan:
 * `perPlan`), or from the result itself while the plan for the current revision is not made yet.
 * The two must make the same answer of the same result.
 */
export interface SingleRender<T> {
  readonly fromPlan: (plan: BulkPlan, index: number) => T
  readonly fromResult: (result: EvaluationResult) => T
}

/**
 * How a route makes its bulk answer from every flag's entry (answerAll's order): `make` gets the plan
 * and, per flag, its entry's index in `plan.outcomes` (`choose`), so it can make what it needs of each
 * outcome once per plan (`perPlan`); `id` keeps its kept answers apart from another route's, `size` is
 * what a kept answer holds (bytes), for the cache's budget, and `own` is the answer as it is kept beyond
 * the request (made answers may be sent from memory lent for that one response: routes/lent-bytes.ts).
 */
export interface BulkRender<T> {
  readonly id: string
  readonly make: (plan: BulkPlan, chosen: readonly number[]) => T
  readonly size: (answer: T) => number
  readonly own: (answer: T) => T
}

/**
 * Flags: CRUD with optimistic concurrency and a change-log row per write, and evaluation from
 * the in-process snapshot. After each commit the snapshot catches up before the call returns,
 * so a client reads its own writes on this instance.
 */
export function createFlagService ({ repo, snapshot, subjects, answers, now = () => new Date(), retryBudgetMs = RETRY_BUDGET_MS, planFromFlags = PLAN_FROM_FLAGS }: {
  repo: FlagRepository, snapshot: FlagSnapshot, subjects?: SubjectRepository, answers?: BulkAnswerCache, now?: () => Date, retryBudgetMs?: number, planFromFlags?: number
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
  const audit = (actor: string, action: string, names: string[], before: StoredFlag | null, after: StoredFlag | null): AuditEntry => {
    const flag = (after ?? before)!
    return { actor, action, environment: flag.environment, flagId: flag.id, flag: flag.name, names, before: before && toFlagBody(before), after: after && toFlagBody(after) }
  }
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
  /**
   * Per environment, the revision last looked at and its bulk plan, what `serveOne` evaluates from
   * while the revision stays (null: fewer than `planFromFlags` flags, served from their objects).
   */
  const plans = new Map<string, { revision: number, plan: BulkPlan | null }>()
  const planning = new Set<string>()
  /**
   * Make the environment's plan for the revision current PLAN_AFTER_MS from now: one timer at a time per
   * environment, and none for an environment that does not exist (a request naming one is refused, and
   * must not leave a timer behind; one deleted before the timer fires is checked again then).
   */
  const planSoon = (environment: string): void => {
    if (planning.has(environment) || !snapshot.hasEnvironment(environment)) return
    planning.add(environment)
    setTimeout(() => {
      planning.delete(environment)
      if (!snapshot.hasEnvironment(environment)) { plans.delete(environment); return }
      // The revision and the flags read in one synchronous step: the plan is the revision's.
      const flags = snapshot.sorted(environment)
      plans.set(environment, { revision: snapshot.revision, plan: flags.length >= planFromFlags ? bulkPlanOf(flags) : null })
    }, PLAN_AFTER_MS).unref()
  }
  /**
   * The environment's plan for the current revision, or null: too few flags for one, or none made for
   * this revision yet. A stale plan is let go now (with what the routes made of it), not when the next
   * one is made, and the next is made PLAN_AFTER_MS from now.
   */
  const currentPlan = (environment: string): BulkPlan | null => {
    const made = plans.get(environment)
    if (made !== undefined && made.revision === snapshot.revision) return made.plan
    plans.delete(environment)
    planSoon(environment)
    return null
  }
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
  /** What a bulk answer of the plan serves whatever the context, told to one observer: the fixed results at once. */
  const tellFixed = (observer: EvaluationObserver, environment: string, plan: BulkPlan): void => {
    observer.servedAll(environment, plan.fixedResults)
    for (const name of plan.unservable) observer.unservable(environment, name)
  }
  /** Every flag of the plan for one context (the customer already inferred), told to the observers. */
  const evaluatePlan = (environment: string, plan: BulkPlan, context: EvaluationContext): readonly number[] => {
    const chosen = choose(plan, context, Date.now())
    for (const observer of observers) {
      observer.servedEvaluated(environment, plan, chosen)
      tellFixed(observer, environment, plan)
    }
    return chosen
  }

  /**
   * An optimistic write: read the flag, honour If-Match, write on the version read. Writes to one
   * flag queue up in this process; when another process got in between, `attempt` returns RETRY
   * and the write is recomputed on the new version after a short backoff, for as long as the retry
   * budget lasts (counted from when the write's turn comes, not while it is queued here).
   */
  function optimistic<T> (environment: string, name: string, opts: WriteOptions, attempt: (current: StoredFlag) => Promise<T | typeof RETRY>): Promise<T> {
    return serialized(name, async () => {
      // The monotonic clock, as the database write's own bound (writeTransaction): a wall-clock step cannot stretch or cut the budget.
      const deadline = performance.now() + retryBudgetMs
      for (let i = 0; ; i++) {
        if (i > 0) {
          if (performance.now() >= deadline) throw new ConflictError(`Flag "${name}" is being changed concurrently; retry`)
          await backoff(i)
        }
        const current = await mustGet(environment, name)
        checkVersion(current, opts.ifMatch)
        const result = await attempt(current)
        if (result !== RETRY) return result
      }
    })
  }

  /**
   * Replace a flag with `next(current)`; null means nothing changes (no write, no new version).
   * `note` is recorded with the change-log row's `after` (what a revert restored).
   */
  const change = (environment: string, name: string, opts: WriteOptions, action: string, next: (current: StoredFlag) => StoredFlag | null, note?: object): Promise<StoredFlag> =>
    optimistic(environment, name, opts, async (current) => {
      const updated = next(current)
      if (updated === null) return current
      await compilableEverywhere(current, updated)
      await checkPinnedVariants(current, updated)
      const names = updated.name === current.name ? [current.name] : [current.name, updated.name]
      const entry = audit(opts.actor, action, names, current, updated)
      const revision = await repo.update(updated, current.version, note === undefined ? entry : { ...entry, after: { ...entry.after as object, ...note } })
      return revision === null ? RETRY : committed(updated)
    })

  const withState = (current: StoredFlag, state: FlagState): StoredFlag =>
    compilable({ ...current, ...state, version: current.version + 1, updatedAt: now() })

  const service = {
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

    /**
     * Serve in `environment` the configuration the flag had there at an earlier revision (SPEC §11),
     * keeping its definition (type, variants, description…: shared by every environment). Refused
     * (409) when the flag was deleted and recreated since, or its type or variants no longer allow it.
     */
    restore (environment: string, name: string, target: RestoreTarget, opts: WriteOptions): Promise<StoredFlag> {
      const at = `revision ${target.revision}`
      return change(environment, name, opts, 'flag.revert', (current) => {
        if (current.id !== target.flagId) throw new RevertConflictError(`Flag "${name}" was created after ${at}; it has no state there to restore`)
        if (current.type !== target.type) throw new RevertConflictError(`Flag "${name}" was a ${target.type} flag at ${at} and is a ${current.type} flag now: its configuration then cannot be served`)
        const { enabled, defaultVariant, offVariant, targetingRules } = target
        const next = { ...current, enabled, defaultVariant, offVariant, targetingRules, version: current.version + 1, updatedAt: now() }
        if (JSON.stringify([enabled, defaultVariant, offVariant, targetingRules]) === JSON.stringify([current.enabled, current.defaultVariant, current.offVariant, current.targetingRules])) return null
        try {
          return compilable(next)
        } catch (err) {
          if (!(err instanceof Error) || (err as { statusCode?: number }).statusCode !== 400) throw err
          throw new RevertConflictError(`Flag "${name}" cannot be served as it was at ${at} with the variants it has now (${Object.keys(current.variants).join(', ')}): ${err.message}`)
        }
      }, { reverted_to: target.revision })
    },

    /** Deletes the flag in every environment (`environment` is where the request was made). */
    remove (environment: string, name: string, opts: WriteOptions): Promise<void> {
      return optimistic(environment, name, opts, async (current) => {
        const revision = await repo.delete(current.id, current.version, audit(opts.actor, 'flag.delete', [name], current, null))
        return revision === null ? RETRY : committed(undefined)
      })
    },

    /**
     * Serve at least `revision` (an event's), or, without one, what the database has now: for a
     * re-fetch an event triggered (OFREP ADR-0008). Bounded: past FRESH_WAIT_MS it answers from what
     * it has (the poll catches up), as a stale answer beats none.
     */
    async freshAsOf (revision: number | undefined): Promise<void> {
      if (revision !== undefined && snapshot.revision >= revision) return
      await settleWithin(snapshot.catchUp(), FRESH_WAIT_MS, undefined)
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
      if (!flag.servable) {
        for (const observer of observers) observer.unservable(environment, name)
        throw new FlagUnservableError(name)
      }
      // Only a flag that reads customer_id can tell an inferred customer from none: the others skip the lookup and the copy.
      const result = evaluate(flag, flag.readsCustomer ? withInferredCustomer(context) : context, Date.now())
      for (const observer of observers) observer.served(environment, result)
      return result
    },

    /**
     * One flag for one context, as `evaluate` answers it, made into a route's answer (`render`). In an
     * environment of `planFromFlags` flags or more, once its bulk plan for the current revision is
     * made, the flag is evaluated from the plan's arrays rather than from its objects, and the answer
     * is made of its entry in the plan: at 10,000 flags each request's flag is out of the CPU's caches,
     * and the plan's arrays take fewer cache lines than the flag's objects (SPEC §8; bench/README,
     * twenty-first session). Before that (after a write, or on an environment's first request),
     * `evaluate` answers, and the plan is made PLAN_AFTER_MS later, off the request path.
     */
    serveOne <T>(environment: string, name: string, context: EvaluationContext, render: SingleRender<T>): T {
      const plan = currentPlan(environment)
      if (plan === null) return render.fromResult(service.evaluate(environment, name, context))
      const at = plan.found.get(name)
      if (at === undefined) {
        for (const observer of observers) observer.missing(environment, name)
        throw new FlagNotFoundError(name)
      }
      if (isUnservableAt(at)) {
        for (const observer of observers) observer.unservable(environment, name)
        throw new FlagUnservableError(name)
      }
      const index = chooseOne(plan, at, context, Date.now(), withInferredCustomer)
      for (const observer of observers) observer.servedAt(environment, plan, index)
      return render.fromPlan(plan, index)
    },

    /**
     * Every flag of the environment for one context, ordered by name (the same order on every
     * instance), made into a route's answer: what bulk evaluation answers. Only the flags whose result
     * the context can change are evaluated; the others' entries were worked out once for the revision
     * (services/bulk-plan.ts). The answer is kept for the next request with the same context
     * (services/bulk-answers.ts) as long as the environment's flags stay as they are, unless a flag's
     * rule reads the clock. A kept answer is still told to the observers (metrics count every
     * evaluation served).
     */
    answerAll <T>(environment: string, context: EvaluationContext, render: BulkRender<T>): T {
      checkEnvironment(environment)
      const plan = bulkPlanOf(snapshot.sorted(environment))
      // The customer inferred from the user is part of the key: a user moved to another customer is another context.
      context = withInferredCustomer(context)
      const cache = plan.readsClock ? undefined : answers
      const key = cache === undefined ? '' : `${render.id}\n${environment}\n${contextKey(context)}`
      const kept = cache?.get<T>(key, plan.revision)
      if (kept !== undefined) {
        for (const observer of observers) {
          observer.servedAll(environment, kept.served)
          tellFixed(observer, environment, plan)
        }
        return kept.answer
      }
      const chosen = evaluatePlan(environment, plan, context)
      const answer = render.make(plan, chosen)
      const size = render.size(answer)
      if (cache !== undefined && cache.admits(key, size)) cache.set(key, { plan: plan.revision, served: plan.evaluated.map((i) => plan.outcomes[chosen[i]] as EvaluationResult), answer: render.own(answer) }, size)
      return answer
    },

    /** The named flags for one context, in the order asked (a name asked twice, once); unknown names are reported, not thrown. */
    evaluateNamed (environment: string, context: EvaluationContext, names: readonly string[]): BulkEntry[] {
      checkEnvironment(environment)
      const at = Date.now()
      context = withInferredCustomer(context)
      const seen = new Set<string>()
      const entries: BulkEntry[] = []
      for (const name of names) {
        if (seen.has(name)) continue
        seen.add(name)
        const flag = snapshot.get(environment, name)
        entries.push(observed(environment, flag === undefined
          ? { name, error_code: 'FLAG_NOT_FOUND', error_message: new FlagNotFoundError(name).message }
          : flag.servable ? evaluate(flag, context, at) : unservable(name)))
      }
      return entries
    }
  }
  return service
}

export type FlagService = ReturnType<typeof createFlagService>
