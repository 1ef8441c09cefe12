import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'

/** The committed artifacts of the generated client (`flagpost/client`). */
export const OPENAPI_PATH = fileURLToPath(new URL('../src/client/openapi.json', import.meta.url))
export const SCHEMA_PATH = fileURLToPath(new URL('../src/client/schema.ts', import.meta.url))

/**
 * The OpenAPI document exactly as `GET /openapi.json` serves it, from the app built in-process on an
 * in-memory database (no server, no environment: the document does not depend on configuration).
 */
export async function openapiDocument (): Promise<OpenAPI3> {
  const container = await createContainer(loadConfig({ DATABASE_URL: ':memory:', LOG_LEVEL: 'silent' }), { poll: false })
  try {
    const app = await buildApp(container)
    try {
      const res = await app.inject({ method: 'GET', url: '/openapi.json' })
      if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}: ${res.body}`)
      return res.json() as OpenAPI3
    } finally {
      await app.close()
    }
  } finally {
    await container.close()
  }
}

/**
 * Both generated files as they must be committed: the document (pretty JSON) and its types, which are
 * byte for byte what `openapi-typescript src/client/openapi.json -o src/client/schema.ts` writes (the CLI
 * is this same call with the same header). Types only, so it compiles to an empty module and tsc emits
 * the `.d.ts` that `dist/client` needs.
 */
export async function generateClientSources (): Promise<{ openapi: string, schema: string }> {
  const document = await openapiDocument()
  const schema = `${COMMENT_HEADER}${astToString(await openapiTS(structuredClone(document), { silent: true }))}`
  return { openapi: `${JSON.stringify(document, null, 2)}\n`, schema }
}

/**
 * The committed files that differ from what generation produces now (empty: no drift). The paths (and a
 * generation already made) are parameters only so that a test can show a stale copy is caught.
 */
export async function driftedFiles (
  { openapiPath = OPENAPI_PATH, schemaPath = SCHEMA_PATH }: { openapiPath?: string, schemaPath?: string } = {},
  generated?: { openapi: string, schema: string }
): Promise<string[]> {
  const fresh = generated ?? await generateClientSources()
  const committed = async (path: string): Promise<string | null> => readFile(path, 'utf8').catch(() => null)
  const drifted: string[] = []
  if (await committed(openapiPath) !== fresh.openapi) drifted.push(openapiPath)
  if (await committed(schemaPath) !== fresh.schema) drifted.push(schemaPath)
  return drifted
}
