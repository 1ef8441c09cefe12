import type { Schemas } from '../../../api/client.js'
import type { ContextValue } from './context.js'

type Clause = Schemas['Clause']

const OPERATORS: Record<Clause['operator'], string> = {
  in: 'is one of',
  not_in: 'is none of',
  eq: 'is',
  neq: 'is not',
  contains: 'contains',
  starts_with: 'starts with',
  ends_with: 'ends with',
  matches: 'matches the pattern',
  lt: 'is less than',
  lte: 'is at most',
  gt: 'is greater than',
  gte: 'is at least',
  before: 'is before',
  after: 'is after',
  semver_eq: 'is version',
  semver_lt: 'is a version below',
  semver_lte: 'is a version at most',
  semver_gt: 'is a version above',
  semver_gte: 'is a version at least',
  exists: 'is present'
}
const SHOWN_VALUES = 10

/** A value as the page quotes it: strings in quotes, the rest as JSON. */
export const quote = (value: unknown): string => typeof value === 'string' ? `“${value}”` : JSON.stringify(value) ?? String(value)

/** One clause in words: `country is one of “DE”, “FR”`, `not: plan is “free”`, `(ignoring case)`. */
export function clauseText (clause: Clause): string {
  const values = clause.values ?? []
  const listed = values.slice(0, SHOWN_VALUES).map(quote).join(', ') + (values.length > SHOWN_VALUES ? ` and ${values.length - SHOWN_VALUES} more` : '')
  const subject = clause.attribute === 'now' ? 'the evaluation time (now)' : clause.attribute
  const text = `${subject} ${OPERATORS[clause.operator]}${clause.operator === 'exists' ? '' : ` ${listed}`}${clause.case_insensitive === true ? ' (ignoring case)' : ''}`
  return clause.negate === true ? `not: ${text}` : text
}

/** What the context gave the clause's attribute, in words. */
export function contextValueText (attribute: string, context: Record<string, ContextValue>): string {
  if (attribute === 'now') return 'now is the time of the evaluation'
  const value = context[attribute]
  return value === undefined || value === '' ? `the context has no ${attribute}` : `the context has ${attribute} = ${quote(value)}`
}

/** Rollout weights as shares: `on 10 %, blue 45 %, green 45 %`. */
export function weightsText (weights: Record<string, number>): string {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  if (total <= 0) return 'every weight is 0'
  return Object.entries(weights).map(([variant, w]) => `“${variant}” ${Math.round((w / total) * 10000) / 100} %`).join(', ')
}

/** What each reason means, for the person reading the result. */
export const REASONS: Record<Schemas['Reason'], string> = {
  STATIC: 'the flag targets no one: everyone gets the same value',
  DEFAULT: 'no targeting chose this context: it got the fallthrough value',
  TARGETING_MATCH: 'targeting chose this context: an override, a listed id or a rule',
  SPLIT: 'bucketed by a percentage or a rollout',
  DISABLED: 'the kill switch is off'
}
