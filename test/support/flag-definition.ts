import type { FlagDefinition, TargetingRules } from '../../src/engine/types.js'

/** Targeting rules with nothing set (no ids, no rules, 100 %, no rollout); `over` replaces any field. */
export const targeting = (over: Partial<TargetingRules> = {}): TargetingRules =>
  ({ user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id', ...over })

/**
 * A flag as the engine compiles it: boolean (`on`/`off`), switched on, serving `on` to everyone,
 * version 1, no metadata; `over` replaces any field.
 */
export const flagDefinition = (name: string, over: Partial<FlagDefinition> = {}): FlagDefinition => ({
  name,
  type: 'boolean',
  enabled: true,
  variants: { on: true, off: false },
  default_variant: 'on',
  off_variant: 'off',
  targeting_rules: targeting(),
  metadata: {},
  version: 1,
  ...over
})
