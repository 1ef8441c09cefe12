import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { EVALUATE_QUERY_ATTRIBUTES } from '../schemas/evaluate.js'
import { SCHEMAS } from '../schemas/registry.js'

interface Media { schema?: { $ref?: string }, example?: unknown }
type Document = { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, Media> } }>>, components?: { schemas?: Record<string, { examples?: unknown[] }> } }

/**
 * A request body whose component has `examples` gets the first as its media type's `example`: what
 * Swagger UI's "Try it out" fills in (else it makes one up from the schema, which the API refuses).
 */
function withRequestExamples<T> (document: T): T {
  const doc = document as Document
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item)) {
      for (const media of Object.values(operation?.requestBody?.content ?? {})) {
        const name = media.schema?.$ref?.replace('#/components/schemas/', '')
        const example = name === undefined ? undefined : doc.components?.schemas?.[name]?.examples?.[0]
        if (example !== undefined && media.example === undefined) media.example = example
      }
    }
  }
  return document
}

/** GET /evaluate/{name} takes any attribute in its query string: documented as one exploded object parameter. */
function withQueryAttributes<T> (document: T): T {
  const operation = (document as { paths?: Record<string, Record<string, { parameters?: unknown[] }>> }).paths?.['/evaluate/{name}']?.get
  operation?.parameters?.push(EVALUATE_QUERY_ATTRIBUTES)
  return document
}

/** The registered schemas (schemas/registry.ts) as OpenAPI components (named by `$id`), the document at /openapi.json, Swagger UI at /docs. */
export default fp(async function openapi (app) {
  for (const schema of SCHEMAS) app.addSchema(schema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Flagpost',
        version: '0.1.0',
        description: 'Feature flags: CRUD, targeting and evaluation. Errors are application/problem+json with a stable `code`.',
        license: { name: 'MIT', identifier: 'MIT' }
      },
      // The host that served this document: the API is at its root, where Swagger UI's "Try it out"
      // and a same-origin browser client send their requests. An absolute URL would be wrong for every
      // deployment but one; generated clients take the real one as their base URL (baseUrl / baseURL).
      servers: [{ url: '/', description: 'This server: the host that served this document' }],
      tags: [
        { name: 'flags', description: 'Create, read, update, delete and rename flags' },
        { name: 'overrides', description: 'Switch a flag on or off for one customer or user (evaluation steps 3 and 4)' },
        { name: 'customers', description: 'Registered customers, and the flags each one has' },
        { name: 'users', description: 'Registered users, each optionally of one customer' },
        { name: 'evaluation', description: 'Evaluate flags for a context' },
        { name: 'ofrep', description: 'OpenFeature Remote Evaluation Protocol (OFREP 0.3.0) for OpenFeature providers; errors are OFREP bodies' },
        { name: 'environments', description: 'Environments (development, production…): each flag is configured per environment; every environment-scoped path is also served under /environments/{environment}' },
        { name: 'history', description: 'The change log read back: who changed what, when, before and after; a flag\'s history; revert' },
        { name: 'streaming', description: 'Server-sent event streams: OFREP change notifications per environment, and the change log as it is written' },
        { name: 'api-keys', description: 'Managed API keys with roles (admin, editor, viewer, client) and environments; the secret is shown once' },
        { name: 'health', description: 'Liveness and readiness' }
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key (writes always, by role; reads and evaluations when AUTH_READS=true, or to address a client key\'s environment)' },
          bearer: { type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token' }
        }
      }
    },
    transformObject: (document) => 'openapiObject' in document ? withQueryAttributes(withRequestExamples(document.openapiObject)) : document.swaggerObject,
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
})
