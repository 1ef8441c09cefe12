import Type from 'typebox'
import { DateTimeInput, FlagName, NextCursor, Pagination, ref } from './common.js'
import { EnvironmentKey } from './environments.js'

/** Actions as the change log records them (`flag.update`), or a group of them (`flag`). */
export const ACTION_PATTERN = '^[a-z][a-z_]{0,31}(\\.[a-z][a-z_]{0,31})?$'

const Revision = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'A revision: the id of a change-log entry' })

/** One change-log entry (SPEC §11). */
export const Change = Type.Object({
  revision: Type.Integer({ description: 'The global revision this write made' }),
  at: Type.String({ format: 'date-time', description: 'When it committed' }),
  actor: Type.String({ description: 'Who made it: an API key\'s name, `env-key:<hash prefix>` for API_KEY/READ_API_KEY, `cli`, `library`, `system`…' }),
  action: Type.String({ description: '`flag.create|update|rename|delete|promote|revert`, `override.set|clear`, `customer.*`, `user.*`, `environment.*`, `api_key.*`', examples: ['flag.update'] }),
  environment: Type.Union([Type.String(), Type.Null()], { description: 'The environment it was made in; null for what is global (customers, users, keys)' }),
  flag: Type.Union([Type.String(), Type.Null()], { description: 'The flag it is about, by its name after the change; null for other changes' }),
  before: Type.Unknown({ description: 'The resource before (null for a creation): a flag as GET /flags/{name} shows it, an override, a customer…' }),
  after: Type.Unknown({ description: 'The resource after (null for a deletion); a revert adds `reverted_to`, a promotion `promoted_from`' }),
  changed: Type.Array(Type.String(), { description: 'The fields that differ, one level deep (`enabled`, `targeting_rules.percentage`, `variants.on`)' })
}, { $id: 'Change', additionalProperties: false })

export const ChangeList = Type.Object({
  changes: Type.Array(ref(Change), { description: 'Newest first' }),
  next_cursor: ref(NextCursor)
}, { $id: 'ChangeList', additionalProperties: false })

export const ChangeListQuery = Type.Object({
  flag: Type.Optional(FlagName),
  environment: Type.Optional(EnvironmentKey),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  action: Type.Optional(Type.String({ pattern: ACTION_PATTERN, maxLength: 65, description: 'One action (`flag.update`) or a group (`flag`: every `flag.*`)' })),
  from_revision: Type.Optional(Revision),
  to_revision: Type.Optional(Revision),
  since: Type.Optional({ ...DateTimeInput, description: 'Entries at or after this time (RFC 3339)' }),
  until: Type.Optional({ ...DateTimeInput, description: 'Entries before this time (RFC 3339)' }),
  ...Pagination
}, { additionalProperties: false })

export const FlagHistoryQuery = Type.Object({ ...Pagination }, { additionalProperties: false })

export const RevertRequest = Type.Object({
  revision: { ...Revision, description: 'Serve the flag in this environment as it was at this revision' }
}, { $id: 'RevertRequest', additionalProperties: false })

export const historySchemas = [Change, ChangeList, RevertRequest]
