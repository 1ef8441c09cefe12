import type { FlagType } from '../engine/types.js'
import type { Static } from 'typebox'
import type { TargetingRulesPatch } from '../schemas/flags.js'

/**
 * What the flag service is asked to do, in the domain's own words (camelCase, as StoredFlag), whoever
 * asks: the HTTP routes, the CLI and the library each map their input to these once, at their edge.
 * Targeting is written in the engine's vocabulary (`user_ids`, `bucket_by`…: the stored JSON's names).
 */

/**
 * How a flag's targeting is written: every part optional; in a change, null removes (RFC 7396). Its
 * shape is the stored JSON's, so the schema component that documents it is its one definition.
 */
export type TargetingInput = Static<typeof TargetingRulesPatch>
export type MetadataInput = Record<string, string | number | boolean | null>

/** A flag's written state: anything left out takes its default; `defaultValue`/`offValue` write those variants' values. */
export interface FlagSpec {
  bucketingSeed?: string | null
  description?: string | null
  type?: FlagType | null
  enabled?: boolean | null
  variants?: Record<string, unknown> | null
  defaultVariant?: string | null
  offVariant?: string | null
  defaultValue?: unknown
  offValue?: unknown
  targetingRules?: TargetingInput | null
  tags?: string[] | null
  metadata?: MetadataInput | null
}

/** A new flag. */
export interface NewFlag extends FlagSpec { name: string }

/** A change to a flag: a merge patch of its written state (null removes a member, at every depth). `name` may only repeat the current one. */
export interface FlagChange extends FlagSpec { name?: string }
