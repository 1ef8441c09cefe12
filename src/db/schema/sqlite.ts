import { sqliteTable, text, integer, index } from 'drizzle-orm/sqlite-core'
import type { FlagType, JsonValue, TargetingRules } from '../../engine/types.js'

/** Flags. `id` is app-generated so a rename changes only `name` and rows that reference the flag stay put. */
export const flags = sqliteTable('flags', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description').notNull().default(''),
  type: text('type').$type<FlagType>().notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  variants: text('variants', { mode: 'json' }).$type<Record<string, JsonValue>>().notNull(),
  defaultVariant: text('default_variant').notNull(),
  offVariant: text('off_variant').notNull(),
  targetingRules: text('targeting_rules', { mode: 'json' }).$type<TargetingRules>().notNull(),
  tags: text('tags', { mode: 'json' }).$type<string[]>().notNull(),
  metadata: text('metadata', { mode: 'json' }).$type<Record<string, string | number | boolean>>().notNull(),
  version: integer('version').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull()
})

/** Every write appends one row in the same transaction; its id is the global revision. */
export const changeLog = sqliteTable('change_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  /** Flag names the change touched (both names for a rename): what caches must refresh. */
  names: text('names', { mode: 'json' }).$type<string[]>().notNull(),
  before: text('before', { mode: 'json' }).$type<unknown>(),
  after: text('after', { mode: 'json' }).$type<unknown>()
}, (t) => [index('change_log_at_idx').on(t.at)])

/** API keys created by the service itself (the bootstrap admin key); only SHA-256 hashes are stored. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  keyHash: text('key_hash').notNull().unique(),
  scope: text('scope').$type<'read' | 'write'>().notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull()
})

export type FlagRow = typeof flags.$inferSelect
export type ChangeLogRow = typeof changeLog.$inferSelect
