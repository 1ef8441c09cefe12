import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { ChangeListQuery, RevertRequest } from './history.js'

/*
 * The change log's filters and a revert's revision, for the edges without a route schema (the CLI, the
 * library): each value is checked against GET /changes' query schema or POST …/revert's body itself, so
 * ACTION_PATTERN, DateTimeInput's pattern, the revision range and the actor's length stay defined once,
 * in schemas/history.ts and schemas/common.ts. Flag names and environment keys follow their NameRule.
 */

const QUERY = ChangeListQuery.properties
const REVISION = 'must be a positive integer'
const DATE_TIME = 'must be an RFC 3339 date-time, e.g. 2030-01-31T12:00:00Z'

const RULES = {
  revision: [RevertRequest.properties.revision, REVISION],
  fromRevision: [QUERY.from_revision, REVISION],
  toRevision: [QUERY.to_revision, REVISION],
  actor: [QUERY.actor, 'must be 1 to 128 characters'],
  action: [QUERY.action, 'must be an action (flag.update) or a group of actions (flag): lower-case letters and "_", at most one "."'],
  since: [QUERY.since, DATE_TIME],
  until: [QUERY.until, DATE_TIME]
} satisfies Record<string, [TSchema, string]>

/** A history argument checked here: a revert's revision, or a change-log filter other than flag and environment. */
export type HistoryInput = keyof typeof RULES

/** Why `value` cannot be given as `field` (a message, "must be …"), or undefined when it can. */
export function historyInputProblem (field: HistoryInput, value: unknown): string | undefined {
  const [schema, message] = RULES[field]
  if (!Value.Check(schema, value)) return message
  // The pattern admits times no Date can hold (month 13, hour 25).
  if ((field === 'since' || field === 'until') && Number.isNaN(Date.parse(value as string))) return message
  return undefined
}
