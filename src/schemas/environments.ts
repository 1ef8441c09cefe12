import Type from 'typebox'
import { ENVIRONMENT_KEY_RULE } from './names.js'
import { NextCursor, ref } from './common.js'

export const EnvironmentKey = Type.String({
  pattern: ENVIRONMENT_KEY_RULE.pattern,
  maxLength: ENVIRONMENT_KEY_RULE.maxLength,
  description: 'Environment key: lower-case letters, digits, `_`, `-`; at most 32 characters',
  examples: ['production']
})

export const EnvironmentParams = Type.Object({ environment: Type.String({ maxLength: 64, description: 'Environment key' }) })

export const Environment = Type.Object({
  key: EnvironmentKey,
  name: Type.String({ description: 'Display name' }),
  position: Type.Integer({ description: 'Where it is listed (ascending)' }),
  created_at: Type.String({ format: 'date-time' })
}, { $id: 'Environment', additionalProperties: false })

export const EnvironmentList = Type.Object({
  environments: Type.Array(ref(Environment)),
  /** Always null: every environment fits one page. Kept so listings read alike. */
  next_cursor: ref(NextCursor),
  default_environment: Type.String({ description: 'The environment the unprefixed paths address (DEFAULT_ENVIRONMENT)' })
}, { $id: 'EnvironmentList', additionalProperties: false })

const DisplayName = Type.String({ minLength: 1, maxLength: 64, description: 'Display name (defaults to the key)' })
const Position = Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Where it is listed (ascending; default: last)' })

export const EnvironmentCreate = Type.Object({
  key: EnvironmentKey,
  name: Type.Optional(DisplayName),
  position: Type.Optional(Position)
}, { $id: 'EnvironmentCreate', additionalProperties: false })

export const EnvironmentPatch = Type.Object({
  name: Type.Optional(DisplayName),
  position: Type.Optional(Position)
}, { $id: 'EnvironmentPatch', additionalProperties: false })

export const EnvironmentDeleteQuery = Type.Object({
  force: Type.Optional(Type.Boolean({ description: 'Delete even when flags are configured in it (their configurations and overrides go too)' }))
})

export const PromoteRequest = Type.Object({
  from: EnvironmentKey,
  flags: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 1000, description: 'Only these flags (default: every flag)' })),
  include_overrides: Type.Optional(Type.Boolean({ description: 'Also make the target\'s overrides of each flag exactly the source\'s (default false)' })),
  dry_run: Type.Optional(Type.Boolean({ description: 'Only answer what would change (default false)' }))
}, { $id: 'PromoteRequest', additionalProperties: false })

export const PromotedFlag = Type.Object({
  flag: Type.String(),
  changes: Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() }), { description: 'Each configuration field that changes: its value in the target now (from) and after (to)' }),
  overrides: Type.Optional(Type.Object({ added: Type.Integer(), removed: Type.Integer(), changed: Type.Integer() }, { description: 'With include_overrides: how the target\'s overrides of the flag change' }))
}, { $id: 'PromotedFlag', additionalProperties: false })

export const PromoteResult = Type.Object({
  dry_run: Type.Boolean(),
  flags: Type.Array(ref(PromotedFlag), { description: 'The flags whose configuration in the target changes (or would)' })
}, { $id: 'PromoteResult', additionalProperties: false })

export const environmentSchemas = [Environment, EnvironmentList, EnvironmentCreate, EnvironmentPatch, PromoteRequest, PromotedFlag, PromoteResult]
