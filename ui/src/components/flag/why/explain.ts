import type { Flag, Schemas } from '../../../api/client.js'
import type { ContextValue } from './context.js'
import { clauseText, contextValueText, quote, weightsText } from './words.js'

type Result = Schemas['EvaluationResult']
type Override = Schemas['Override']
type Rule = Schemas['Rule']

/** `decided`: this step chose the value; `passed`: tried, did not apply; `unreached`: a step before decided. */
export type StepStatus = 'decided' | 'passed' | 'unreached'
export interface Step {
  /** The API's `rule` for this step: disabled, user_override, …, rule:<id>, fallthrough (`rules` when there are none). */
  id: string
  title: string
  status: StepStatus
  /** Why it applied or did not, in a sentence (unreached steps have none). */
  detail?: string
  /** A rule's clauses, each with what the context gave its attribute. */
  clauses?: Array<{ text: string, context: string }>
}

/** What the explanation reads besides the flag and the result. */
export interface Evidence {
  environment: string
  /** The context as the server read it: flat (dotted), with the inferred customer_id when there was one. */
  context: Record<string, ContextValue>
  /** The customer evaluation inferred from the user (the context named none), if any. */
  inferredCustomer: string | null
  /** The override that decided (user_override / customer_override), when it could be read. */
  override: Override | null
}

/** A context value as evaluation reads it: strings (non-empty), numbers and booleans as strings. */
const attr = (value: ContextValue | undefined): string | undefined =>
  typeof value === 'string' ? (value === '' ? undefined : value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined

const ruleId = (rule: Rule, index: number): string => rule.id ?? `rule-${index + 1}`

/**
 * The evaluation's steps in the engine's order (src/engine/evaluate.ts: kill switch, user override,
 * customer override, user ids, customer ids, rules in order, fallthrough), each marked as the one that
 * decided, one tried before it, or one never reached, with the flag's evidence in words.
 */
export function explain (flag: Flag, result: Result, evidence: Evidence): Step[] {
  const { environment, context, inferredCustomer, override } = evidence
  const tr = flag.targeting_rules
  const userId = attr(context.user_id) ?? attr(context.targetingKey)
  const customerId = attr(context.customer_id)
  const customer = inferredCustomer !== null && customerId === inferredCustomer ? `customer ${customerId} (inferred: user ${userId ?? ''} belongs to it)` : `customer ${customerId ?? ''}`
  const variant = (name: string): string => name === flag.default_variant ? `the default variant “${name}”` : name === flag.off_variant ? `the off variant “${name}”` : `the variant “${name}”`
  const bucketBy = tr.bucket_by === '' ? 'user_id' : tr.bucket_by
  const bucketValue = bucketBy === 'user_id' || bucketBy === 'targetingKey' ? userId : attr(context[bucketBy])
  const served = variant(result.variant)

  const order = ['disabled', 'user_override', 'customer_override', 'user_ids', 'customer_ids', ...tr.rules.map((r, i) => `rule:${ruleId(r, i)}`), 'fallthrough']
  const decidedAt = order.indexOf(result.rule)
  const status = (id: string): StepStatus => {
    const at = order.indexOf(id)
    return at === decidedAt ? 'decided' : decidedAt >= 0 && at > decidedAt ? 'unreached' : 'passed'
  }
  const step = (id: string, title: string, decided: () => string, passed: () => string): Step => {
    const s = status(id)
    return { id, title, status: s, ...(s === 'unreached' ? {} : { detail: s === 'decided' ? decided() : passed() }) }
  }
  const overrideSentence = (who: string): string => {
    const set = override === null ? '' : `, set ${new Date(override.updated_at).toLocaleString()}`
    const on = override === null ? result.variant !== flag.off_variant : override.enabled
    return `Switched ${on ? 'on' : 'off'} explicitly for ${who} (an override${set}): it serves ${served}.`
  }
  const split = (what: string): string => {
    if (result.reason === 'SPLIT') return `${what}; ${bucketBy} ${quote(bucketValue ?? '')} is bucketed into ${served}.`
    if (bucketValue === undefined) return `${what}, but the context has no ${bucketBy} to bucket: it gets ${served}.`
    return `${what}, and nothing can be served by it: it gets ${served}.`
  }

  const steps: Step[] = [
    step('disabled', 'Kill switch', () => `The kill switch is off in ${environment}: everyone gets ${served}, overrides included.`,
      () => `The flag is switched on in ${environment}.`),
    step('user_override', 'User override', () => overrideSentence(`user ${userId ?? ''}`),
      () => userId === undefined ? 'The context has no user_id (or targetingKey), so no user override applies.' : `User ${userId} has no override.`),
    step('customer_override', 'Customer override', () => overrideSentence(customer),
      () => customerId === undefined ? 'The context has no customer_id (and names no user registered with a customer), so no customer override applies.' : `${capital(customer)} has no override.`),
    step('user_ids', 'User ids', () => `User ${userId ?? ''} is listed in the user ids (${count(tr.user_ids.length, 'id')} listed): it gets ${served}.`,
      () => tr.user_ids.length === 0 ? 'No user ids are listed.' : userId === undefined ? `The context has no user_id to look for among the ${count(tr.user_ids.length, 'listed id')}.` : `User ${userId} is not among the ${count(tr.user_ids.length, 'listed user id')}.`),
    step('customer_ids', 'Customer ids', () => `${capital(customer)} is listed in the customer ids (${count(tr.customer_ids.length, 'id')} listed): it gets ${served}.`,
      () => tr.customer_ids.length === 0 ? 'No customer ids are listed.' : customerId === undefined ? `The context has no customer_id to look for among the ${count(tr.customer_ids.length, 'listed id')}.` : `${capital(customer)} is not among the ${count(tr.customer_ids.length, 'listed customer id')}.`)
  ]
  if (tr.rules.length === 0) steps.push({ id: 'rules', title: 'Rules', status: decidedAt >= 0 && decidedAt < 5 ? 'unreached' : 'passed', ...(decidedAt >= 0 && decidedAt < 5 ? {} : { detail: 'There are no rules.' }) })
  tr.rules.forEach((rule, i) => {
    const id = `rule:${ruleId(rule, i)}`
    const name = `Rule “${ruleId(rule, i)}”${rule.description === undefined || rule.description === '' ? '' : ` (${rule.description})`}`
    const clauses = rule.clauses.map((c) => ({ text: clauseText(c), context: contextValueText(c.attribute, context) }))
    const serves = (): string => 'variant' in rule.serve
      ? `${name} matched: ${rule.clauses.length === 0 ? 'it has no clauses, so it matches everyone' : 'every clause holds'}. It serves ${served}.`
      : split(`${name} matched: ${rule.clauses.length === 0 ? 'it has no clauses' : 'every clause holds'}. It serves a rollout by ${bucketBy} (${weightsText(rule.serve.rollout)})`)
    const s = step(id, name, serves, () => `${name} did not match: not every clause holds.`)
    steps.push(s.status === 'unreached' ? s : { ...s, clauses })
  })
  steps.push(step('fallthrough', 'Fallthrough', () => fallthrough(), () => ''))
  return steps

  function fallthrough (): string {
    if (result.reason === 'STATIC') return `Nothing targets anyone (no overrides, ids, rules or rollout) and the percentage is 100 %: everyone gets ${served}.`
    const none = 'No override, listed id or rule applied'
    if (tr.rollout !== null) return split(`${none}, so the rollout decides by ${bucketBy} (${weightsText(tr.rollout)})`)
    const p = tr.percentage ?? 0
    if (result.reason === 'SPLIT') {
      const inside = result.variant === flag.default_variant
      return `${none}, so the percentage decides: ${p} % of ${bucketBy} values get “${flag.default_variant}”, the rest “${flag.off_variant}”. ` +
        `${bucketBy} ${quote(bucketValue ?? '')} is ${inside ? `in the ${p} %` : `in the other ${Math.round((100 - p) * 100) / 100} %`}: it gets ${served}.`
    }
    if (result.variant === flag.default_variant && p >= 99.995) return `${none}, and the percentage is 100 %: everyone else gets ${served}.`
    if (p < 0.005) return `${none}, and the percentage is 0 %: everyone else gets ${served}.`
    return split(`${none}, so the percentage decides (${p} % get “${flag.default_variant}”)`)
  }
}

const capital = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`
