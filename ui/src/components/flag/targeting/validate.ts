import { parseValue } from '../../ValueInput.js'
import { kindOf, weightsToSend, type Draft, type DraftClause, type Weights } from './draft.js'

export interface FieldProblem { field: string, message: string }

// The server's rules (src/schemas/names.ts, flags.ts), checked here so the obvious mistakes never leave the page.
const VARIANT_NAME = /^[A-Za-z0-9_.-]{1,64}$/
const ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
const RULE_ID = /^[A-Za-z0-9_.-]{1,64}$/
const ATTRIBUTE_MESSAGE = 'must be 1 to 64 characters: letters, digits, "_", "." or "-", starting with a letter or "_"'
/**
 * Loose on purpose: what clearly is no version (the server's semver parser, which takes `v2.3.0`,
 * `2.3.0-beta.1+build` and partial `2.3`, has the last word on the rest).
 */
export const SEMVER = /^[vV]?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]*)?$/
const twoDecimals = (n: number): boolean => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6

function weightProblems (weights: Weights, names: string[], at: string, problem: (field: string, message: string) => void): void {
  const sent = weightsToSend(weights, names)
  for (const [name, w] of Object.entries(sent)) {
    if (w < 0 || w > 10_000 || !twoDecimals(w)) problem(`${at}.${name}`, 'a weight is 0 to 10,000, with at most two decimals')
  }
  if (Object.values(sent).reduce((a, b) => a + b, 0) <= 0) problem(at, 'give at least one variant a weight above 0')
}

function clauseProblems (c: DraftClause, at: string, problem: (field: string, message: string) => void): void {
  if (!ATTRIBUTE.test(c.attribute.trim())) problem(`${at}.attribute`, ATTRIBUTE_MESSAGE)
  const kind = kindOf(c.operator)
  const values = c.values
  const first = values[0] ?? ''
  if (kind === 'list' && values.length === 0) problem(`${at}.values`, `"${c.operator}" needs at least one value`)
  if (kind === 'regex') {
    if (values.length === 0 || values.every((v) => v === '')) problem(`${at}.values`, 'give a regular expression')
    values.forEach((v, k) => { if (v === '' && values.length > 1) problem(`${at}.values.${k}`, 'an empty pattern: remove it') })
  }
  if (kind === 'number' && (first.trim() === '' || !Number.isFinite(Number(first)))) problem(`${at}.values.0`, 'give a number')
  if (kind === 'date' && (first === '' || Number.isNaN(/^\d+$/.test(first) ? Number(first) : Date.parse(first)))) problem(`${at}.values.0`, 'give a date and time')
  if (kind === 'semver' && !SEMVER.test(first.trim())) problem(`${at}.values.0`, `"${first}" is not a version (e.g. 2.3.0, v2.3.0, 2.3.0-beta.1, or partial 2.3)`)
}

/**
 * What is wrong with the form before anything is sent, each on the field the server would name
 * (`targeting_rules.rules.0.clauses.1.values.0`); variant names, which the server names by the
 * name itself, go by their row (`variant-name.<i>`).
 */
export function problemsOf (draft: Draft): FieldProblem[] {
  const problems: FieldProblem[] = []
  const problem = (field: string, message: string): void => { problems.push({ field, message }) }
  const names = draft.variants.map((v) => v.name)
  draft.variants.forEach((v, i) => {
    if (!VARIANT_NAME.test(v.name)) problem(`variant-name.${i}`, '1 to 64 letters, digits, "_", "." or "-"')
    else if (names.indexOf(v.name) !== i) problem(`variant-name.${i}`, `"${v.name}" is already a variant`)
    const parsed = parseValue(draft.type, v.text)
    if (parsed instanceof Error) problem(`variants.${v.name}`, parsed.message)
  })
  if (!names.includes(draft.defaultVariant)) problem('default_variant', 'choose one of the variants')
  if (!names.includes(draft.offVariant)) problem('off_variant', 'choose one of the variants')

  if (draft.mode === 'percentage') {
    const p = draft.percentage
    if (p === '' || p < 0 || p > 100 || !twoDecimals(p)) problem('targeting_rules.percentage', 'give a share from 0 to 100 (two decimals at most)')
  } else {
    weightProblems(draft.weights, names, 'targeting_rules.rollout', problem)
  }
  if (!ATTRIBUTE.test(draft.bucketBy.trim())) problem('targeting_rules.bucket_by', ATTRIBUTE_MESSAGE)

  const ids = new Set<string>()
  draft.rules.forEach((r, i) => {
    const at = `targeting_rules.rules.${i}`
    if (!RULE_ID.test(r.id.trim())) problem(`${at}.id`, '1 to 64 letters, digits, "_", "." or "-"')
    else if (ids.has(r.id.trim())) problem(`${at}.id`, `"${r.id.trim()}" is already the id of an earlier rule`)
    ids.add(r.id.trim())
    r.clauses.forEach((c, j) => clauseProblems(c, `${at}.clauses.${j}`, problem))
    if (r.serve.kind === 'variant' && !names.includes(r.serve.variant)) problem(`${at}.serve.variant`, 'choose one of the variants')
    if (r.serve.kind === 'rollout') weightProblems(r.serve.weights, names, `${at}.serve.rollout`, problem)
  })
  return problems
}

/** A field path in words, for the summary of what is wrong (`targeting_rules.rules.0.clauses.1.values.0` → rule 1, condition 2: values). */
export function fieldLabel (field: string): string {
  const rule = /^targeting_rules\.rules\.(\d+)(?:\.clauses\.(\d+))?(?:\.(.*))?$/.exec(field)
  if (rule !== null) {
    const [, r, c, rest = ''] = rule
    const where = `rule ${Number(r) + 1}${c === undefined ? '' : `, condition ${Number(c) + 1}`}`
    const what = rest.split('.')[0]
    const words: Record<string, string> = { id: 'id', description: 'description', attribute: 'attribute', operator: 'operator', values: 'value', serve: 'what it serves', clauses: 'conditions' }
    return what === '' ? where : `${where}: ${rest.startsWith('serve.rollout') ? 'weights' : words[what] ?? rest}`
  }
  const name = /^variant-name\.(\d+)$/.exec(field)
  if (name !== null) return `name of variant ${Number(name[1]) + 1}`
  if (field.startsWith('variants.')) return `value of ${field.slice('variants.'.length)}`
  const words: Record<string, string> = {
    default_variant: 'default variant',
    off_variant: 'off variant',
    'targeting_rules.percentage': 'percentage',
    'targeting_rules.bucket_by': 'bucket by',
    'targeting_rules.user_ids': 'user ids',
    'targeting_rules.customer_ids': 'customer ids'
  }
  if (field.startsWith('targeting_rules.rollout')) return 'weights per variant'
  return words[field] ?? field
}
