import type { FlagDefinition } from '../engine/types.js'
import type { StoredFlag } from './flag-repository.js'

/** The engine's view of a stored flag. */
export function toDefinition (flag: StoredFlag): FlagDefinition {
  return {
    name: flag.name,
    bucketing_seed: flag.bucketingSeed,
    type: flag.type,
    enabled: flag.enabled,
    variants: flag.variants,
    default_variant: flag.defaultVariant,
    off_variant: flag.offVariant,
    targeting_rules: flag.targetingRules,
    metadata: flag.metadata,
    version: flag.version
  }
}
