import type { TSchema } from 'typebox'
import { commonSchemas } from './common.js'
import { apiKeySchemas } from './api-keys.js'
import { environmentSchemas } from './environments.js'
import { historySchemas } from './history.js'
import { evaluateSchemas } from './evaluate.js'
import { flagSchemas } from './flags.js'
import { ofrepSchemas } from './ofrep.js'
import { subjectSchemas } from './subjects.js'

/**
 * The schema registry: every named schema (by `$id`), listed once. It feeds the request validators
 * (validation.ts, for every route) and the OpenAPI components (plugins/swagger.ts), so a schema added
 * to one of the lists below is known everywhere at once. (The library takes no HTTP bodies: it checks
 * its arguments with the same rules, schemas/names.ts and LIMITS, and the services check the rest.)
 */
export const SCHEMAS: readonly TSchema[] = [...commonSchemas, ...flagSchemas, ...evaluateSchemas, ...ofrepSchemas, ...subjectSchemas, ...environmentSchemas, ...apiKeySchemas, ...historySchemas]
