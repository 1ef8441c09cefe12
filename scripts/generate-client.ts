/**
 * `npm run generate:client`: regenerate the typed HTTP client's sources from the OpenAPI document.
 * `npm run check:client` (`--check`): write nothing, exit 1 when the committed files are stale.
 */
import { writeFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { driftedFiles, generateClientSources, OPENAPI_PATH, SCHEMA_PATH } from './client-codegen.js'

if (process.argv.includes('--check')) {
  const drifted = await driftedFiles()
  if (drifted.length > 0) {
    process.stderr.write(`The generated client is stale (${drifted.map((f) => relative(process.cwd(), f)).join(', ')} no longer match the OpenAPI document): run npm run generate:client and commit the result.\n`)
    process.exitCode = 1
  } else {
    process.stdout.write('The generated client matches the OpenAPI document.\n')
  }
} else {
  const { openapi, schema } = await generateClientSources()
  await writeFile(OPENAPI_PATH, openapi)
  await writeFile(SCHEMA_PATH, schema)
  process.stdout.write('wrote src/client/openapi.json and src/client/schema.ts\n')
}
