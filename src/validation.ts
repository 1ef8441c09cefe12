import { Ajv, type ValidateFunction } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'
import type { FieldProblem } from './errors.js'
import { SCHEMAS } from './schemas/registry.js'
import { inputProblems } from './schemas/storable.js'

// Query strings, params and headers arrive as text and need coercion ("10" → 10); bodies are JSON
// and must not be coerced (null must never quietly become false), nor have unknown fields dropped.
const common = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false } as const

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * A schema's validator, compiled on its first call: Fastify asks for one per route and HTTP part
 * while the app starts, and most of them a process never uses before long (compiling them all was
 * a tenth of a cold start's CPU).
 *
 * With `inputRule`, behind the input rule of schemas/storable.ts (finite numbers, storable strings
 * and keys, bounded nesting), checked first and for every value, typed by the schema or not (json
 * flag values, metadata, contexts): one rule for every field of every route and the library. The
 * walk does not recurse, so Ajv only ever sees a bounded depth. Rule violations are reported as Ajv
 * errors, so they reach clients the way every validation error does.
 */
function validator (compile: () => ValidateFunction, inputRule: boolean): ValidateFunction {
  let check: ValidateFunction | undefined
  const validate = ((data: unknown) => {
    const problems = inputRule ? inputProblems(data) : undefined
    if (problems !== undefined) {
      validate.errors = problems.map(({ path, message }) => ({
        keyword: 'storable', instancePath: path.map((p) => `/${escapePointer(p)}`).join(''), schemaPath: '#', params: {}, message
      }))
      return false
    }
    check ??= compile()
    const ok = check(data)
    validate.errors = check.errors
    return ok
  }) as ValidateFunction
  return validate
}

/**
 * Two Ajv instances per app, picked per HTTP part, each made when a validator first needs it (adding
 * the registered schemas, schemas/registry.ts, checks each against the meta-schema: tens of ms of a
 * cold start).
 */
export function createValidatorCompiler (): FastifySchemaCompiler<unknown> {
  let text: Ajv | undefined
  let bodies: Ajv | undefined
  const ajvFor = (httpPart: string | undefined): Ajv => httpPart === 'body'
    ? (bodies ??= new Ajv({ ...common, coerceTypes: false, schemas: [...SCHEMAS] }))
    : (text ??= new Ajv({ ...common, coerceTypes: 'array', schemas: [...SCHEMAS] }))
  return ({ schema, httpPart }) =>
    // Header values cannot hold NUL or unpaired surrogates (the HTTP parser refuses them and reads latin1).
    validator(() => ajvFor(httpPart).compile(schema as object), httpPart !== 'headers') as ReturnType<FastifySchemaCompiler<unknown>>
}

interface AjvIssue { keyword: string, instancePath: string, message?: string, params: Record<string, unknown> }

// Fastify names the query string `querystring`; clients (and our own service errors) say `query`.
const PART_NAMES: Record<string, string> = { querystring: 'query' }
const isNullBranch = (issue: AjvIssue): boolean => issue.keyword === 'type' && issue.params.type === 'null'

/** Every value a `const` (one per branch of a union of literals) or `enum` at `instancePath` allows, listed for a message. */
function allowedValues (issues: AjvIssue[], instancePath: string): string {
  const values = issues.filter((issue) => issue.instancePath === instancePath).flatMap((issue) =>
    issue.keyword === 'const' ? [issue.params.allowedValue] : issue.keyword === 'enum' ? (issue.params.allowedValues as unknown[]) : [])
  return [...new Set(values.map((v) => JSON.stringify(v)))].join(', ')
}

/** Ajv errors → one problem per field, with the field named the way a client wrote it. */
export function fieldProblems (issues: AjvIssue[], httpPart: string): FieldProblem[] {
  const part = PART_NAMES[httpPart] ?? httpPart
  const byField = new Map<string, FieldProblem>()
  // A nullable field that fails reports its real problem, then "must be null" and "must match a schema
  // in anyOf" for the union: those two say nothing a client can act on once the real problem is listed.
  const relevant = issues.filter((issue) => issue.keyword !== 'anyOf' &&
    !(isNullBranch(issue) && issues.some((other) => other !== issue && !isNullBranch(other) && other.keyword !== 'anyOf' &&
      (other.instancePath === issue.instancePath || other.instancePath.startsWith(`${issue.instancePath}/`)))))
  const chosen = relevant.length > 0 ? relevant : issues
  for (const issue of chosen) {
    const path = issue.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    let message = issue.message ?? 'is invalid'
    if (issue.keyword === 'const' || issue.keyword === 'enum') message = `must be one of ${allowedValues(chosen, issue.instancePath)}`
    if (issue.keyword === 'required') { path.push(String(issue.params.missingProperty)); message = 'is required' }
    if (issue.keyword === 'additionalProperties') { path.push(String(issue.params.additionalProperty)); message = 'is not a known field' }
    const field = [part, ...path].join('.')
    // Unions report once per branch and once for the union: keep the first, most specific message.
    if (!byField.has(field)) byField.set(field, { field, message })
  }
  return [...byField.values()]
}
