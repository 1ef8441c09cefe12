import type { StoredFlag } from '../../src/repositories/flag-repository.js'

/** The time every fixture row carries unless a test says otherwise. */
export const FIXED_AT = new Date(1_700_000_000_000)

/**
 * A flag as a repository stores it, in `production`: boolean, on for everyone (100 %), id `id-<name>`,
 * written at FIXED_AT; `over` replaces any field. The one fixture the repository suites build rows from.
 */
export const storedFlag = (name: string, over: Partial<StoredFlag> = {}): StoredFlag => ({
  id: `id-${name}`,
  name,
  environment: 'production',
  bucketingSeed: name,
  description: '',
  type: 'boolean',
  enabled: true,
  variants: { on: true, off: false },
  defaultVariant: 'on',
  offVariant: 'off',
  targetingRules: { user_ids: [], customer_ids: [], rules: [], percentage: 100, rollout: null, bucket_by: 'user_id' },
  tags: [],
  metadata: {},
  version: 1,
  createdAt: FIXED_AT,
  updatedAt: FIXED_AT,
  ...over
})
