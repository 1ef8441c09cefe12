import { actionFilter, isVisible, type ChangeEntry, type ChangeLogRepository, type ChangeQuery } from '../change-log-repository.js'
import type { LogRow } from './flag-repository.js'

/** Whether a row passes a query's filters (what changeLogQuery's WHERE says in SQL). */
function matches (row: LogRow, q: ChangeQuery): boolean {
  const action = q.action === undefined ? undefined : actionFilter(q.action)
  const visible = q.visibility
  return (q.after === undefined || (q.order === 'asc' ? row.id > q.after : row.id < q.after)) &&
    (q.flagId === undefined || row.flagId === q.flagId) &&
    (q.flag === undefined || row.flag === q.flag) &&
    (q.environment === undefined || row.environment === q.environment) &&
    (q.actor === undefined || row.actor === q.actor) &&
    (action === undefined || ('exact' in action ? row.action === action.exact : row.action.startsWith(action.prefix))) &&
    (q.fromRevision === undefined || row.id >= q.fromRevision) &&
    (q.toRevision === undefined || row.id <= q.toRevision) &&
    (q.since === undefined || row.at >= q.since) &&
    (q.until === undefined || row.at < q.until) &&
    (visible === undefined || isVisible(row, visible))
}

/**
 * The in-memory change log read back. Pruned rows stay in the array (the other fakes index it by
 * revision) and are only hidden from readers.
 */
export function createMemoryChangeLogRepository (log: LogRow[]): ChangeLogRepository {
  const pruned = new Set<number>()
  return {
    async list (query) {
      const rows = log.filter((row) => !pruned.has(row.id) && matches(row, query))
      if (query.order === 'desc') rows.reverse()
      return rows.slice(0, query.limit).map((row): ChangeEntry => structuredClone({
        revision: row.id, at: row.at, actor: row.actor, action: row.action, environment: row.environment, flagId: row.flagId, flag: row.flag, before: row.before, after: row.after
      }))
    },
    async prune (before) {
      let deleted = 0
      for (const row of log.slice(0, -1)) {
        if (!pruned.has(row.id) && row.at < before) { pruned.add(row.id); deleted++ }
      }
      return deleted
    }
  }
}
