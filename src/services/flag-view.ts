import type { StoredFlag } from '../repositories/flag-repository.js'
import type { FlagBody } from '../schemas/flags.js'

/** The API representation of a flag: always all five value fields, snake_case, ISO timestamps. */
export function toFlagBody (flag: StoredFlag): FlagBody {
  return {
    name: flag.name,
    bucketing_seed: flag.bucketingSeed,
    description: flag.description,
    type: flag.type,
    enabled: flag.enabled,
    default_value: flag.variants[flag.defaultVariant],
    off_value: flag.variants[flag.offVariant],
    variants: flag.variants,
    default_variant: flag.defaultVariant,
    off_variant: flag.offVariant,
    targeting_rules: flag.targetingRules,
    tags: flag.tags,
    metadata: flag.metadata,
    version: flag.version,
    created_at: flag.createdAt.toISOString(),
    updated_at: flag.updatedAt.toISOString()
  }
}
