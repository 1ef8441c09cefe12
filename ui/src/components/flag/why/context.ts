/**
 * The context typed on the Why? tab: user_id, customer_id and attribute rows (each typed as a string,
 * number or boolean), or the same as JSON. Both turn into the object POST /evaluate takes.
 */
export type AttributeType = 'string' | 'number' | 'boolean'
export interface AttributeRow { key: number, name: string, type: AttributeType, value: string }
export interface ContextDraft { userId: string, customerId: string, rows: AttributeRow[] }
export type ContextValue = string | number | boolean | ContextObject | unknown[] | null
export interface ContextObject { [name: string]: ContextValue }

/** The server's rule for attribute names (src/schemas/names.ts ATTRIBUTE_NAME_RULE), checked before sending. */
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
const ATTRIBUTE_NAME_MESSAGE = 'must be 1 to 64 characters: letters, digits, "_", "." or "-", starting with a letter or "_"'

let nextKey = 1
export const newRow = (name = '', type: AttributeType = 'string', value = ''): AttributeRow => ({ key: nextKey++, name, type, value })
export const EMPTY_DRAFT: ContextDraft = { userId: '', customerId: '', rows: [] }

/** The context a draft stands for, or each row's problem (by row key) when a value is not of its type. */
export function contextOf (draft: ContextDraft): { context: ContextObject, problems?: undefined } | { problems: Map<number, string>, context?: undefined } {
  const context: ContextObject = {}
  const problems = new Map<number, string>()
  if (draft.userId !== '') context.user_id = draft.userId
  if (draft.customerId !== '') context.customer_id = draft.customerId
  for (const row of draft.rows) {
    const name = row.name.trim()
    if (name === '') {
      if (row.value !== '') problems.set(row.key, 'Name the attribute, or remove the row')
      continue
    }
    if (!ATTRIBUTE_NAME.test(name)) { problems.set(row.key, `The name ${ATTRIBUTE_NAME_MESSAGE}`); continue }
    if (name in context) { problems.set(row.key, `${name} is given twice`); continue }
    if (row.type === 'number') {
      const n = Number(row.value)
      if (row.value.trim() === '' || !Number.isFinite(n)) problems.set(row.key, 'must be a number')
      else context[name] = n
    } else if (row.type === 'boolean') {
      context[name] = row.value === 'true'
    } else {
      context[name] = row.value
    }
  }
  return problems.size > 0 ? { problems } : { context }
}

/** The form's rows for a JSON context, or why it cannot be shown as rows (it stays JSON then). */
export function draftOf (context: unknown): ContextDraft | Error {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return new Error('The context must be a JSON object: {"user_id": "alice", …}')
  const draft: ContextDraft = { userId: '', customerId: '', rows: [] }
  for (const [name, value] of Object.entries(flatten(context as ContextObject, true))) {
    if (Array.isArray(value) || value === null) return new Error(`"${name}" is ${value === null ? 'null' : 'a list'}: the form holds strings, numbers and booleans only; keep editing as JSON`)
    if (name === 'user_id' && typeof value === 'string') draft.userId = value
    else if (name === 'customer_id' && typeof value === 'string') draft.customerId = value
    else draft.rows.push(newRow(name, typeof value as AttributeType, String(value)))
  }
  return draft
}

/**
 * Nested objects as dotted attributes (`{"user": {"plan": "pro"}}` is `user.plan`), as the server reads
 * them; a flat name wins over the same path read from an object. Arrays and null are left out unless `keep`.
 */
export function flatten (context: ContextObject, keep = false): Record<string, ContextValue> {
  const flat: Record<string, ContextValue> = {}
  const nested: Array<[string, ContextObject]> = []
  for (const [name, value] of Object.entries(context)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) nested.push([name, value])
    else if (keep || (value !== null && !Array.isArray(value))) flat[name] = value
  }
  for (let i = 0; i < nested.length; i++) {
    const [path, object] = nested[i]
    for (const [name, value] of Object.entries(object)) {
      const dotted = `${path}.${name}`
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) nested.push([dotted, value])
      else if (!(dotted in flat) && (keep || (value !== null && !Array.isArray(value)))) flat[dotted] = value
    }
  }
  return flat
}
