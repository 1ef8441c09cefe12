/** The OpenAPI document as GET /openapi.json serves it, and its operations: shared by the test/openapi-*.test.ts suites. */
import type { FastifyInstance } from 'fastify'

export interface Response {
  description?: string
  headers?: Record<string, unknown>
  content?: Record<string, { schema?: { $ref?: string } }>
}

export interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  security?: Array<Record<string, string[]>>
  parameters?: Array<{ in: string, name: string, required?: boolean, schema?: unknown }>
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> }
  responses?: Record<string, Response>
}

export interface Doc {
  openapi: string
  servers?: Array<{ url: string, description?: string }>
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>, securitySchemes: Record<string, unknown> }
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])

/** The document the app serves. */
export async function documentOf (app: FastifyInstance): Promise<Doc> {
  const res = await app.inject({ url: '/openapi.json' })
  if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`)
  return res.json() as Doc
}

/** [method, path, operation] for every operation in the document. */
export const operationsOf = (doc: Doc): Array<[string, string, Operation]> =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([method]) => METHODS.has(method)).map(([method, op]): [string, string, Operation] => [method, path, op]))

/** The component a `$ref` names (`#/components/schemas/X` → `X`). */
export const componentName = (ref: string | undefined): string | undefined => ref?.replace(/^#\/components\/schemas\//, '')
