import Type, { type Static } from 'typebox'
import { NextCursor, Pagination, ref } from './common.js'
import { EvaluationResult } from './evaluate.js'
import { LIMITS, VARIANT_NAME_PATTERN } from './flags.js'
import { SUBJECT_ID_RULE } from './names.js'

const ID_DESCRIPTION = '1–256 characters: letters, digits and `_ . @ + : | = ~ -`, starting with a letter, digit or `_`'
// Postgres text cannot hold NUL, and no name needs one: refuse it at the door.
const NO_NUL = '^[^\\u0000]*$'

const subjectId = (description: string) =>
  Type.String({ minLength: 1, maxLength: SUBJECT_ID_RULE.maxLength, pattern: SUBJECT_ID_RULE.pattern, description, examples: ['acme', '42', 'alice@example.com'] })
export const SubjectId = subjectId(ID_DESCRIPTION)
/** In a body an id may also be a JSON integer (the original service's numeric ids); it is stored as its decimal string. */
export const SubjectIdInput = Type.Union([SubjectId, Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })], {
  $id: 'SubjectIdInput',
  description: `${ID_DESCRIPTION}; a non-negative integer is taken as its decimal string`
})
const Timestamp = Type.String({ format: 'date-time' })

export const Customer = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp
}, { $id: 'Customer', description: 'A registered customer (an account, a tenant)' })
export type CustomerBody = Static<typeof Customer>

export const CustomerCreate = Type.Object({
  id: ref(SubjectIdInput),
  name: Type.Optional(Type.String({ maxLength: LIMITS.customerName, pattern: NO_NUL, description: 'A human-readable name' }))
}, { $id: 'CustomerCreate', additionalProperties: false })

export const CustomerList = Type.Object({ customers: Type.Array(ref(Customer)), next_cursor: ref(NextCursor) }, { $id: 'CustomerList' })

export const User = Type.Object({
  id: Type.String(),
  customer_id: Type.Union([Type.String(), Type.Null()], { description: 'The customer the user belongs to; evaluation infers it when a context has none' }),
  created_at: Timestamp
}, { $id: 'User', description: 'A registered user' })
export type UserBody = Static<typeof User>

export const UserCreate = Type.Object({
  id: ref(SubjectIdInput),
  customer_id: Type.Optional(Type.Union([ref(SubjectIdInput), Type.Null()], { description: 'The user\'s customer; an unknown customer is registered' }))
}, { $id: 'UserCreate', additionalProperties: false })

export const UserList = Type.Object({ users: Type.Array(ref(User)), next_cursor: ref(NextCursor) }, { $id: 'UserList' })

export const SubjectKind = Type.Union([Type.Literal('customer'), Type.Literal('user')], { $id: 'SubjectKind', description: 'What an override switches the flag for: a customer or a user' })

export const Override = Type.Object({
  flag: Type.String({ description: 'The flag name' }),
  subject: ref(SubjectKind),
  id: Type.String({ description: 'The customer or user id' }),
  enabled: Type.Boolean(),
  variant: Type.Union([Type.String(), Type.Null()], { description: 'The variant served; null: the default variant when enabled, else the off variant' }),
  updated_at: Timestamp
}, { $id: 'Override', description: 'An explicit switch of one flag for one customer or user (evaluation steps 3 and 4)' })
export type OverrideBody = Static<typeof Override>

export const OverrideWrite = Type.Object({
  enabled: Type.Boolean({ description: 'true serves the flag\'s default variant (or `variant`), false its off variant' }),
  variant: Type.Optional(Type.Union([Type.String({ pattern: VARIANT_NAME_PATTERN, description: 'One of the flag\'s variants' }), Type.Null()]))
}, { $id: 'OverrideRequest', additionalProperties: false, description: 'Set (create or replace) an override' })

export const OverrideList = Type.Object({ overrides: Type.Array(ref(Override)), next_cursor: ref(NextCursor) }, { $id: 'OverrideList' })

export const CustomerFlagList = Type.Object({
  flags: Type.Array(ref(EvaluationResult), { description: 'By name' })
}, { $id: 'CustomerFlagList', description: 'The flags a customer has: those whose evaluation for `{customer_id}` is not the off variant' })

export const CustomerListQuery = Type.Object({ ...Pagination }, { additionalProperties: false })
export const UserListQuery = Type.Object({
  ...Pagination,
  customer_id: Type.Optional(subjectId('Only the users of this customer'))
}, { additionalProperties: false })
export const OverrideListQuery = Type.Object({
  ...Pagination,
  subject: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('user')], { description: 'Only overrides of customers, or of users' })),
  state: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { description: 'Only overrides that switch the flag on, or off' })),
  q: Type.Optional(Type.String({
    minLength: 1,
    maxLength: SUBJECT_ID_RULE.maxLength,
    pattern: NO_NUL,
    description: 'Only ids that start with this (a prefix, case-sensitive, every character literal); the cursor continues within it',
    examples: ['acme', 'alice@']
  }))
}, { additionalProperties: false })
export const FlagCustomersQuery = Type.Object({
  ...Pagination,
  state: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('explicitly_enabled'), Type.Literal('explicitly_disabled')], {
    default: 'enabled',
    description: '`enabled`: every registered customer the flag is on for (effective: overrides, targeting, rollout by customer_id, ' +
      'kill switch); `explicitly_enabled` / `explicitly_disabled`: customers with an override on / off'
  }))
}, { additionalProperties: false })

export const SubjectParams = Type.Object({ id: SubjectId })
export const FlagSubjectParams = Type.Object({ name: Type.String({ maxLength: 256, description: 'Flag name' }), id: SubjectId })

/** A body id: JSON integers are the original service's numeric ids. */
export const idOf = (id: string | number): string => typeof id === 'number' ? String(id) : id

export const subjectSchemas = [SubjectIdInput, SubjectKind, Customer, CustomerCreate, CustomerList, User, UserCreate, UserList, Override, OverrideWrite, OverrideList, CustomerFlagList]
