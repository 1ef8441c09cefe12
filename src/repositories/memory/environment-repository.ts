import { EnvironmentExistsError, EnvironmentNotFoundError } from '../../errors.js'
import type { EnvironmentRepository, StoredEnvironment } from '../flag-repository.js'
import { appendMemoryLog, createMemoryStore, overrideKey, type MemoryStore } from './flag-repository.js'

const ADOPT = 'adopt_environment'
const byPosition = (a: StoredEnvironment, b: StoredEnvironment): number =>
  a.position !== b.position ? a.position - b.position : a.key < b.key ? -1 : a.key > b.key ? 1 : 0

/** In-memory EnvironmentRepository over the same store as the in-memory flags and overrides (for the cascades). */
export function createMemoryEnvironmentRepository (store: MemoryStore = createMemoryStore()): EnvironmentRepository {
  const { environments, configurations, overrides } = store
  const copy = <T>(value: T): T => structuredClone(value)

  /** What ON UPDATE CASCADE does to the rows that reference environment `from`. */
  const rekey = (from: string, to: string): void => {
    for (const configured of configurations.values()) {
      const configuration = configured.get(from)
      if (configuration === undefined) continue
      configured.delete(from)
      configured.set(to, configuration)
    }
    for (const [k, o] of [...overrides]) {
      if (o.environment !== from) continue
      overrides.delete(k)
      const moved = { ...o, environment: to }
      overrides.set(overrideKey(moved), moved)
    }
  }

  return {
    async all () { return [...environments.values()].sort(byPosition).map(copy) },
    async get (key) { return copy(environments.get(key)) },
    async create (environment, copyFrom, audit) {
      if (environments.has(environment.key)) throw new EnvironmentExistsError(environment.key)
      if (copyFrom !== undefined && !environments.has(copyFrom)) throw new EnvironmentNotFoundError(copyFrom)
      environments.set(environment.key, copy(environment))
      if (copyFrom !== undefined) {
        for (const configured of configurations.values()) configured.set(environment.key, { ...copy(configured.get(copyFrom)!), enabled: false })
      }
      return appendMemoryLog(store, audit)
    },
    async update ({ key, name, position }, audit) {
      const current = environments.get(key)
      if (current === undefined) return null
      environments.set(key, { ...current, name, position })
      return appendMemoryLog(store, audit)
    },
    async delete (key, audit) {
      if (!environments.delete(key)) return null
      for (const configured of configurations.values()) configured.delete(key)
      for (const [k, o] of overrides) if (o.environment === key) overrides.delete(k)
      return appendMemoryLog(store, audit)
    },
    async flagCount () { return store.flags.size },
    async adoptDefault (defaultKey, audit) {
      const from = store.meta.get(ADOPT)
      store.meta.delete(ADOPT)
      if (from === undefined || from === defaultKey || environments.has(defaultKey)) return false
      const current = environments.get(from)
      if (current !== undefined) {
        environments.delete(from)
        environments.set(defaultKey, { ...current, key: defaultKey, name: defaultKey })
        rekey(from, defaultKey)
      }
      for (const row of store.log) if (row.environment === from) row.environment = defaultKey
      appendMemoryLog(store, audit)
      return true
    }
  }
}
