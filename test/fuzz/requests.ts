import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { READ_KEY, WRITE_KEY } from '../helper.js'
import { hostileBody, hostileHeader, hostileQueryValue, hostileSegment, hostileValue, HOSTILE_KEYS, HOSTILE_STRINGS, Raw, toJsonText } from './hostile.js'
import type { Operation, Parameter } from './operations.js'
import { arbitraryOf, type ArbitraryOptions } from './schema-arbitrary.js'

/**
 * Requests for one operation: valid ones drawn from its parameter and body schemas, and near-valid
 * ones with exactly one thing made hostile. Path parameters name an existing resource half the time:
 * `{ existing: n }` is resolved when the request is sent, against what the database holds then.
 */

export type Segment = { existing: number } | { raw: string }
export type Auth = 'write' | 'read' | 'none' | 'bad' | 'bearer-write' | 'bearer-bad' | 'basic' | 'long'
export type Body = { json: unknown } | { raw: string | Buffer, contentType: string | undefined }

export interface RequestSpec {
  method: string
  path: Record<string, Segment>
  /** name → value, as written into the URL (already encoded, or deliberately not). */
  query: Array<[string, string | Segment]>
  headers: Record<string, string>
  auth: Auth
  body?: Body
  /** What was made hostile, or "valid". */
  mutation: string
}

/** Names that exist when a request is sent, by what they name: all of them, and those of the seed state. */
export type Pools = Record<'flags' | 'customers' | 'users' | 'environments' | 'apiKeys', { all: string[], seeded: string[] }>

type PoolName = keyof Pools
/** Which pool a parameter's existing values come from. */
function poolOf (op: Operation, p: Parameter): PoolName | null {
  if (p.in === 'path') {
    if (p.name === 'environment') return 'environments'
    if (/\/api-keys\/\{/.test(op.path)) return 'apiKeys'
    if (p.name === 'name' || p.name === 'key') return 'flags'
    if (/\/customers\/\{/.test(op.path)) return 'customers'
    if (/\/users\/\{/.test(op.path)) return 'users'
  }
  if (p.name === 'user_id') return 'users'
  if (p.name === 'customer_id') return 'customers'
  return null
}

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.constant<Auth>('write'), weight: 12 },
  { arbitrary: fc.constantFrom<Auth>('read', 'none', 'bad', 'bearer-write', 'bearer-bad', 'basic', 'long'), weight: 3 })

const encode = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  try { return encodeURIComponent(s) } catch { return escape(s) }
}

/** Every location in a JSON value: [] is the value itself. */
function locations (value: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at)
  if (Array.isArray(value)) value.forEach((v, i) => locations(v, [...at, i], out))
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) locations(v, [...at, k], out)
  return out
}
const getAt = (value: any, at: Array<string | number>): any => at.reduce((node, k) => node?.[k], value)
/** A copy of `value` with `at` replaced by `replacement` (undefined deletes it). */
function setAt (value: unknown, at: Array<string | number>, replacement: unknown): unknown {
  if (at.length === 0) return replacement
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) }
  const [head, ...rest] = at
  if (rest.length === 0 && replacement === undefined) {
    if (Array.isArray(copy)) copy.splice(Number(head), 1)
    else delete copy[head]
  } else {
    // defineProperty: a generated "__proto__" key must be an own key, not the prototype.
    Object.defineProperty(copy, head, { value: setAt(copy[head], rest, replacement), enumerable: true, writable: true, configurable: true })
  }
  return copy
}
const label = (at: Array<string | number>): string => ['body', ...at].join('.')

/** Stands for the latest revision in a body, filled in when the request is sent (materialize). */
const LATEST_REVISION = new Raw('"<latest revision>"')

/**
 * A body from the operation's schema. A `revision` (revert) is also the latest one half the time:
 * an arbitrary integer is rarely a revision the flag existed at, so a revert would hardly ever succeed.
 */
function bodyOf (op: Operation, opts: ArbitraryOptions): fc.Arbitrary<Body> {
  const json = arbitraryOf(op.body!.schema, opts)
  if (op.body!.schema.properties?.revision === undefined) return json.map((j): Body => ({ json: j }))
  return fc.oneof(json, json.map((j) => j !== null && typeof j === 'object' ? { ...j, revision: LATEST_REVISION } : j)).map((j): Body => ({ json: j }))
}

/** Valid and near-valid requests for `op`. */
export function requestArbitrary (op: Operation, opts: ArbitraryOptions): fc.Arbitrary<RequestSpec> {
  const path = op.parameters.filter((p) => p.in === 'path')
  const query = op.parameters.filter((p) => p.in === 'query')
  const headers = op.parameters.filter((p) => p.in === 'header')
  const segment = (p: Parameter): fc.Arbitrary<Segment> => fc.oneof(
    { arbitrary: fc.nat().map((n) => ({ existing: n })), weight: 2 },
    { arbitrary: arbitraryOf(p.schema, opts).map((v) => ({ raw: encode(v) })), weight: 1 })
  const queryValue = (p: Parameter): fc.Arbitrary<string | Segment> => {
    const fromSchema = arbitraryOf(p.schema, opts).map(encode)
    // Cursors are opaque base64url positions: real-looking ones (an existing name), and positions no page ends at.
    if (p.name === 'cursor') {
      return fc.oneof(fromSchema, fc.constantFrom(...(opts.hints ?? []), ...HOSTILE_STRINGS.filter((h) => h.length < 300), 'acme\u0000x', 'customer\u0000acme')
        .map((position) => Buffer.from(position, 'utf8').toString('base64url')))
    }
    return poolOf(op, p) === null ? fromSchema : fc.oneof(fc.nat().map((n) => ({ existing: n })), fromSchema)
  }

  // Conditional requests: the ETags the seeded flags have (or soon will), besides the schema's strings.
  const headerValue = (p: Parameter): fc.Arbitrary<string> => /^if-(none-)?match$/i.test(p.name)
    ? fc.oneof(fc.constantFrom('"1"', '"2"', '"3"', '*'), arbitraryOf(p.schema, opts).map(String))
    : arbitraryOf(p.schema, opts).map(String)
  const valid = fc.record({
    path: fc.record(Object.fromEntries(path.map((p) => [p.name, segment(p)]))),
    query: fc.tuple(...query.map((p) => p.required
      ? queryValue(p).map((v) => [[p.name, v]])
      : fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary: queryValue(p), weight: 1 })
        .map((v): Array<[string, string | Segment]> => v === undefined ? [] : [[p.name, v]]))).map((parts) => parts.flat() as Array<[string, string | Segment]>),
    headers: fc.tuple(...headers.map((p) => fc.option(headerValue(p), { nil: undefined })
      .map((v) => v === undefined ? {} : { [p.name]: v }))).map((parts) => Object.assign({}, ...parts) as Record<string, string>),
    auth,
    body: op.body === undefined ? fc.constant(undefined) : bodyOf(op, opts)
  }).map((r): RequestSpec => ({ ...r, method: op.method.toUpperCase(), mutation: 'valid' }))

  const nearValid = valid.chain((req) => {
    const kinds: Array<fc.Arbitrary<RequestSpec>> = []
    if (req.body !== undefined && 'json' in req.body) {
      const json = req.body.json
      const spots = locations(json)
      const objects = spots.filter((at) => { const v = getAt(json, at); return v !== null && typeof v === 'object' && !Array.isArray(v) })
      const keyed = spots.filter((at) => at.length > 0)
      kinds.push(fc.tuple(fc.constantFrom(...spots), hostileValue).map(([at, v]) =>
        ({ ...req, body: { json: setAt(json, at, v) }, mutation: `${label(at)} = ${describe(v)}` })))
      if (keyed.length > 0) {
        kinds.push(fc.constantFrom(...keyed).map((at) => ({ ...req, body: { json: setAt(json, at, undefined) }, mutation: `${label(at)} removed` })))
      }
      if (objects.length > 0) {
        kinds.push(fc.tuple(fc.constantFrom(...objects), fc.constantFrom(...HOSTILE_KEYS), fc.oneof(hostileValue, fc.constant(1))).map(([at, k, v]) =>
          ({ ...req, body: { json: setAt(json, [...at, k], v) }, mutation: `${label([...at, k])} added = ${describe(v)}` })))
      }
    }
    if (op.body !== undefined) {
      kinds.push(hostileBody.map((b) => ({ ...req, body: { raw: b.payload, contentType: b.contentType }, mutation: `body ${describe(b.payload)} as ${String(b.contentType)}` })))
      kinds.push(fc.constant({ ...req, body: undefined, mutation: 'no body' }))
    } else {
      kinds.push(fc.constantFrom<Body>({ json: {} }, { raw: '', contentType: 'application/json' }, { raw: '{', contentType: 'application/json' })
        .map((b) => ({ ...req, body: b, mutation: `a body on a body-less operation: ${describe('json' in b ? b.json : b.raw)}` })))
    }
    for (const p of path) {
      kinds.push(hostileSegment.map((s) => ({ ...req, path: { ...req.path, [p.name]: { raw: s } }, mutation: `path ${p.name} = ${describe(s)}` })))
    }
    for (const p of query) {
      kinds.push(hostileQueryValue.map((v) => ({ ...req, query: [...req.query.filter(([k]) => k !== p.name), [p.name, v]], mutation: `query ${p.name} = ${describe(v)}` })))
      kinds.push(fc.constant({ ...req, query: [...req.query, [p.name, 'x'], [p.name, '1']], mutation: `query ${p.name} repeated` }))
    }
    kinds.push(fc.tuple(fc.constantFrom('x', '__proto__', 'constructor', '%E0%A4%A', 'limit[]'), hostileQueryValue)
      .map(([k, v]) => ({ ...req, query: [...req.query, [k, v]], mutation: `unknown query ${k} = ${describe(v)}` })))
    for (const p of headers) {
      kinds.push(hostileHeader.map((v) => ({ ...req, headers: { ...req.headers, [p.name]: v }, mutation: `header ${p.name} = ${describe(v)}` })))
    }
    if (op.method === 'get') kinds.push(fc.constant({ ...req, method: 'HEAD', mutation: 'HEAD instead of GET' }))
    return fc.oneof(...kinds)
  })

  return fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: nearValid, weight: 3 })
}

/** A short, printable description of a (possibly huge) value. */
export function describe (v: unknown): string {
  const text = v instanceof Raw ? `raw ${v.text}` : Buffer.isBuffer(v) ? `bytes ${v.toString('hex')}` : JSON.stringify(v) ?? String(v)
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} chars)` : text
}

const AUTH_HEADERS: Record<Auth, Record<string, string>> = {
  write: { 'x-api-key': WRITE_KEY },
  read: { 'x-api-key': READ_KEY },
  none: {},
  bad: { 'x-api-key': 'not-a-key' },
  'bearer-write': { authorization: `Bearer ${WRITE_KEY}` },
  'bearer-bad': { authorization: 'Bearer x y' },
  basic: { authorization: 'Basic dXNlcjpwYXNz' },
  long: { 'x-api-key': 'k'.repeat(10_000) }
}

/** The request to send, with existing names looked up in `pools` now. */
export function materialize (op: Operation, spec: RequestSpec, pools: Pools, latestRevision = 1): InjectOptions & { url: string } {
  const resolve = (p: Parameter | undefined, s: string | Segment): string => {
    if (typeof s === 'string') return s
    if ('raw' in s) return s.raw
    const pool = pools[(p === undefined ? null : poolOf(op, p)) ?? 'flags']
    // Mostly a seeded name (those have overrides, users, rules), else anything created since.
    const names = s.existing % 4 !== 0 && pool.seeded.length > 0 ? pool.seeded : pool.all.length > 0 ? pool.all : ['missing']
    return encodeURIComponent(names[(s.existing >> 2) % names.length])
  }
  const param = (name: string): Parameter | undefined => op.parameters.find((p) => p.name === name)
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => resolve(param(name), spec.path[name] ?? { raw: '' }))
  const qs = spec.query.map(([k, v]) => `${k}=${resolve(param(k), v)}`).join('&')
  const headers: Record<string, string> = { ...spec.headers, ...AUTH_HEADERS[spec.auth] }
  let payload: string | Buffer | undefined
  if (spec.body !== undefined) {
    if ('json' in spec.body) {
      payload = toJsonText(spec.body.json).replace(LATEST_REVISION.text, String(latestRevision))
      headers['content-type'] = 'application/json'
    } else {
      payload = spec.body.raw
      if (spec.body.contentType !== undefined) headers['content-type'] = spec.body.contentType
    }
  }
  return { method: spec.method as InjectOptions['method'], url: qs === '' ? path : `${path}?${qs}`, headers, ...(payload === undefined ? {} : { payload }) }
}
