/**
 * The scale dataset (issue 6): N flags of ten kinds, and optionally 100,000 overrides with the
 * customers and users they name, in a SQLite file, plus the request mix that loads it.
 *
 * The ten kind flags (flag-00000 … flag-00009) are created through the flag service, so they are
 * validated like any written flag; the other flags are SQL copies of them (flag i copies kind
 * i % 10) and the subjects are bulk rows in one transaction: writing 100k rows one API call at a
 * time measures fsync, not Flagpost.
 */
import type autocannon from 'autocannon'
import Database from 'better-sqlite3'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import type { FlagSpec } from '../../src/services/flag-commands.js'

export const KINDS = 10
export const CUSTOMERS = 20_000
export const USERS = 50_000
/** Flags with one customer override for every customer: 4 × 20,000. */
export const CROWDED = [1002, 3502, 6002, 8502]
/** Every fifth flag (i % 5 === 1) has ten user overrides: 2,000 × 10 at 10k flags. */
export const USER_OVERRIDES_PER_FLAG = 10

const pad = (n: number, width = 5): string => String(n).padStart(width, '0')
export const flagName = (i: number): string => `flag-${pad(i)}`
export const customerId = (i: number): string => `cust-${pad(i)}`
export const userId = (i: number): string => `user-${pad(i)}`

const meta = { owner: 'team-growth', ticket: 'FP-1234' }
const fiveRules = [
  { id: 'north-america', clauses: [{ attribute: 'country', operator: 'in' as const, values: ['US', 'CA', 'MX'] }], serve: { variant: 'on' } },
  { id: 'staff', clauses: [{ attribute: 'email', operator: 'starts_with' as const, values: ['admin@'] }], serve: { variant: 'on' } },
  { id: 'new-app', clauses: [{ attribute: 'app_version', operator: 'semver_gte' as const, values: ['4.0.0'] }], serve: { variant: 'on' } },
  { id: 'seniors', clauses: [{ attribute: 'age', operator: 'gt' as const, values: [65] }], serve: { variant: 'off' } },
  { id: 'internal', clauses: [{ attribute: 'user_id', operator: 'matches' as const, values: ['^internal-[0-9]+$'] }], serve: { variant: 'on' } }
]

/** The ten kinds, as written to the flag service: the mix of a real flag set. */
const kinds: FlagSpec[] = [
  { defaultValue: true, metadata: meta }, // on for everyone: STATIC
  { defaultValue: true, targetingRules: { user_ids: Array.from({ length: 20 }, (_, i) => userId(i * 2500)) }, metadata: meta },
  { defaultValue: true, targetingRules: { percentage: 50 }, metadata: meta },
  {
    type: 'string',
    variants: { control: 'a', blue: 'b', green: 'c' },
    defaultVariant: 'control',
    offVariant: 'control',
    targetingRules: { rollout: { control: 34, blue: 33, green: 33 } },
    metadata: meta
  },
  {
    defaultValue: true,
    metadata: meta,
    targetingRules: {
      percentage: 25,
      rules: [{ id: 'eu-new', clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'FR'] }, { attribute: 'app_version', operator: 'semver_gte', values: ['3.0.0'] }], serve: { variant: 'on' } }]
    }
  },
  { defaultValue: true, variants: { blue: true }, targetingRules: { rollout: { on: 10, blue: 45, off: 45 }, rules: fiveRules }, metadata: meta },
  { defaultValue: true, targetingRules: { customer_ids: Array.from({ length: 10 }, (_, i) => customerId(i * 2000)), percentage: 10 }, metadata: meta },
  { defaultValue: true, enabled: false, metadata: meta }, // kill switch
  {
    type: 'string',
    defaultValue: 'new',
    offValue: 'old',
    metadata: meta,
    targetingRules: { percentage: 0, rules: [{ id: 'example-staff', clauses: [{ attribute: 'email', operator: 'ends_with', values: ['@example.com'] }], serve: { variant: 'on' } }] }
  },
  { type: 'json', defaultValue: { limit: 100, theme: 'dark' }, offValue: { limit: 10, theme: 'light' }, metadata: meta }
]

export interface DatasetSize { flags: number, overrides: number, customers: number, users: number }

/**
 * Create `flags` flags in the (new) SQLite file at `path`; with `subjects`, also CUSTOMERS customers,
 * USERS users (each with a customer) and the overrides: every customer on each CROWDED flag
 * (one in four switched on) plus USER_OVERRIDES_PER_FLAG users on every fifth flag.
 */
export async function seedDataset (path: string, { flags, subjects }: { flags: number, subjects: boolean }): Promise<DatasetSize> {
  const config = loadConfig({ DATABASE_URL: `file:${path}`, LOG_LEVEL: 'silent' })
  // Everything goes to the default environment: the one the load's requests (no ?environment) evaluate.
  const environment = config.defaultEnvironment
  const container = await createContainer(config, { poll: false })
  try {
    for (let k = 0; k < Math.min(KINDS, flags); k++) await container.services.flags.create(environment, { name: flagName(k), ...kinds[k] }, { actor: 'bench' })
  } finally {
    await container.close()
  }
  const db = new Database(path)
  try {
    const size = { flags, overrides: 0, customers: 0, users: 0 }
    db.transaction(() => {
      // A copy is a flag as the service would create it: its own bucketing seed (its name), and the
      // configuration of its kind in every environment.
      const copy = db.prepare(`insert into flags (id, name, bucketing_seed, description, type, variants, tags, metadata, version, created_at, updated_at)
        select ?, ?, ?, description, type, variants, tags, metadata, version, created_at, updated_at
        from flags where name = ?`)
      const copyConfig = db.prepare(`insert into flag_environments (flag_id, environment, enabled, default_variant, off_variant, targeting_rules)
        select ?, environment, enabled, default_variant, off_variant, targeting_rules
        from flag_environments where flag_id = (select id from flags where name = ?)`)
      for (let i = KINDS; i < flags; i++) {
        copy.run(`bench-${pad(i)}`, flagName(i), flagName(i), flagName(i % KINDS))
        copyConfig.run(`bench-${pad(i)}`, flagName(i % KINDS))
      }
      if (!subjects) return
      const now = Date.now()
      const customer = db.prepare('insert into customers (id, name, created_at) values (?, null, ?)')
      const user = db.prepare('insert into users (id, customer_id, created_at) values (?, ?, ?)')
      const override = db.prepare(`insert into overrides (flag_id, environment, subject, subject_id, enabled, variant, created_at, updated_at)
        values ((select id from flags where name = ?), ?, ?, ?, ?, null, ?, ?)`)
      for (let c = 0; c < CUSTOMERS; c++) customer.run(customerId(c), now)
      for (let u = 0; u < USERS; u++) user.run(userId(u), customerId(u % CUSTOMERS), now)
      size.customers = CUSTOMERS
      size.users = USERS
      for (const f of CROWDED.filter((i) => i < flags)) {
        for (let c = 0; c < CUSTOMERS; c++) override.run(flagName(f), environment, 'customer', customerId(c), c % 4 === 0 ? 1 : 0, now, now)
        size.overrides += CUSTOMERS
      }
      for (let f = 1; f < flags; f += 5) {
        for (let k = 0; k < USER_OVERRIDES_PER_FLAG; k++) override.run(flagName(f), environment, 'user', userId((f * USER_OVERRIDES_PER_FLAG + k) % USERS), k % 2, now, now)
        size.overrides += USER_OVERRIDES_PER_FLAG
      }
    })()
    return size
  } finally {
    db.close()
  }
}

/**
 * The contexts of the load, the same for every dataset size: request j evaluates flag
 * (j × 7919) mod `flags` (9,000 flags once each per 10,000 requests at 10k flags; the same
 * sequence of kinds at 10 flags), except every tenth, which goes to one of the CROWDED flags of
 * the same kind (a flag with an override for every customer is a busy one; at 10 flags, that is
 * the one flag of that kind),
 * for one of the registered users (their customer is inferred) and, every second request, an
 * explicit customer.
 */
export function requestContexts (count: number, flags: number): Array<{ flag: string, context: Record<string, string | number> }> {
  const countries = ['DE', 'US', 'FR', 'BR', 'JP']
  const versions = ['2.5.1', '3.1.0', '1.9.0']
  return Array.from({ length: count }, (_, j) => {
    const user = userId((j * 4099) % USERS)
    const context: Record<string, string | number> = { user_id: user }
    if (j % 2 === 0) context.customer_id = customerId((j * 13) % CUSTOMERS)
    context.country = countries[j % countries.length]
    context.app_version = versions[j % versions.length]
    context.email = `${user}@example.com`
    // j ≡ 8 (mod 10) is where the stride lands on kind 2, the kind of the crowded flags: the mix of kinds stays the same.
    const flag = j % 10 === 8 ? CROWDED[Math.floor(j / 10) % CROWDED.length] % flags : (j * 7919) % flags
    return { flag: flagName(flag), context }
  })
}

/** The load's `count` requests for a dataset of `flags` flags: GET with the context in the query, OFREP with it in the body. */
export function loadRequests (count: number, flags: number): { get: autocannon.Request[], ofrep: autocannon.Request[] } {
  const contexts = requestContexts(count, flags)
  return {
    get: contexts.map(({ flag, context }) => ({ method: 'GET', path: `/evaluate/${flag}?${new URLSearchParams(context as Record<string, string>)}` })),
    ofrep: contexts.map(({ flag, context: { user_id: targetingKey, ...rest } }) => ({
      method: 'POST',
      path: `/ofrep/v1/evaluate/flags/${flag}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey, ...rest } })
    }))
  }
}

/** The two bulk requests for each of `count` contexts: OFREP (targetingKey) and POST /evaluate (user_id). */
export function bulkRequests (count: number): { ofrep: autocannon.Request[], evaluate: autocannon.Request[] } {
  const contexts = requestContexts(count, 1).map(({ context }) => context)
  const post = (path: string, body: unknown): autocannon.Request => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return {
    ofrep: contexts.map(({ user_id: targetingKey, ...rest }) => post('/ofrep/v1/evaluate/flags', { context: { targetingKey, ...rest } })),
    evaluate: contexts.map((context) => post('/evaluate', { context }))
  }
}
