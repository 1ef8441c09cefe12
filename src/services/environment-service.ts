import type { FlagSnapshot } from '../cache/flag-snapshot.js'
import { ConflictError, EnvironmentInUseError, EnvironmentNotFoundError, invalidField } from '../errors.js'
import type { EnvironmentRepository, FlagRepository, FlagUpdate, StoredEnvironment, StoredFlag } from '../repositories/flag-repository.js'
import type { StoredOverride, SubjectRepository } from '../repositories/subject-repository.js'
import { ENVIRONMENT_KEY_RULE, FLAG_NAME_RULE } from '../schemas/names.js'
import { toFlagBody } from './flag-view.js'

export type Environment = StoredEnvironment
interface WriteOptions { actor: string }

/** What a promotion changes in one flag's configuration: each field from → to (the body's snake_case names). */
export interface PromotedFlag {
  flag: string
  changes: Record<string, { from: unknown, to: unknown }>
  /** With include_overrides: how the target's overrides of the flag change. */
  overrides?: { added: number, removed: number, changed: number }
}

export interface PromoteCommand {
  from: string
  /** Only these flags (all when absent). */
  flags?: string[]
  includeOverrides?: boolean
  dryRun?: boolean
}

/** What a flag serves in one environment (the fields promote copies). */
const CONFIG_FIELDS = ['enabled', 'defaultVariant', 'offVariant', 'targetingRules'] as const
const BODY_FIELD: Record<typeof CONFIG_FIELDS[number], string> = {
  enabled: 'enabled', defaultVariant: 'default_variant', offVariant: 'off_variant', targetingRules: 'targeting_rules'
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
const overrideKey = (o: Pick<StoredOverride, 'subject' | 'subjectId'>): string => `${o.subject}:${o.subjectId}`

function checkKey (field: string, key: string): string {
  if (typeof key !== 'string' || !ENVIRONMENT_KEY_RULE.test(key)) throw invalidField(field, ENVIRONMENT_KEY_RULE.message)
  return key
}

function checkName (name: string): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 64) throw invalidField('name', 'must be 1 to 64 characters, not only spaces')
  return name
}

/**
 * Environments (SPEC §9): list, create (every flag configured there, served off, copied from the
 * default environment), rename (the display name; the key is what keys and URLs hold, so it stays),
 * delete, and promote a configuration from one environment to another.
 */
export function createEnvironmentService ({ repo, flags, subjects, snapshot, defaultKey, now = () => new Date() }: {
  repo: EnvironmentRepository, flags: FlagRepository, subjects?: SubjectRepository, snapshot: FlagSnapshot, defaultKey: string, now?: () => Date
}) {
  const committed = async <T>(value: T): Promise<T> => { await snapshot.committed(); return value }
  const mustGet = async (key: string): Promise<Environment> => {
    const environment = await repo.get(key)
    if (environment === undefined) throw new EnvironmentNotFoundError(key)
    return environment
  }

  /** The overrides of these flags in one environment, by flag id. */
  const overridesIn = async (ids: string[], environment: string): Promise<Map<string, StoredOverride[]>> => {
    const byFlag = new Map<string, StoredOverride[]>()
    if (subjects === undefined || ids.length === 0) return byFlag
    const at = now()
    for (const row of await subjects.overridesOf(ids)) {
      if (row.environment !== environment) continue
      let list = byFlag.get(row.flagId)
      if (list === undefined) byFlag.set(row.flagId, list = [])
      list.push({ ...row, createdAt: at, updatedAt: at })
    }
    return byFlag
  }

  const overrideDiff = (from: StoredOverride[], to: StoredOverride[]): PromotedFlag['overrides'] => {
    const target = new Map(to.map((o) => [overrideKey(o), o]))
    let added = 0; let changed = 0
    for (const o of from) {
      const current = target.get(overrideKey(o))
      if (current === undefined) added++
      else if (current.enabled !== o.enabled || current.variant !== o.variant) changed++
      target.delete(overrideKey(o))
    }
    return { added, removed: target.size, changed }
  }

  return {
    defaultKey,

    list: (): Promise<Environment[]> => repo.all(),
    get: mustGet,
    /** 404 unless the environment is served (from the snapshot: no database read, for what must work in an outage). */
    mustBeServed (key: string): void {
      if (!snapshot.hasEnvironment(key)) throw new EnvironmentNotFoundError(key)
    },

    async create (input: { key: string, name?: string, position?: number }, opts: WriteOptions): Promise<Environment> {
      const key = checkKey('key', input.key)
      const existing = await repo.all()
      const environment: Environment = {
        key,
        name: input.name === undefined ? key : checkName(input.name),
        position: input.position ?? existing.reduce((max, e) => Math.max(max, e.position + 1), 0),
        createdAt: now()
      }
      const copyFrom = existing.some((e) => e.key === defaultKey) ? defaultKey : existing[0]?.key
      await repo.create(environment, copyFrom, { actor: opts.actor, action: 'environment.create', environment: key, names: [], before: null, after: environment })
      return committed(environment)
    },

    async update (key: string, patch: { name?: string, position?: number }, opts: WriteOptions): Promise<Environment> {
      const current = await mustGet(key)
      const next: Environment = { ...current, name: patch.name === undefined ? current.name : checkName(patch.name), position: patch.position ?? current.position }
      if (same(next, current)) return current
      const revision = await repo.update(next, { actor: opts.actor, action: 'environment.update', environment: key, names: [], before: current, after: next })
      if (revision === null) throw new EnvironmentNotFoundError(key)
      return committed(next)
    },

    /** An environment that configures flags goes only with `force` (its configurations and overrides go with it). */
    async remove (key: string, { force = false }: { force?: boolean }, opts: WriteOptions): Promise<void> {
      const current = await mustGet(key)
      if (key === defaultKey) throw new EnvironmentInUseError(`Environment "${key}" is the default environment (DEFAULT_ENVIRONMENT); it cannot be deleted`)
      const count = await repo.flagCount()
      if (count > 0 && !force) {
        throw new EnvironmentInUseError(`Environment "${key}" configures ${count} flag${count === 1 ? '' : 's'}; delete it with force=true to delete those configurations and their overrides too`)
      }
      const revision = await repo.delete(key, { actor: opts.actor, action: 'environment.delete', environment: key, names: [], before: current, after: null })
      if (revision === null) throw new EnvironmentNotFoundError(key)
      return committed(undefined)
    },

    /**
     * At start, before the snapshot's first load: the migrated database's flags move to
     * DEFAULT_ENVIRONMENT (once), and the default environment must exist — created when there are no
     * flags yet, else start-up stops with why.
     */
    async ensureDefault (): Promise<void> {
      await repo.adoptDefault(defaultKey, { actor: 'system', action: 'environment.adopt', environment: defaultKey, names: [], before: null, after: { key: defaultKey } })
      if (await repo.get(defaultKey) !== undefined) return
      if (await repo.flagCount() > 0) {
        const keys = (await repo.all()).map((e) => e.key).join(', ')
        throw new Error(`DEFAULT_ENVIRONMENT "${defaultKey}" is not one of the environments (${keys}): create it first or set DEFAULT_ENVIRONMENT to one of them`)
      }
      const existing = await repo.all()
      const environment: Environment = { key: defaultKey, name: defaultKey, position: existing.reduce((max, e) => Math.max(max, e.position + 1), 0), createdAt: now() }
      await repo.create(environment, undefined, { actor: 'system', action: 'environment.create', environment: defaultKey, names: [], before: null, after: environment })
    },

    /**
     * Copy flags' configuration (and with `includeOverrides` their overrides) from one environment to
     * another in one transaction, one change-log row per flag changed; `dryRun` only answers the diff.
     */
    async promote (target: string, command: PromoteCommand, opts: WriteOptions): Promise<{ dryRun: boolean, flags: PromotedFlag[] }> {
      checkKey('from', command.from)
      await mustGet(target)
      await mustGet(command.from)
      if (command.from === target) throw invalidField('from', 'must be another environment than the one promoted to')
      for (const [i, name] of (command.flags ?? []).entries()) {
        if (typeof name !== 'string' || !FLAG_NAME_RULE.test(name)) throw invalidField(`flags.${i}`, FLAG_NAME_RULE.message)
      }
      const views = command.flags === undefined ? await flags.all() : await flags.getMany(command.flags)
      const source = new Map<string, StoredFlag>()
      const dest = new Map<string, StoredFlag>()
      for (const view of views) {
        if (view.environment === command.from) source.set(view.name, view)
        if (view.environment === target) dest.set(view.name, view)
      }
      const missing = (command.flags ?? []).filter((name) => !source.has(name))
      if (missing.length > 0) throw invalidField('flags', `no such flag: ${missing.slice(0, 5).join(', ')}`)
      const ids = [...source.values()].map((f) => f.id)
      const fromOverrides = command.includeOverrides === true ? await overridesIn(ids, command.from) : new Map<string, StoredOverride[]>()
      const toOverrides = command.includeOverrides === true ? await overridesIn(ids, target) : new Map<string, StoredOverride[]>()
      const at = now()
      const diff: PromotedFlag[] = []
      const updates: FlagUpdate[] = []
      for (const [name, from] of source) {
        const to = dest.get(name)
        if (to === undefined) continue
        const changes: PromotedFlag['changes'] = {}
        for (const field of CONFIG_FIELDS) {
          if (!same(from[field], to[field])) changes[BODY_FIELD[field]] = { from: to[field], to: from[field] }
        }
        const entry: PromotedFlag = { flag: name, changes }
        let overrides: StoredOverride[] | undefined
        if (command.includeOverrides === true) {
          const wanted = (fromOverrides.get(from.id) ?? []).map((o) => ({ ...o, environment: target }))
          entry.overrides = overrideDiff(wanted, toOverrides.get(to.id) ?? [])
          if (entry.overrides!.added + entry.overrides!.removed + entry.overrides!.changed > 0) overrides = wanted
        }
        if (Object.keys(changes).length === 0 && overrides === undefined) continue
        diff.push(entry)
        const next: StoredFlag = { ...to, enabled: from.enabled, defaultVariant: from.defaultVariant, offVariant: from.offVariant, targetingRules: from.targetingRules, version: to.version + 1, updatedAt: at }
        updates.push({
          flag: next,
          expectedVersion: to.version,
          overrides,
          audit: { actor: opts.actor, action: 'flag.promote', environment: target, flagId: to.id, flag: name, names: [name], before: toFlagBody(to), after: { ...toFlagBody(next), promoted_from: command.from } }
        })
      }
      if (command.dryRun === true || updates.length === 0) return { dryRun: command.dryRun === true, flags: diff }
      const revision = await flags.updateMany(updates)
      if (revision === null) throw new ConflictError(`A promoted flag changed while promoting from "${command.from}" to "${target}"; nothing was written; retry`)
      return committed({ dryRun: false, flags: diff })
    }
  }
}

export type EnvironmentService = ReturnType<typeof createEnvironmentService>
