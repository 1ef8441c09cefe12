import { sqliteTable, text, integer, index, primaryKey } from 'drizzle-orm/sqlite-core'
import type { FlagType, JsonValue, TargetingRules } from '../../engine/types.js'
import type { ApiKeyRole, OverrideKey } from './shared.js'

export type { OverrideKey }

/** Flags. `id` is app-generated so a rename changes only `name` and rows that reference the flag stay put. */
export const flags = sqliteTable('flags', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** What rollouts hash before the bucket value (SPEC §2.4): the first name unless set, kept on rename. */
  bucketingSeed: text('bucketing_seed').notNull(),
  description: text('description').notNull().default(''),
  type: text('type').$type<FlagType>().notNull(),
  variants: text('variants', { mode: 'json' }).$type<Record<string, JsonValue>>().notNull(),
  tags: text('tags', { mode: 'json' }).$type<string[]>().notNull(),
  metadata: text('metadata', { mode: 'json' }).$type<Record<string, string | number | boolean>>().notNull(),
  version: integer('version').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull()
})

/** Environments (SPEC §9): every flag has one configuration in each. */
export const environments = sqliteTable('environments', {
  key: text('key').primaryKey(),
  name: text('name').notNull(),
  position: integer('position').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull()
})

/** A flag's configuration in one environment: what it serves there. Created for every environment with the flag. */
export const flagEnvironments = sqliteTable('flag_environments', {
  flagId: text('flag_id').notNull().references(() => flags.id, { onDelete: 'cascade' }),
  environment: text('environment').notNull().references(() => environments.key, { onDelete: 'cascade', onUpdate: 'cascade' }),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  defaultVariant: text('default_variant').notNull(),
  offVariant: text('off_variant').notNull(),
  targetingRules: text('targeting_rules', { mode: 'json' }).$type<TargetingRules>().notNull()
}, (t) => [primaryKey({ columns: [t.flagId, t.environment] }), index('flag_environments_environment_idx').on(t.environment)])

/** Every write appends one row in the same transaction; its id is the global revision. */
export const changeLog = sqliteTable('change_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  /** The environment the change was made in; null for what is global (customers, users, keys). */
  environment: text('environment'),
  /** The flag the change is about (flag and override writes): its id, which renames keep, for its history. */
  flagId: text('flag_id'),
  /** That flag's name as the change left it (the new name for a rename): the `flag` filter of GET /changes. */
  flag: text('flag'),
  /** Flag names the change touched (both names for a rename): what caches must refresh. */
  names: text('names', { mode: 'json' }).$type<string[]>().notNull(),
  /** Users whose registration changed (their customer is inferred at evaluation): what caches must refresh. */
  users: text('users', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /** Single overrides the write set or cleared, as [flag name, subject, id]: patched in place, not reloaded. */
  overrides: text('overrides', { mode: 'json' }).$type<OverrideKey[]>().notNull().default([]),
  before: text('before', { mode: 'json' }).$type<unknown>(),
  after: text('after', { mode: 'json' }).$type<unknown>()
}, (t) => [index('change_log_at_idx').on(t.at), index('change_log_flag_id_idx').on(t.flagId, t.id), index('change_log_flag_idx').on(t.flag, t.id)])

/** Facts about the database itself, one row each (e.g. `deployment_id`). */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull()
})

/** Managed API keys (SPEC §10), the bootstrap admin key among them; only SHA-256 hashes are stored. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  keyHash: text('key_hash').notNull().unique(),
  role: text('role').$type<ApiKeyRole>().notNull(),
  /** The environments the key may address; empty: every one (admin keys). */
  environments: text('environments', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /** The secret's first characters, to recognise a key in a listing. */
  prefix: text('prefix').notNull().default(''),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
  /** Coarse: written at most once a minute per key, never once per request. */
  lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' })
})

/** Registered customers (SPEC §2.3). */
export const customers = sqliteTable('customers', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull()
})

/** Registered users; a user's customer is inferred at evaluation when the context names none. */
export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  customerId: text('customer_id'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull()
}, (t) => [index('users_customer_idx').on(t.customerId)])

/**
 * Explicit per-subject switches: rows, not JSON inside the flag, so they scale to 100k+ per flag.
 * Keyed by the flag's id, so a rename keeps them; deleting the flag deletes them.
 */
export const overrides = sqliteTable('overrides', {
  flagId: text('flag_id').notNull().references(() => flags.id, { onDelete: 'cascade' }),
  environment: text('environment').notNull().references(() => environments.key, { onDelete: 'cascade', onUpdate: 'cascade' }),
  subject: text('subject').$type<'customer' | 'user'>().notNull(),
  subjectId: text('subject_id').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  variant: text('variant'),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull()
}, (t) => [
  primaryKey({ columns: [t.flagId, t.environment, t.subject, t.subjectId] }),
  // "which flags does this subject have overrides on" (removing a subject, a customer's flags)
  index('overrides_subject_idx').on(t.subject, t.subjectId),
  // "explicitly enabled / disabled customers of a flag", in id order for pagination
  index('overrides_state_idx').on(t.flagId, t.environment, t.subject, t.enabled, t.subjectId)
])

export type FlagRow = typeof flags.$inferSelect
export type FlagEnvironmentRow = typeof flagEnvironments.$inferSelect
export type EnvironmentRow = typeof environments.$inferSelect
export type ChangeLogRow = typeof changeLog.$inferSelect
