import createClient, { type Client, type ClientOptions } from 'openapi-fetch'
import type { components, paths } from './schema.js'

/** Every path, operation and schema of the Flagpost HTTP API, generated from `/openapi.json` (`npm run generate:client`). */
export type { components, operations, paths } from './schema.js'

/** The API's named schemas (`Schemas['Flag']`, `Schemas['Problem']`…): the `components.schemas` of the OpenAPI document. */
export type Schemas = components['schemas']
/** A flag as the API returns it. */
export type Flag = Schemas['Flag']
/** The body of `POST /flags`. */
export type FlagCreate = Schemas['FlagCreate']
/** The body of `PUT /flags/{name}` (JSON Merge Patch). */
export type FlagPatch = Schemas['FlagPatch']
/** One evaluation: `{name, value, variant, reason, type, version, rule, metadata}`. */
export type EvaluationResult = Schemas['EvaluationResult']
/** A registered customer. */
export type Customer = Schemas['Customer']
/** A registered user. */
export type User = Schemas['User']
/** An explicit switch of one flag for one customer or user. */
export type Override = Schemas['Override']
/** Every error body (`application/problem+json`) with its stable `code`, e.g. `FLAGPOST_ERR_FLAG_NOT_FOUND`. */
export type Problem = Schemas['Problem']

export interface FlagpostClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** The service's root URL, e.g. `http://localhost:5000`. */
  baseUrl: string
  /** Sent as `X-API-Key`: required for writes, and for reads when the server runs with `AUTH_READS=true`. */
  apiKey?: string
  /** Extra headers sent with every request. */
  headers?: Record<string, string>
}

/** A typed `openapi-fetch` client: `GET`, `POST`, `PUT`, `DELETE` over the API's paths, returning `{ data, error, response }`. */
export type FlagpostClient = Client<paths>

/**
 * A typed client for a remote Flagpost service. Paths, parameters, bodies and responses (errors included,
 * as `Problem`) are checked by the compiler against the generated OpenAPI types.
 *
 * @example
 * import { createFlagpostClient } from 'flagpost/client'
 *
 * const client = createFlagpostClient({ baseUrl: 'http://localhost:5000', apiKey: process.env.FLAGPOST_KEY })
 * const { data, error } = await client.GET('/flags/{name}', { params: { path: { name: 'new_checkout_flow' } } })
 * if (error) console.error(error.code, error.detail)   // e.g. FLAGPOST_ERR_FLAG_NOT_FOUND
 * else console.log(data.version, data.targeting_rules.percentage)
 */
export function createFlagpostClient ({ baseUrl, apiKey, headers, ...options }: FlagpostClientOptions): FlagpostClient {
  return createClient<paths>({ ...options, baseUrl, headers: { ...headers, ...(apiKey !== undefined ? { 'X-API-Key': apiKey } : {}) } })
}
