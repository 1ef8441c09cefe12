import type { Change } from '../../api/client.js'

type Body = Record<string, unknown>

export const isObject = (value: unknown): value is Body => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Changes whose `after` is the flag as the write left it: the states a flag can be reverted to. */
export const FLAG_STATES = new Set(['flag.create', 'flag.update', 'flag.rename', 'flag.promote', 'flag.revert'])

/** The action groups GET /changes filters by (`action=flag` is every `flag.*`). */
export const ACTION_GROUPS = [
  { value: 'flag', label: 'Flags' },
  { value: 'override', label: 'Overrides' },
  { value: 'customer', label: 'Customers' },
  { value: 'user', label: 'Users' },
  { value: 'environment', label: 'Environments' },
  { value: 'api_key', label: 'API keys' }
]

/**
 * The value at a path of `changed` in a recorded body: `enabled`, or one level down
 * (`targeting_rules.percentage`, `variants.on`; a variant's own name may hold dots, so only the first
 * one separates). Undefined when the body has no such field.
 */
export function valueAt (body: unknown, path: string): unknown {
  if (!isObject(body)) return undefined
  if (path in body) return body[path]
  const dot = path.indexOf('.')
  if (dot < 0) return undefined
  const outer = body[path.slice(0, dot)]
  return isObject(outer) ? outer[path.slice(dot + 1)] : undefined
}

const LABELS: Record<string, string> = {
  enabled: 'On/off',
  name: 'Name',
  type: 'Type',
  description: 'Description',
  tags: 'Tags',
  default_value: 'Value when on',
  off_value: 'Value when off',
  default_variant: 'Variant when on',
  off_variant: 'Variant when off',
  variants: 'Variants (order)',
  metadata: 'Metadata',
  targeting_rules: 'Targeting',
  'targeting_rules.percentage': 'Percentage',
  'targeting_rules.user_ids': 'Targeted users',
  'targeting_rules.customer_ids': 'Targeted customers',
  'targeting_rules.rules': 'Rules',
  'targeting_rules.rollout': 'Rollout',
  'targeting_rules.bucket_by': 'Bucket by',
  bucketing_seed: 'Bucketing seed',
  variant: 'Variant',
  subject: 'Subject',
  id: 'ID',
  key: 'Key',
  role: 'Role',
  prefix: 'Key prefix',
  position: 'Position',
  customerId: 'Customer',
  expiresAt: 'Expires',
  environments: 'Environments'
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1)

/** A path of `changed` in words: `targeting_rules.percentage` → Percentage, `variants.on` → Variant “on”. */
export function fieldLabel (path: string): string {
  if (LABELS[path] !== undefined) return LABELS[path]
  if (path.startsWith('variants.')) return `Variant “${path.slice('variants.'.length)}”`
  if (path.startsWith('metadata.')) return `Metadata “${path.slice('metadata.'.length)}”`
  const dot = path.indexOf('.')
  return dot < 0 ? capitalized(path.replace(/_/g, ' ')) : `${LABELS[path.slice(0, dot)] ?? capitalized(path.slice(0, dot))}: ${path.slice(dot + 1)}`
}

/** "a", "a and b", "a, b and c". */
const sentence = (parts: string[]): string =>
  parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`

/** What a flag write did, from the fields it changed: "turned off and changed targeting". */
function flagUpdate (change: Change): string {
  const phrases: string[] = []
  const add = (phrase: string): void => { if (!phrases.includes(phrase)) phrases.push(phrase) }
  for (const path of change.changed) {
    if (path === 'enabled') add(valueAt(change.after, 'enabled') === true ? 'turned on' : 'turned off')
    else if (path === 'type') add(`changed the type to ${String(valueAt(change.after, 'type'))}`)
    else if (path.startsWith('targeting_rules')) add('changed targeting')
    else if (path === 'default_variant' || path === 'off_variant') add('changed which variants are served')
    else if (path.startsWith('variants')) add('changed variants')
    else if (path === 'description') add('changed the description')
    else if (path === 'tags') add('changed tags')
    else if (path.startsWith('metadata')) add('changed metadata')
    else if (path === 'name') add('renamed it')
    // default_value and off_value follow the variants and the served variant: said by those already.
  }
  if (phrases.length === 0) return 'saved it unchanged'
  // "changed variants, tags and metadata", not "changed variants, changed tags and changed metadata".
  const changes = phrases.filter((p) => p.startsWith('changed ')).map((p) => p.slice('changed '.length))
  const others = phrases.filter((p) => !p.startsWith('changed '))
  return sentence([...others, ...(changes.length === 0 ? [] : [`changed ${sentence(changes)}`])])
}

const subjectOf = (change: Change): string => {
  const body = isObject(change.after) ? change.after : isObject(change.before) ? change.before : {}
  return `${String(body.subject ?? 'subject')} ${String(body.id ?? '')}`.trim()
}

const idOf = (change: Change, field = 'id'): string => String(valueAt(change.after, field) ?? valueAt(change.before, field) ?? '')

const PAST: Record<string, string> = { add: 'added', create: 'created', update: 'changed', remove: 'removed', delete: 'deleted', set: 'set' }
const NOUNS: Record<string, string> = { api_key: 'API key' }

/** An action this page has no words of its own for (a newer server's): its verb and noun as recorded. */
function fallback (change: Change): string {
  const [group, verb] = change.action.split('.')
  if (verb === undefined || PAST[verb] === undefined) return change.action
  const id = idOf(change) !== '' ? idOf(change) : idOf(change, 'key') !== '' ? idOf(change, 'key') : idOf(change, 'name')
  return `${PAST[verb]} ${NOUNS[group] ?? group} ${id}`.trim()
}

/** Fields a creation or deletion need not list: the entry's own words say them already. */
const SAID: Record<string, string[]> = { override: ['flag', 'subject', 'id'], customer: ['id'], user: ['id'], environment: ['key'], api_key: ['id', 'name'] }

/** The fields of a creation or deletion worth showing (`changed` lists every field of the side there is). */
export const snapshotFields = (change: Change): string[] =>
  change.changed.filter((path) => !(SAID[change.action.split('.')[0]] ?? []).includes(path))

/** What a change did, in words: "turned on", "changed targeting", "set an override for user u1"… */
export function actionInWords (change: Change): string {
  switch (change.action) {
    case 'flag.create': return 'created the flag'
    case 'flag.update': return flagUpdate(change)
    case 'flag.rename': return `renamed ${String(valueAt(change.before, 'name'))} to ${String(valueAt(change.after, 'name'))}`
    case 'flag.delete': return 'deleted the flag'
    case 'flag.promote': return `promoted it from ${String(valueAt(change.after, 'promoted_from') ?? 'another environment')}: ${flagUpdate(change)}`
    case 'flag.revert': return `reverted it to revision ${String(valueAt(change.after, 'reverted_to'))}`
    case 'override.set': return `${change.before === null ? 'set' : 'changed'} an override for ${subjectOf(change)}`
    case 'override.clear': return `cleared the override for ${subjectOf(change)}`
    case 'customer.add': return `added customer ${idOf(change)}`
    case 'customer.remove': return `removed customer ${idOf(change)}`
    case 'user.add': return `added user ${idOf(change)}`
    case 'user.remove': return `removed user ${idOf(change)}`
    case 'environment.create': return `created environment ${idOf(change, 'key')}`
    case 'environment.update': return `changed environment ${idOf(change, 'key')}`
    case 'environment.delete': return `deleted environment ${idOf(change, 'key')}`
    case 'environment.adopt': return `moved the flags from before environments into ${idOf(change, 'key')}`
    case 'api_key.create': return `created API key ${idOf(change, 'name')}`
    case 'api_key.revoke': return `revoked API key ${idOf(change, 'name')}`
    default: return fallback(change)
  }
}
