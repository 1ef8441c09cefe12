import { compileFlag, type CompiledFlag } from '../engine/index.js'
import type { FlagDefinition, OverrideSpec } from '../engine/types.js'
import type { EnvironmentRepository, FlagRepository, StoredEnvironment, StoredFlag } from '../repositories/flag-repository.js'
import { toDefinition } from '../repositories/flag-definition.js'
import type { OverrideState, StoredUser, SubjectKind, SubjectRepository, UserCustomer } from '../repositories/subject-repository.js'
import type { SharedFlagCache } from './redis-flag-cache.js'

/** How many change-log rows one catch-up reads before falling back to a full reload. */
const MAX_INCREMENTAL = 500
/**
 * Rows per read of the full load's overrides and users. Each page is compiled in and dropped, so
 * the rows die young instead of 150k of them being promoted together (the start-up memory peak).
 */
const PAGE = 5_000
/** Reads of one catch-up that a concurrent commit may invalidate before it gives up until the next poll. */
const ATTEMPTS = 5
/** Consecutive failed catch-ups after which the next one reloads everything instead. */
const FULL_RELOAD_AFTER = 3

export interface SnapshotLogger {
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
  info? (obj: object, msg: string): void
}

/** Whether the snapshot keeps up with the database: what /readyz and /metrics report. */
export interface SnapshotHealth {
  /** The last catch-up failed (the snapshot serves the revision it last reached). */
  failing: boolean
  /** Failed catch-ups in a row. */
  failures: number
  /** The last failure's message, while failing. */
  error?: string
  /** When the snapshot last reached the database's latest revision (epoch ms; 0 before the first load). */
  caughtUpAt: number
}

/**
 * The in-process copy of every flag, compiled for the engine: evaluation never touches the
 * database. It knows the revision it reflects and catches up from the change log, either when
 * this process wrote (`catchUp()` after the commit) or on a timer (other processes, the CLI).
 *
 * It only ever serves a state the database had at one revision: every catch-up reads what changed
 * and the rows it touched, then checks that no commit landed while it read (the revision did not
 * move; writers are serialized and each appends one change-log row), retrying if one did, and
 * applies the result in one synchronous step. A full load reads everything at a revision read
 * first, then repairs what changed while it read with such a checked catch-up before it is served.
 */
export interface FlagSnapshot {
  readonly revision: number
  readonly loaded: boolean
  readonly health: SnapshotHealth
  /** One flag in one environment (undefined for an unknown flag or environment). */
  get (environment: string, name: string): CompiledFlag | undefined
  /** Every flag of one environment (none for an unknown environment). */
  values (environment: string): IterableIterator<CompiledFlag>
  /**
   * Every flag of one environment ordered by name (code unit order, the same on every instance), sorted
   * once per revision that changed it: the same array until then, a new one after.
   */
  sorted (environment: string): readonly CompiledFlag[]
  /** The environments, by position then key. */
  environments (): readonly StoredEnvironment[]
  hasEnvironment (key: string): boolean
  /** The customer a registered user belongs to (for inferring `customer_id`). */
  customerOf (userId: string): string | undefined
  /** Full load; the first call makes the snapshot usable. */
  load (): Promise<void>
  /** Apply every change after the current revision. Calls are serialized. Rejects when it failed. */
  catchUp (): Promise<void>
  /**
   * After this process committed a write: catch up (read-your-writes), then tell every
   * `onCommitted` listener (the Redis feed) the revision and the flags it changed. Never rejects:
   * the write is committed whatever happens here, and a failed catch-up is retried by the poll.
   */
  committed (): Promise<void>
  onCommitted (listener: (change: { revision: number }) => Promise<void> | void): void
  /** Called after every catch-up that moved the revision (the API keys reload on it). */
  onAdvanced (listener: (revision: number) => Promise<void> | void): void
  /** Poll the revision every `intervalMs` (unref'd timer). */
  start (intervalMs: number): void
  close (): void
}

/** Group override rows by flag, as the engine takes them. */
interface OverrideSpecs { users: Map<string, OverrideSpec>, customers: Map<string, OverrideSpec> }
interface Source { readonly id: string, specs: OverrideSpecs | undefined }

/** What one environment serves. */
interface EnvState {
  flags: Map<string, CompiledFlag>
  /** `flags` by name, made on first use after a change (apply() drops it). */
  sorted: readonly CompiledFlag[] | undefined
  // Per flag name: its id and its override specs (none until it has one), so that a single override
  // change is patched in place instead of reloading every override of the flag. The compiled flag
  // keeps the definition it is recompiled from.
  sources: Map<string, Source>
}

/** Everything served, at one revision. */
interface State {
  environments: StoredEnvironment[]
  envs: Map<string, EnvState>
  userCustomers: Map<string, string>
  revision: number
}

const emptyEnv = (): EnvState => ({ flags: new Map(), sorted: undefined, sources: new Map() })
const NO_FLAGS: ReadonlyMap<string, CompiledFlag> = new Map()
const NO_SORTED_FLAGS: readonly CompiledFlag[] = Object.freeze([])
const byName = (a: CompiledFlag, b: CompiledFlag): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** What changed after a state's revision, with the rows it touched as of `revision`. */
interface Delta {
  revision: number
  /** Flags reloaded whole (dropped, then re-added from `flags` if they still exist). */
  names: string[]
  flags: StoredFlag[]
  /** Every override of the reloaded flags. */
  overrides: OverrideState[]
  /** Single override changes on flags not reloaded: the row now, or undefined when cleared. */
  single: Array<{ name: string, environment: string, subject: SubjectKind, id: string, row: OverrideState | undefined }>
  /** Users whose registration changed, and the rows of those still registered. */
  userIds: string[]
  users: StoredUser[]
}

// Specs are never changed in place (a change replaces the entry), and nearly all of them are a bare
// on or off: those share one object each instead of one per override.
const ON: OverrideSpec = Object.freeze({ enabled: true, variant: null })
const OFF: OverrideSpec = Object.freeze({ enabled: false, variant: null })
const specOf = ({ enabled, variant }: Pick<OverrideState, 'enabled' | 'variant'>): OverrideSpec =>
  variant === null ? (enabled ? ON : OFF) : { enabled, variant }

/** Override specs by environment, then flag id. */
type SpecIndex = Map<string, Map<string, OverrideSpecs>>

function addOverride (index: SpecIndex, row: OverrideState): void {
  let byFlag = index.get(row.environment)
  if (byFlag === undefined) index.set(row.environment, byFlag = new Map())
  let entry = byFlag.get(row.flagId)
  if (entry === undefined) byFlag.set(row.flagId, entry = { users: new Map(), customers: new Map() })
  ;(row.subject === 'user' ? entry.users : entry.customers).set(row.subjectId, specOf(row))
}

/** Every row of a keyset-paged read, PAGE at a time: `read` gets the last row of the previous page. */
async function eachRow<T> (read: (last: T | undefined) => Promise<T[]>, visit: (row: T) => void): Promise<void> {
  let last: T | undefined
  for (;;) {
    const page = await read(last)
    for (const row of page) visit(row)
    if (page.length < PAGE) return
    last = page[page.length - 1]
  }
}

/** A catch-up that could not finish: the database kept moving, or the log outran the incremental path. */
class CatchUpRetry extends Error {}
/** What readDelta answers when an environment changed: only a full load rebuilds the environments. */
const RELOAD = Symbol('reload everything')
/** Full loads one catch-up tries while environments keep changing under it. */
const FULL_ATTEMPTS = 3

/**
 * `subjects` is optional so that a flag-only setup (some tests) needs no subject store: without it
 * flags compile without overrides and no customer is ever inferred. `shared` is the Redis copy of
 * flag definitions (with REDIS_URL): catch-ups read changed flags from it before the database.
 */
export function createFlagSnapshot ({ repo, environments, logger, subjects, shared }: {
  repo: FlagRepository, environments: EnvironmentRepository, logger: SnapshotLogger, subjects?: SubjectRepository, shared?: SharedFlagCache
}): FlagSnapshot {
  let state: State = { environments: [], envs: new Map(), userCustomers: new Map(), revision: 0 }
  let loaded = false
  const health: SnapshotHealth = { failing: false, failures: 0, caughtUpAt: 0 }
  let timer: NodeJS.Timeout | undefined
  let queue: Promise<void> = Promise.resolve()
  const committedListeners: Array<(change: { revision: number }) => Promise<void> | void> = []
  const advancedListeners: Array<(revision: number) => Promise<void> | void> = []

  /**
   * Compile one stored flag. A flag the engine refuses (only possible for a row written around the
   * service, e.g. by an older version) is left out and logged, so it cannot stop every other flag
   * from being served; evaluating it answers FLAG_NOT_FOUND until it is rewritten.
   */
  const compileInto = (target: EnvState, environment: string, definition: FlagDefinition, specs: OverrideSpecs | undefined): void => {
    try {
      target.flags.set(definition.name, compileFlag(definition, specs))
    } catch (err) {
      target.flags.delete(definition.name)
      logger.warn({ flag: definition.name, environment, err: { message: (err as Error).message } }, 'stored flag cannot be compiled; it is not served')
    }
  }
  const envOf = (target: State, key: string): EnvState => {
    let env = target.envs.get(key)
    if (env === undefined) target.envs.set(key, env = emptyEnv())
    return env
  }
  const addFlag = (target: State, flag: StoredFlag, specs: SpecIndex): void => {
    const env = envOf(target, flag.environment)
    const own = specs.get(flag.environment)?.get(flag.id)
    env.sources.set(flag.name, { id: flag.id, specs: own })
    compileInto(env, flag.environment, toDefinition(flag), own)
  }

  const serialized = (work: () => Promise<void>): Promise<void> => {
    const run = queue.then(work)
    queue = run.catch(() => {})
    return run
  }

  /**
   * The definitions of `names` as of revision `at`: from the shared copy where an entry is at `at`
   * or later, the rest from the database. An entry newer than `at` is only ever used in a read the
   * revision check then refuses (the database is past `at`), so what is served is exact.
   */
  const readFlags = async (names: string[], at: number): Promise<{ flags: StoredFlag[], fromDb: Map<string, StoredFlag[] | null> }> => {
    if (names.length === 0) return { flags: [], fromDb: new Map() }
    const cached = shared === undefined ? new Map<string, StoredFlag[] | null>() : await shared.read(names, at)
    const missing = names.filter((name) => !cached.has(name))
    const read = missing.length === 0 ? [] : await repo.getMany(missing)
    const byName = new Map<string, StoredFlag[]>()
    for (const flag of read) {
      const views = byName.get(flag.name)
      if (views === undefined) byName.set(flag.name, [flag])
      else views.push(flag)
    }
    const fromDb = new Map<string, StoredFlag[] | null>(missing.map((name) => [name, byName.get(name) ?? null]))
    return { flags: [...[...cached.values()].flatMap((views) => views ?? []), ...read], fromDb }
  }

  /** Read what changed after `base.revision`, checked to be the database at one revision; undefined when nothing did. */
  const readDelta = async (base: State): Promise<Delta | typeof RELOAD | undefined> => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const changes = await repo.changesSince(base.revision, MAX_INCREMENTAL)
      if (changes.revision === base.revision) return undefined
      if (changes.environments) return RELOAD
      const reload = new Set(changes.names)
      const { flags, fromDb } = await readFlags(changes.names, changes.revision)
      const overrides = subjects === undefined || flags.length === 0 ? [] : await subjects.overridesOf(flags.map((f) => f.id))
      const single: Delta['single'] = []
      for (const [name, subject, id, environment] of changes.overrides) {
        if (environment === undefined) continue // collectChanges reloads such a flag whole
        const source = base.envs.get(environment)?.sources.get(name)
        if (source === undefined || reload.has(name) || subjects === undefined) continue
        single.push({ name, environment, subject, id, row: await subjects.getOverride(source.id, environment, subject, id) })
      }
      const users = subjects === undefined || changes.users.length === 0 ? [] : await subjects.getUsers(changes.users)
      const latest = await repo.latestRevision()
      if (latest === changes.revision) {
        // Exact at this revision: only now may it refresh the shared copy.
        if (shared !== undefined && fromDb.size > 0) await shared.write(fromDb, changes.revision)
        return { revision: changes.revision, names: changes.names, flags, overrides, single, userIds: changes.users, users }
      }
      // A commit landed while reading: read again, unless the log has run too far for this path.
      if (latest - base.revision > MAX_INCREMENTAL) throw new CatchUpRetry('more changes than one catch-up reads')
    }
    throw new CatchUpRetry(`the database changed during each of ${ATTEMPTS} reads`)
  }

  /** Apply a checked delta in one synchronous step: evaluation never sees half of it. */
  const apply = (target: State, delta: Delta): void => {
    const specsOf: SpecIndex = new Map()
    for (const row of delta.overrides) addOverride(specsOf, row)
    for (const env of target.envs.values()) {
      for (const name of delta.names) { env.flags.delete(name); env.sources.delete(name) }
    }
    for (const flag of delta.flags) addFlag(target, flag, specsOf)
    // Single override changes on flags not reloaded above: patch their specs, recompile each flag once.
    const patched = new Map<string, Set<string>>()
    for (const { name, environment, subject, id, row } of delta.single) {
      const source = target.envs.get(environment)?.sources.get(name)
      if (source === undefined) continue
      source.specs ??= { users: new Map(), customers: new Map() }
      const specs = subject === 'user' ? source.specs.users : source.specs.customers
      if (row === undefined) specs.delete(id)
      else specs.set(id, specOf(row))
      let names = patched.get(environment)
      if (names === undefined) patched.set(environment, names = new Set())
      names.add(name)
    }
    for (const [environment, names] of patched) {
      const env = target.envs.get(environment)!
      for (const name of names) {
        const flag = env.flags.get(name)
        if (flag !== undefined) compileInto(env, environment, flag.definition, env.sources.get(name)!.specs)
      }
    }
    // Any environment's flags may have changed above: each sorts its list again on its next use.
    for (const env of target.envs.values()) env.sorted = undefined
    for (const id of delta.userIds) target.userCustomers.delete(id)
    for (const user of delta.users) if (user.customerId !== null) target.userCustomers.set(user.id, user.customerId)
    target.revision = delta.revision
  }

  const fullLoad = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const next = await readEverything()
      // An environment changed while it read: read everything again.
      if (next !== RELOAD) { state = next; loaded = true; return }
      if (attempt === FULL_ATTEMPTS) throw new CatchUpRetry(`environments changed during each of ${FULL_ATTEMPTS} full loads`)
    }
  }

  const readEverything = async (): Promise<State | typeof RELOAD> => {
    // Read the revision first, then everything: rows a commit changes meanwhile are newer than `at`,
    // and the checked catch-up from `at` below reads each of them again before this is served.
    const at = await repo.latestRevision()
    const list = await environments.all()
    const next: State = { environments: list, envs: new Map(list.map((env) => [env.key, emptyEnv()])), userCustomers: new Map(), revision: at }
    const overrides: SpecIndex = new Map()
    if (subjects !== undefined) await eachRow<OverrideState>((last) => subjects.overridePage(last, PAGE), (row) => addOverride(overrides, row))
    for (const flag of await repo.all()) addFlag(next, flag, overrides)
    // Many users share a customer: keep one copy of each customer id.
    const customerIds = new Map<string, string>()
    const intern = (id: string): string => { const known = customerIds.get(id); if (known !== undefined) return known; customerIds.set(id, id); return id }
    if (subjects !== undefined) await eachRow<UserCustomer>((last) => subjects.userCustomerPage(last?.id, PAGE), (user) => next.userCustomers.set(user.id, intern(user.customerId)))
    const delta = await readDelta(next)
    if (delta === RELOAD) return RELOAD
    if (delta !== undefined) apply(next, delta)
    return next
  }

  const incremental = async (): Promise<void> => {
    const delta = await readDelta(state)
    if (delta === undefined) return
    if (delta === RELOAD) return fullLoad()
    const from = state.revision
    apply(state, delta)
    logger.debug({ from, to: delta.revision, names: delta.names.length, users: delta.userIds.length, overrides: delta.single.length }, 'snapshot caught up')
  }

  /** Record the outcome of a catch-up; one log line per change of state, not one per failure. */
  const outcome = (err: unknown): void => {
    if (err === undefined) {
      if (health.failing) logger.info?.({ revision: state.revision, failures: health.failures }, 'snapshot catch-up recovered')
      health.failing = false
      health.failures = 0
      health.error = undefined
      health.caughtUpAt = Date.now()
      return
    }
    const message = err instanceof Error ? err.message : String(err)
    if (!health.failing) logger.warn({ revision: state.revision, err: { message } }, 'snapshot catch-up failing; serving the last snapshot and retrying')
    health.failing = true
    health.failures++
    health.error = message
  }

  const catchUp = (): Promise<void> => serialized(async () => {
    const from = state.revision
    try {
      if (!loaded || health.failures >= FULL_RELOAD_AFTER) await fullLoad()
      else {
        const latest = await repo.latestRevision()
        if (latest - state.revision > MAX_INCREMENTAL) await fullLoad()
        else if (latest > state.revision) await incremental()
      }
    } catch (err) {
      outcome(err)
      throw err
    }
    outcome(undefined)
    if (state.revision === from) return
    for (const listener of advancedListeners) {
      try { await listener(state.revision) } catch (err) {
        logger.warn({ err: { message: (err as Error).message } }, 'a listener of snapshot changes failed; the next change retries')
      }
    }
  })

  return {
    get revision () { return state.revision },
    get loaded () { return loaded },
    get health () { return { ...health } },
    get: (environment, name) => state.envs.get(environment)?.flags.get(name),
    values: (environment) => (state.envs.get(environment)?.flags ?? NO_FLAGS).values(),
    sorted (environment) {
      const env = state.envs.get(environment)
      if (env === undefined) return NO_SORTED_FLAGS
      env.sorted ??= [...env.flags.values()].sort(byName)
      return env.sorted
    },
    environments: () => state.environments,
    hasEnvironment: (key) => state.envs.has(key),
    customerOf: (userId) => state.userCustomers.get(userId),
    load: () => serialized(async () => { await fullLoad(); outcome(undefined) }),
    catchUp,
    async committed () {
      try {
        await catchUp()
      } catch {
        // Recorded and logged by catchUp; the poll retries within its interval. The listeners are
        // not told: they would announce a revision this instance does not serve.
        return
      }
      for (const listener of committedListeners) {
        try { await listener({ revision: state.revision }) } catch (err) {
          logger.warn({ err: { message: (err as Error).message } }, 'announcing a commit failed; other instances poll')
        }
      }
    },
    onCommitted (listener) { committedListeners.push(listener) },
    onAdvanced (listener) { advancedListeners.push(listener) },
    start (intervalMs) {
      // Failures are recorded (health, one log line per change of state) by catchUp itself.
      timer = setInterval(() => { catchUp().catch(() => {}) }, intervalMs)
      timer.unref()
    },
    close () { if (timer !== undefined) clearInterval(timer); timer = undefined }
  }
}
