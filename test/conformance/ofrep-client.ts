/**
 * The "evaluator" of the flagd suite, played by Flagpost's OFREP endpoint: one
 * `POST /ofrep/v1/evaluate/flags/{key}` through `app.inject`, mapped to the evaluation details the
 * gherkin steps check, the way an OpenFeature OFREP provider maps a response:
 * - 4xx/5xx `{key, errorCode}` → the caller's fallback value, reason ERROR, that error code;
 * - a value of another type than the one asked for → fallback, TYPE_MISMATCH (OFREP does not know
 *   the requested type: the provider checks it);
 * - reason DISABLED → the caller's fallback value and no variant, because disabled.feature says the
 *   evaluator "substitutes the caller-provided default value and omits the variant".
 */
import type { FastifyInstance } from 'fastify'
import type { FlagdType } from './gherkin.js'

export interface Details {
  status: number
  key?: unknown
  value: unknown
  variant?: unknown
  reason?: unknown
  errorCode?: unknown
  errorDetails?: unknown
  metadata?: unknown
  /** The response body as received, for failure messages. */
  raw: string
}

/** Nested context objects as dotted attributes (`{user: {name}}` → `user.name`), as Flagpost reads them. */
export function flattenContext (context: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(context)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) flattenContext(v as Record<string, unknown>, `${prefix}${k}.`, out)
    else out[`${prefix}${k}`] = v
  }
  return out
}

export function typeMatches (type: FlagdType, value: unknown): boolean {
  switch (type) {
    case 'Boolean': return typeof value === 'boolean'
    case 'String': return typeof value === 'string'
    case 'Integer': case 'Float': return typeof value === 'number'
    case 'Object': return typeof value === 'object' && value !== null
  }
}

export async function evaluateOfrep (
  app: FastifyInstance, key: string, type: FlagdType, fallback: unknown, context: Record<string, unknown>
): Promise<Details> {
  // Keys go into the path unescaped, as OpenFeature clients send them.
  const res = await app.inject({ method: 'POST', url: `/ofrep/v1/evaluate/flags/${key}`, payload: { context: flattenContext(context) } })
  let body: Record<string, unknown> = {}
  try { body = res.json() } catch { /* not JSON: reported through `raw` */ }
  const base = { status: res.statusCode, key: body.key, metadata: body.metadata, raw: `${res.statusCode} ${res.body}` }
  if (res.statusCode !== 200) {
    return { ...base, value: fallback, reason: 'ERROR', errorCode: body.errorCode ?? `HTTP_${res.statusCode}`, errorDetails: body.errorDetails }
  }
  if (body.reason === 'DISABLED') return { ...base, value: fallback, reason: 'DISABLED' }
  if (!typeMatches(type, body.value)) {
    return { ...base, value: fallback, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', errorDetails: `asked for ${type}, got ${JSON.stringify(body.value)}` }
  }
  return { ...base, value: body.value, variant: body.variant, reason: body.reason }
}
