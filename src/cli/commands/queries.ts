import { everyItem } from '../../services/paging.js'
import type { EvaluationContext } from '../../engine/types.js'
import { ATTRIBUTE_NAME_RULE } from '../../schemas/names.js'
import { toCustomerBody } from '../../services/subject-view.js'
import type { CustomerState } from '../../services/subject-service.js'
import { str, UsageError, type Command } from '../command.js'
import { emit, orDash, printLine, printTable, showValue } from '../output.js'
import { withSession } from '../session.js'

const listFeatures: Command = {
  name: 'list-features',
  args: ['CUSTOMER_ID'],
  summary: 'the flags on for a customer (evaluated for it: overrides, targeting, rollout by customer_id)',
  json: '{"flags": [evaluation result…]}, as GET /customers/{id}/flags returns it',
  scoped: true,
  async run ({ args: [customerId], json, environment }) {
    const flags = await withSession((s) => s.subjects.listFlagsForCustomer(s.environment, customerId), { environment })
    emit(json, { flags }, () => {
      if (flags.length === 0) { printLine(`no features are enabled for customer ${customerId}`); return }
      printTable(['NAME', 'VALUE', 'VARIANT', 'REASON', 'RULE'], flags.map((r) => [r.name, showValue(r.value), r.variant, r.reason, r.rule]))
    })
  }
}

const listCustomers = (name: string, state: CustomerState, summary: string, none: string): Command => ({
  name,
  args: ['NAME'],
  summary,
  json: '{"customers": [customer…], "next_cursor": null}, as GET /flags/{name}/customers returns it (every page)',
  scoped: true,
  async run ({ args: [flag], json, environment }) {
    const customers = await withSession((s) => everyItem((query) => s.subjects.listCustomersForFlag(s.environment, flag, { ...query, state })), { environment })
    emit(json, { customers: customers.map(toCustomerBody), next_cursor: null }, () => {
      if (customers.length === 0) { printLine(`no customers ${none} ${flag}`); return }
      printTable(['ID', 'NAME'], customers.map((c) => [c.id, orDash(c.name)]))
    })
  }
})

/** `k=v` pairs; values stay strings, as in the query string of GET /evaluate/{name}. */
function attributes (pairs: string[]): Record<string, string> {
  const context: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at < 0) throw new UsageError(`--attr ${JSON.stringify(pair)}: expected key=value`)
    const key = pair.slice(0, at)
    if (!ATTRIBUTE_NAME_RULE.test(key)) throw new UsageError(`--attr ${JSON.stringify(pair)}: the key ${ATTRIBUTE_NAME_RULE.message}`)
    if (key in context) throw new UsageError(`--attr ${key} is given twice`)
    context[key] = pair.slice(at + 1)
  }
  return context
}

const evaluate: Command = {
  name: 'evaluate',
  args: ['NAME'],
  synopsis: '[--user-id U] [--customer-id C] [--attr key=value]…',
  summary: 'evaluate a flag for a context, as GET /evaluate/{name} does',
  optionHelp: [
    ['--user-id U', 'the user (its registered customer is inferred when --customer-id is absent)'],
    ['--customer-id C', 'the customer'],
    ['--attr key=value', 'any other attribute (country=DE, app_version=2.3.0); repeat for more']
  ],
  options: { 'user-id': { type: 'string' }, 'customer-id': { type: 'string' }, attr: { type: 'string', multiple: true } },
  json: 'the evaluation result {name, value, variant, reason, type, version, rule, metadata}',
  scoped: true,
  async run ({ args: [name], values, json, environment }) {
    const context: EvaluationContext = attributes((values.attr as string[] | undefined) ?? [])
    for (const [option, key] of [['user-id', 'user_id'], ['customer-id', 'customer_id']]) {
      const value = str(values, option)
      if (value === undefined) continue
      if (key in context) throw new UsageError(`give ${key} once: --${option} or --attr ${key}=…`)
      context[key] = value
    }
    const result = await withSession(async (s) => s.flags.evaluate(s.environment, name, context), { environment })
    emit(json, result, () => printLine(`${result.name}: ${showValue(result.value)} (variant ${result.variant}, reason ${result.reason}, rule ${result.rule})`))
  }
}

export const queryCommands = [
  listFeatures,
  listCustomers('list-customers', 'enabled', 'the customers that have a flag (effective: overrides, targeting, rollout by customer_id)', 'have'),
  listCustomers('list-customers-enabled', 'explicitly_enabled', 'the customers a flag is explicitly switched on for (set-flag --enabled)', 'have an override enabling'),
  listCustomers('list-customers-disabled', 'explicitly_disabled', 'the customers a flag is explicitly switched off for (set-flag --disabled)', 'have an override disabling'),
  evaluate
]
