import Type from 'typebox'
import { DateTimeInput, NextCursor, ref } from './common.js'
import { EnvironmentKey } from './environments.js'
import { API_KEY_NAME_RULE } from './names.js'

const Role = Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer'), Type.Literal('client')], {
  description: 'admin: everything, keys and environments included; editor: flag, customer, user and override writes in its environments; viewer: reads in its environments; client: evaluation only, in its one environment'
})
const Time = Type.String({ format: 'date-time' })

const fields = {
  id: Type.String({ description: 'Key id (not the secret)' }),
  name: Type.String({ description: 'Unique; the actor of the key\'s writes in the change log' }),
  role: Role,
  environments: Type.Array(EnvironmentKey, { description: 'The environments it may address; empty: every one (admin keys, or editor/viewer keys made for all)' }),
  prefix: Type.String({ description: 'The secret\'s first characters, to recognise the key' }),
  created_at: Time,
  expires_at: Type.Union([Time, Type.Null()]),
  last_used_at: Type.Union([Time, Type.Null()], { description: 'Coarse: recorded at most once a minute' })
}

export const ApiKey = Type.Object(fields, { $id: 'ApiKey', additionalProperties: false })

export const ApiKeyCreated = Type.Object({
  ...fields,
  secret: Type.String({ description: 'The key itself (`fp_<role>_…`): shown only in this answer, never again; only its SHA-256 is stored' })
}, { $id: 'ApiKeyCreated', additionalProperties: false })

export const ApiKeyCreate = Type.Object({
  name: Type.String({ pattern: API_KEY_NAME_RULE.pattern, maxLength: API_KEY_NAME_RULE.maxLength }),
  role: Role,
  environments: Type.Optional(Type.Array(EnvironmentKey, { maxItems: 100, description: 'client: exactly one; editor, viewer: the ones it covers (none: every one); admin: none' })),
  expires_at: Type.Optional(Type.Union([
    DateTimeInput,
    Type.Null()
  ], { description: 'When it stops working (default: never)' }))
}, { $id: 'ApiKeyCreate', additionalProperties: false })

export const ApiKeyList = Type.Object({
  api_keys: Type.Array(ref(ApiKey)),
  /** Always null: every key fits one page. Kept so listings read alike. */
  next_cursor: ref(NextCursor)
}, { $id: 'ApiKeyList', additionalProperties: false })

export const CurrentApiKey = Type.Object({
  name: fields.name,
  role: Role,
  environments: fields.environments
}, { $id: 'CurrentApiKey', additionalProperties: false, description: 'The key a request was made with: what it may do (the admin UI follows it)' })

export const ApiKeyParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'Key id' }) })

export const apiKeySchemas = [ApiKey, ApiKeyCreated, ApiKeyCreate, ApiKeyList, CurrentApiKey]
