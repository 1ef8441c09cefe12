import { compileFlag, type CompiledFlag } from '../engine/index.js'
import type { FlagDefinition, OverrideSpec } from '../engine/types.js'
import type { FlagRepository, StoredFlag } from '../repositories/flag-repository.js'
import type { OverrideState, SubjectRepository, UserCustomer } from '../repositories/subject-repository.js'
import type { SharedFlagCache } from './redis-flag-cache.js'

/** How many change-log rows one catch-up reads before falling back to a full reload. */
const MAX_INCREMENTAL = 500
/**
 * Rows per read of the full load's overrides and users. Each page is compiled in and dropped, so
 * the rows die young instead of 150k of them being promoted together (the start-up memory peak).
 */
const PAGE = 5_000

export interface SnapshotLogger {
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

/**
 * The in-process copy of every flag, compiled for the engine: evaluation never touches the
 * database. It knows the revision it reflects and catches up from the change log, either when
 * this process wrote (`catchUp()` after the commit) or on a timer (other processes, the CLI).
 */
export interface FlagSnapshot {
  readonly revision: number
  readonly loaded: boolean
  get (name: string): CompiledFlag | undefined
  values (): IterableIterator<CompiledFlag>
  /** The customer a registered user belongs to (for inferring `customer_id`). */
  customerOf (userId: string): string | undefined
  /** Full load; the first call makes the snapshot usable. */
  load (): Promise<void>
  /** Apply every change after the current revision. Calls are serialized. */
  catchUp (): Promise<void>
  /**
   * After this process committed a write: catch up (read-your-writes), then tell every
   * `onCommitted` listener (the Redis feed) the revision and the flags it changed.
   */
  committed (): Promise<void>
  onCommitted (listener: (change: { revision: number, names: string[] }) => Promise<void> | void): void
  /** Poll the revision every `intervalMs` (unref'd timer). */
  start (intervalMs: number): void
  close (): void
}

/** The engine's view of a stored flag. */
export function toDefinition (flag: StoredFlag): FlagDefinition {
  return {
    name: flag.name,
    type: flag.type,
    enabled: flag.enabled,
    variants: flag.variants,
    default_variant: flag.defaultVariant,
    off_variant: flag.offVariant,
    targeting_rules: flag.targetingRules,
    metadata: flag.metadata,
    version: flag.version
  }
}

/** Group override rows by flag, as the engine takes them. */
interface OverrideSpecs { users: Map<string, OverrideSpec>, customers: Map<string, OverrideSpec> }
interface Source { readonly id: string, specs: OverrideSpecs | undefined }

// Specs are never changed in place (a change replaces the entry), and nearly all of them are a bare
// on or off: those share one object each instead of one per override.
const ON: OverrideSpec = Object.freeze({ enabled: true, variant: null })
const OFF: OverrideSpec = Object.freeze({ enabled: false, variant: null })
const specOf = ({ enabled, variant }: Pick<OverrideState, 'enabled' | 'variant'>): OverrideSpec =>
  variant === null ? (enabled ? ON : OFF) : { enabled, variant }

function addOverride (byFlag: Map<string, OverrideSpecs>, row: OverrideState): void {
  let entry = byFlag.get(row.flagId)
  if (entry === undefined) byFlag.set(row.flagId, entry = { users: new Map(), customers: new Map() })
  ;(row.subject === 'user' ? entry.users : entry.customers).set(row.subjectId, specOf(row))
}

function groupOverrides (rows: OverrideState[]): Map<string, OverrideSpecs> {
  const byFlag = new Map<string, OverrideSpecs>()
  for (const row of rows) addOverride(byFlag, row)
  return byFlag
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

/**
 * `subjects` is optional so that a flag-only setup (some tests) needs no subject store: without it
 * flags compile without overrides and no customer is ever inferred. `shared` is the Redis copy of
 * flag definitions (with REDIS_URL): catch-ups read changed flags from it before the database.
 */
export function createFlagSnapshot (repo: FlagRepository, logger: SnapshotLogger, subjects?: SubjectRepository, shared?: SharedFlagCache): FlagSnapshot {
  let flags = new Map<string, CompiledFlag>()
  // Per flag name: its id and its override specs (none until it has one), so that a single override
  // change is patched in place instead of reloading every override of the flag. The compiled flag
  // keeps the definition it is recompiled from.
  let sources = new Map<string, Source>()
  let userCustomers = new Map<string, string>()
  const compile = (flag: StoredFlag, specs: OverrideSpecs | undefined): CompiledFlag => compileFlag(toDefinition(flag), specs)
  let revision = 0
  let loaded = false
  let timer: NodeJS.Timeout | undefined
  let queue: Promise<void> = Promise.resolve()
  // Flags touched by the changes the last catch-up applied (what a commit announces).
  let lastNames: string[] = []
  const listeners: Array<(change: { revision: number, names: string[] }) => Promise<void> | void> = []

  const serialized = (work: () => Promise<void>): Promise<void> => {
    const run = queue.then(work)
    queue = run.catch(() => {})
    return run
  }

  const fullLoad = async (): Promise<void> => {
    // Read the revision first: a write landing between the two reads is re-applied next time, never missed.
    // The pages are not one read either: whatever a write changes between them is after `at`, so
    // the next catch-up reads it again.
    const at = await repo.latestRevision()
    const overrides = new Map<string, OverrideSpecs>()
    if (subjects !== undefined) await eachRow<OverrideState>((last) => subjects.overridePage(last, PAGE), (row) => addOverride(overrides, row))
    const next = new Map<string, CompiledFlag>()
    const nextSources = new Map<string, Source>()
    for (const flag of await repo.all()) {
      const specs = overrides.get(flag.id)
      next.set(flag.name, compile(flag, specs))
      nextSources.set(flag.name, { id: flag.id, specs })
    }
    const customersOf = new Map<string, string>()
    // Many users share a customer: keep one copy of each customer id.
    const customerIds = new Map<string, string>()
    const intern = (id: string): string => { const known = customerIds.get(id); if (known !== undefined) return known; customerIds.set(id, id); return id }
    if (subjects !== undefined) await eachRow<UserCustomer>((last) => subjects.userCustomerPage(last?.id, PAGE), (user) => customersOf.set(user.id, intern(user.customerId)))
    flags = next
    sources = nextSources
    userCustomers = customersOf
    revision = at
    loaded = true
  }

  /**
   * The current definitions of `names`, as of revision `at` or later: from the shared copy where it
   * is that recent, the rest from the database, which then refreshes the shared copy. Tagging what
   * the database returned with `at` is safe: it was read after the change log reached `at`.
   */
  const readFlags = async (names: string[], at: number): Promise<StoredFlag[]> => {
    if (names.length === 0) return []
    if (shared === undefined) return await repo.getMany(names)
    const cached = await shared.read(names, at)
    const missing = names.filter((name) => !cached.has(name))
    const fromDb = missing.length === 0 ? [] : await repo.getMany(missing)
    const byName = new Map(fromDb.map((flag) => [flag.name, flag]))
    await shared.write(new Map(missing.map((name) => [name, byName.get(name) ?? null])), at)
    return [...[...cached.values()].filter((flag) => flag !== null), ...fromDb]
  }

  const incremental = async (): Promise<void> => {
    const changes = await repo.changesSince(revision, MAX_INCREMENTAL)
    if (changes.revision === revision) return
    lastNames = [...new Set([...changes.names, ...changes.overrides.map(([name]) => name)])]
    const fresh = await readFlags(changes.names, changes.revision)
    const overrides = groupOverrides(fresh.length === 0 ? [] : await subjects?.overridesOf(fresh.map((f) => f.id)) ?? [])
    const users = await subjects?.getUsers(changes.users) ?? []
    for (const name of changes.names) { flags.delete(name); sources.delete(name) }
    for (const flag of fresh) {
      const specs = overrides.get(flag.id)
      flags.set(flag.name, compile(flag, specs))
      sources.set(flag.name, { id: flag.id, specs })
    }
    // Single override changes on flags not reloaded above: patch their specs, recompile each flag once.
    const patched = new Set<string>()
    for (const [name, subject, id] of changes.overrides) {
      const source = sources.get(name)
      if (source === undefined || changes.names.includes(name)) continue
      const row = await subjects?.getOverride(source.id, subject, id)
      source.specs ??= { users: new Map(), customers: new Map() }
      const specs = subject === 'user' ? source.specs.users : source.specs.customers
      if (row === undefined) specs.delete(id)
      else specs.set(id, specOf(row))
      patched.add(name)
    }
    for (const name of patched) flags.set(name, compileFlag(flags.get(name)!.definition, sources.get(name)!.specs))
    for (const id of changes.users) userCustomers.delete(id)
    for (const user of users) if (user.customerId !== null) userCustomers.set(user.id, user.customerId)
    logger.debug({ from: revision, to: changes.revision, names: changes.names.length, users: changes.users.length, overrides: changes.overrides.length }, 'snapshot caught up')
    revision = changes.revision
  }

  return {
    get revision () { return revision },
    get loaded () { return loaded },
    get: (name) => flags.get(name),
    values: () => flags.values(),
    customerOf: (userId) => userCustomers.get(userId),
    load: () => serialized(fullLoad),
    catchUp: () => serialized(async () => {
      if (!loaded) return fullLoad()
      const latest = await repo.latestRevision()
      if (latest <= revision) return
      if (latest - revision > MAX_INCREMENTAL) return fullLoad()
      return incremental()
    }),
    async committed () {
      lastNames = []
      await this.catchUp()
      for (const listener of listeners) await listener({ revision, names: lastNames })
    },
    onCommitted (listener) { listeners.push(listener) },
    start (intervalMs) {
      timer = setInterval(() => {
        this.catchUp().catch((err: unknown) => logger.warn({ err }, 'snapshot refresh failed; serving the last snapshot'))
      }, intervalMs)
      timer.unref()
    },
    close () { if (timer !== undefined) clearInterval(timer); timer = undefined }
  }
}
