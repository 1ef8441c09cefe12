import { Ajv } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'
import type { FieldProblem } from './errors.js'

// Query strings, params and headers arrive as text and need coercion ("10" → 10); bodies are JSON
// and must not be coerced (null must never quietly become false), nor have unknown fields dropped.
const common = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false } as const

/** Two Ajv instances per app, picked per HTTP part; shared schemas are added to both. */
export function createValidatorCompiler (shared: object[]): FastifySchemaCompiler<unknown> {
  const textAjv = new Ajv({ ...common, coerceTypes: 'array', schemas: shared })
  const bodyAjv = new Ajv({ ...common, coerceTypes: false, schemas: shared })
  return ({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>
}

interface AjvIssue { keyword: string, instancePath: string, message?: string, params: Record<string, unknown> }

/** Ajv errors → one problem per field, with the field named the way a client wrote it. */
export function fieldProblems (issues: AjvIssue[], part: string): FieldProblem[] {
  const byField = new Map<string, FieldProblem>()
  for (const issue of issues) {
    const path = issue.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    let message = issue.message ?? 'is invalid'
    if (issue.keyword === 'required') { path.push(String(issue.params.missingProperty)); message = 'is required' }
    if (issue.keyword === 'additionalProperties') { path.push(String(issue.params.additionalProperty)); message = 'is not a known field' }
    const field = [part, ...path].join('.')
    // Unions report once per branch and once for the union: keep the first, most specific message.
    if (!byField.has(field)) byField.set(field, { field, message })
  }
  return [...byField.values()]
}
