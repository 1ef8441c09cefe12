import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { resolveRefs, type Schema } from './schema-arbitrary.js'

/**
 * The operations of the OpenAPI document, as the fuzz needs them: every parameter, body and response
 * schema with its $refs resolved, which operation a URL actually reaches, and the check of a response
 * against what the document promises for it.
 */

export interface Parameter { name: string, in: 'path' | 'query' | 'header', required: boolean, schema: Schema }
export interface Operation {
  id: string
  method: string
  /** The template, e.g. /flags/{name}. */
  path: string
  parameters: Parameter[]
  body?: { schema: Schema, required: boolean }
  /** status → media type → schema (an empty object when the status has no body). */
  responses: Record<string, Record<string, Schema>>
  /** Never writes: GETs, evaluation (Flagpost's and OFREP's), health and metrics. */
  readOnly: boolean
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch']

/** /metrics is hidden from the document (Prometheus text, not an API), but is served: fuzzed as read-only. */
const metricsOperation = (problem: Schema): Operation => ({
  id: 'metrics',
  method: 'get',
  path: '/metrics',
  parameters: [],
  responses: { 200: { 'text/plain': { type: 'string' } }, 401: { 'application/problem+json': problem } },
  readOnly: true
})

export function operationsOf (doc: any): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    // Swagger UI's static assets are hidden from the document; nothing else is skipped.
    if (path.startsWith('/docs')) continue
    for (const method of METHODS) {
      const raw = item[method]
      if (raw === undefined) continue
      const op = resolveRefs(doc, raw)
      const tags: string[] = op.tags ?? []
      const content = op.requestBody?.content?.['application/json']
      ops.push({
        id: op.operationId,
        method,
        path,
        parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: any) => resolveRefs(doc, p))
          .map((p: any) => ({ name: p.name, in: p.in, required: p.required === true, schema: p.schema ?? {} })),
        body: content === undefined ? undefined : { schema: content.schema ?? {}, required: op.requestBody.required === true },
        responses: Object.fromEntries(Object.entries<any>(op.responses ?? {}).map(([status, r]) =>
          [status, Object.fromEntries(Object.entries<any>(r.content ?? {}).map(([media, c]) => [media, c.schema ?? {}]))])),
        readOnly: method === 'get' || tags.some((tag) => ['evaluation', 'ofrep', 'health'].includes(tag))
      })
    }
  }
  ops.push(metricsOperation(resolveRefs(doc, { $ref: '#/components/schemas/Problem' })))
  return ops
}

/** The path Fastify routes: light-my-request resolves `.`/`..` segments as a URL parser does. */
export const routedPath = (url: string): string => new URL(url, 'http://localhost').pathname

/**
 * The operation a request reaches, as the router picks it: same number of segments, literals equal,
 * static segments preferred over parameters; null when none (the not-found handler answers).
 */
export function matchOperation (ops: Operation[], method: string, url: string): Operation | null {
  const segments = routedPath(url).split('/')
  const verb = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()
  let best: Operation | null = null
  let bestScore = -1
  for (const op of ops) {
    if (op.method !== verb) continue
    const template = op.path.split('/')
    if (template.length !== segments.length) continue
    let score = 0
    let ok = true
    for (let i = 0; i < template.length && ok; i++) {
      if (/^\{.+\}$/.test(template[i])) continue
      if (template[i] === segments[i]) score++
      else ok = false
    }
    if (ok && score > bestScore) { best = op; bestScore = score }
  }
  return best
}

export interface Reply { statusCode: number, headers: Record<string, unknown>, body: string }

/** Checks responses against the document: documented status, media type, and body schema. */
export function createResponseChecker (problem: Schema): (op: Operation | null, method: string, res: Reply) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)) })
  const compiled = new Map<Schema, ValidateFunction>()
  const validatorOf = (schema: Schema): ValidateFunction => {
    let v = compiled.get(schema)
    if (v === undefined) { v = ajv.compile(schema); compiled.set(schema, v) }
    return v
  }
  // A URL no operation routes: 404, or 405 (with Allow) when the path it resolves to is routed for other methods.
  const notFound: Operation['responses'] = { 404: { 'application/problem+json': problem }, 405: { 'application/problem+json': problem } }

  return (op, method, res) => {
    const problems: string[] = []
    const status = String(res.statusCode)
    if (res.statusCode >= 500) problems.push(`5xx: status ${status}`)
    const responses: Operation['responses'] = op?.responses ?? notFound
    const documented = responses[status] ?? responses[`${status[0]}XX`] ?? responses.default
    if (documented === undefined) {
      problems.push(`undocumented status: ${status} for ${op === null ? 'an unrouted URL (only 404 or 405)' : op.id} (documented: ${Object.keys(responses).join(', ')})`)
      return problems
    }
    if (res.statusCode === 405 && typeof res.headers.allow !== 'string') problems.push('405 without Allow: RFC 9110 requires the methods the path takes')
    const media = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    const medias = Object.keys(documented)
    if (method === 'HEAD') {
      if (res.body !== '') problems.push('HEAD with a body: a HEAD response has a body')
      return problems
    }
    if (medias.length === 0) {
      if (res.body !== '') problems.push(`unexpected body: status ${status} is documented without a body, got ${media}: ${res.body.slice(0, 200)}`)
      return problems
    }
    if (!medias.includes(media)) {
      problems.push(`undocumented content-type: ${media || '(none)'} for ${status}, documented: ${medias.join(', ')}`)
      return problems
    }
    let body: unknown = res.body
    if (media.endsWith('json')) {
      try { body = JSON.parse(res.body) } catch { problems.push(`not JSON: a ${media} body ${res.body.slice(0, 200)}`); return problems }
    }
    const validate = validatorOf(documented[media])
    if (!validate(body)) problems.push(`schema: the body does not match the ${status} ${media} schema: ${ajv.errorsText(validate.errors)}`)
    // RFC 9457: a problem's status is the response's.
    if (media === 'application/problem+json' && (body as { status?: unknown })?.status !== res.statusCode) {
      problems.push(`problem status: the body says ${String((body as { status?: unknown })?.status)}, the response ${status}`)
    }
    return problems
  }
}
