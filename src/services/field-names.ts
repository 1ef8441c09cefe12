/**
 * Field paths in errors (`FieldProblem.field`): the services name domain fields (`defaultValue`,
 * `targetingRules.rollout.blue`, `customerId`), and each edge renders the first segment in its own
 * terms (HTTP `body.default_value`, CLI `--default-value`); the rest of a path is JSON the client wrote.
 */

const split = (field: string): [string, string] => {
  const dot = field.indexOf('.')
  return dot < 0 ? [field, ''] : [field.slice(0, dot), field.slice(dot)]
}

/** `targeting_rules.rollout` → `targetingRules.rollout`: a stored or engine name as the domain's. */
export function camelField (field: string): string {
  const [head, rest] = split(field)
  return head.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) + rest
}

/** `defaultValue.x` → `default_value.x`, or with `-` → `default-value.x`: the domain name as an edge writes it. */
export function separatedField (field: string, separator: '_' | '-'): string {
  const [head, rest] = split(field)
  return head.replace(/[A-Z]/g, (c) => separator + c.toLowerCase()) + rest
}
