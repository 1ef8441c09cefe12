import { compileFlag, type CompiledFlag } from '../engine/index.js'
import type { FlagDefinition } from '../engine/types.js'
import type { FlagRepository, StoredFlag } from '../repositories/flag-repository.js'

/** How many change-log rows one catch-up reads before falling back to a full reload. */
const MAX_INCREMENTAL = 500

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
  /** Full load; the first call makes the snapshot usable. */
  load (): Promise<void>
  /** Apply every change after the current revision. Calls are serialized. */
  catchUp (): Promise<void>
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

export function createFlagSnapshot (repo: FlagRepository, logger: SnapshotLogger): FlagSnapshot {
  let flags = new Map<string, CompiledFlag>()
  let revision = 0
  let loaded = false
  let timer: NodeJS.Timeout | undefined
  let queue: Promise<void> = Promise.resolve()

  const serialized = (work: () => Promise<void>): Promise<void> => {
    const run = queue.then(work)
    queue = run.catch(() => {})
    return run
  }

  const fullLoad = async (): Promise<void> => {
    // Read the revision first: a write landing between the two reads is re-applied next time, never missed.
    const at = await repo.latestRevision()
    const next = new Map<string, CompiledFlag>()
    for (const flag of await repo.all()) next.set(flag.name, compileFlag(toDefinition(flag)))
    flags = next
    revision = at
    loaded = true
  }

  const incremental = async (): Promise<void> => {
    const changes = await repo.changesSince(revision, MAX_INCREMENTAL)
    if (changes.revision === revision) return
    const fresh = await repo.getMany(changes.names)
    for (const name of changes.names) flags.delete(name)
    for (const flag of fresh) flags.set(flag.name, compileFlag(toDefinition(flag)))
    logger.debug({ from: revision, to: changes.revision, names: changes.names.length }, 'snapshot caught up')
    revision = changes.revision
  }

  return {
    get revision () { return revision },
    get loaded () { return loaded },
    get: (name) => flags.get(name),
    values: () => flags.values(),
    load: () => serialized(fullLoad),
    catchUp: () => serialized(async () => {
      if (!loaded) return fullLoad()
      const latest = await repo.latestRevision()
      if (latest <= revision) return
      if (latest - revision > MAX_INCREMENTAL) return fullLoad()
      return incremental()
    }),
    start (intervalMs) {
      timer = setInterval(() => {
        this.catchUp().catch((err: unknown) => logger.warn({ err }, 'snapshot refresh failed; serving the last snapshot'))
      }, intervalMs)
      timer.unref()
    },
    close () { if (timer !== undefined) clearInterval(timer); timer = undefined }
  }
}
