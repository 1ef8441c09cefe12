import { pgTable, text, integer, boolean, json, timestamp, index, primaryKey, customType } from 'drizzle-orm/pg-core'
import type { FlagType, JsonValue, TargetingRules } from '../../engine/types.js'
import type { ApiKeyRole, OverrideKey } from './shared.js'

// The Postgres twin of sqlite.ts: same tables, columns, indexes and row types ($inferSelect), which
// test/db/schema-parity.test.ts checks at compile time and at run time.
//  - JSON is `json`, not `jsonb`: jsonb reorders object keys, and variant and rollout order decide bucketing.
//  - Timestamps are timestamptz read as Date, like SQLite's integer timestamp_ms.
//  - Keys that are ordered or paged (names, ids, subjects) compare byte by byte (COLLATE "C"), as SQLite
//    and the in-memory fake do, whatever the database's locale: `after=` cursors mean the same everywhere.

/** text COLLATE "C": ordered by code point, never by the server locale. */
const key = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' })
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/** Flags. `id` is app-generated so a rename changes only `name` and rows that reference the flag stay put. */
export const flags = pgTable('flags', {
  id: key('id').primaryKey(),
  name: key('name').notNull().unique(),
  /** What rollouts hash before the bucket value (SPEC §2.4): the first name unless set, kept on rename. */
  bucketingSeed: text('bucketing_seed').notNull(),
  description: text('description').notNull().default(''),
  type: text('type').$type<FlagType>().notNull(),
  variants: json('variants').$type<Record<string, JsonValue>>().notNull(),
  tags: json('tags').$type<string[]>().notNull(),
  metadata: json('metadata').$type<Record<string, string | number | boolean>>().notNull(),
  version: integer('version').notNull(),
  createdAt: at('created_at').notNull(),
  updatedAt: at('updated_at').notNull()
})

/** Environments (SPEC §9): every flag has one configuration in each. */
export const environments = pgTable('environments', {
  key: key('key').primaryKey(),
  name: text('name').notNull(),
  position: integer('position').notNull(),
  createdAt: at('created_at').notNull()
})

/** A flag's configuration in one environment: what it serves there. Created for every environment with the flag. */
export const flagEnvironments = pgTable('flag_environments', {
  flagId: key('flag_id').notNull().references(() => flags.id, { onDelete: 'cascade' }),
  environment: key('environment').notNull().references(() => environments.key, { onDelete: 'cascade', onUpdate: 'cascade' }),
  enabled: boolean('enabled').notNull(),
  defaultVariant: text('default_variant').notNull(),
  offVariant: text('off_variant').notNull(),
  targetingRules: json('targeting_rules').$type<TargetingRules>().notNull()
}, (t) => [primaryKey({ columns: [t.flagId, t.environment] }), index('flag_environments_environment_idx').on(t.environment)])

/** Every write appends one row in the same transaction; its id is the global revision. */
export const changeLog = pgTable('change_log', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  at: at('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  /** The environment the change was made in; null for what is global (customers, users, keys). */
  environment: text('environment'),
  /** The flag the change is about (flag and override writes): its id, which renames keep, for its history. */
  flagId: text('flag_id'),
  /** That flag's name as the change left it (the new name for a rename): the `flag` filter of GET /changes. */
  flag: text('flag'),
  /** Flag names the change touched (both names for a rename): what caches must refresh. */
  names: json('names').$type<string[]>().notNull(),
  /** Users whose registration changed (their customer is inferred at evaluation): what caches must refresh. */
  users: json('users').$type<string[]>().notNull().default([]),
  /** Single overrides the write set or cleared, as [flag name, subject, id]: patched in place, not reloaded. */
  overrides: json('overrides').$type<OverrideKey[]>().notNull().default([]),
  before: json('before').$type<unknown>(),
  after: json('after').$type<unknown>()
}, (t) => [index('change_log_at_idx').on(t.at), index('change_log_flag_id_idx').on(t.flagId, t.id), index('change_log_flag_idx').on(t.flag, t.id)])

/** Facts about the database itself, one row each (e.g. `deployment_id`). */
export const meta = pgTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull()
})

/** Managed API keys (SPEC §10), the bootstrap admin key among them; only SHA-256 hashes are stored. */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  keyHash: text('key_hash').notNull().unique(),
  role: text('role').$type<ApiKeyRole>().notNull(),
  /** The environments the key may address; empty: every one (admin keys). */
  environments: json('environments').$type<string[]>().notNull().default([]),
  /** The secret's first characters, to recognise a key in a listing. */
  prefix: text('prefix').notNull().default(''),
  createdAt: at('created_at').notNull(),
  expiresAt: at('expires_at'),
  /** Coarse: written at most once a minute per key, never once per request. */
  lastUsedAt: at('last_used_at')
})

/** Registered customers (SPEC §2.3). */
export const customers = pgTable('customers', {
  id: key('id').primaryKey(),
  name: text('name'),
  createdAt: at('created_at').notNull()
})

/** Registered users; a user's customer is inferred at evaluation when the context names none. */
export const users = pgTable('users', {
  id: key('id').primaryKey(),
  customerId: key('customer_id'),
  createdAt: at('created_at').notNull()
}, (t) => [index('users_customer_idx').on(t.customerId)])

/**
 * Explicit per-subject switches: rows, not JSON inside the flag, so they scale to 100k+ per flag.
 * Keyed by the flag's id, so a rename keeps them; deleting the flag deletes them.
 */
export const overrides = pgTable('overrides', {
  flagId: key('flag_id').notNull().references(() => flags.id, { onDelete: 'cascade' }),
  environment: key('environment').notNull().references(() => environments.key, { onDelete: 'cascade', onUpdate: 'cascade' }),
  subject: key('subject').$type<'customer' | 'user'>().notNull(),
  subjectId: key('subject_id').notNull(),
  enabled: boolean('enabled').notNull(),
  variant: text('variant'),
  createdAt: at('created_at').notNull(),
  updatedAt: at('updated_at').notNull()
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
