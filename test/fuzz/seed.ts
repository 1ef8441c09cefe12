import type { TestApp } from '../helper.js'

/**
 * The state every fuzzed app starts from: flags of each type (with variants, rules, rollouts, tags,
 * metadata, one switched off), customers, users and overrides, so generated path parameters often
 * name something that exists.
 */

export const SEED_FLAGS: Array<Record<string, unknown>> = [
  { name: 'seed-bool', description: 'plain boolean', tags: ['web', 'beta'], metadata: { owner: 'team-a', ticket: 42 } },
  { name: 'seed.off', enabled: false },
  {
    name: 'seed_str',
    type: 'string',
    variants: { red: 'red', blue: 'blue', green: 'green' },
    default_variant: 'red',
    off_variant: 'blue',
    targeting_rules: {
      user_ids: ['alice'],
      rules: [{ id: 'de', clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }], serve: { variant: 'green' } },
        {
          clauses: [{ attribute: 'email', operator: 'matches', values: ['^[a-z]+@example\\.com$'] }, { attribute: 'version', operator: 'semver_gte', values: ['1.2.0'] }],
          serve: { rollout: { red: 50, green: 50 } }
        }]
    }
  },
  { name: 'seed-num', type: 'number', default_value: 12.5, off_value: -1, targeting_rules: { percentage: 33.33, customer_ids: ['acme'] } },
  { name: 'seed-json', type: 'json', default_value: { seats: 5, features: ['sso'], trial: false }, off_value: null, tags: ['billing'] },
  {
    name: 'seed-split',
    type: 'string',
    variants: { a: 'A', b: 'B' },
    default_variant: 'a',
    off_variant: 'b',
    targeting_rules: { rollout: { a: 70, b: 30 }, bucket_by: 'customer_id' }
  }
]

export const SEED_CUSTOMERS = [{ id: 'acme', name: 'Acme Inc.' }, { id: 42 }, { id: 'globex.eu', name: 'Globex' }]
export const SEED_USERS = [{ id: 'alice', customer_id: 'acme' }, { id: 'bob@example.com', customer_id: 42 }, { id: 'carol' }]

/** Names the generators prefer for pattern-constrained strings: these exist (or collide) after seeding. */
export const SEED_HINTS = [
  ...SEED_FLAGS.map((f) => String(f.name)), ...SEED_CUSTOMERS.map((c) => String(c.id)), ...SEED_USERS.map((u) => String(u.id)),
  'on', 'off', 'red', 'blue', 'green', 'a', 'b', 'web', 'beta', 'billing', 'user_id', 'customer_id', 'country', 'email', 'version', 'now',
  // Clause values for the operators that parse them: countries, versions, times, patterns (good and hostile).
  'DE', '1.2.0', '2.0.0-rc.1', 'v1', '2024-01-01T00:00:00Z', '2024-13-45', '^[a-z]+@example\\.com$', '(a+)+$', '(', 'a{99999}'
]

/** What already exists, by key: `flag:<name>`, `customer:<id>`, `user:<id>`, `override:<environment>|<flag>|<subject>|<id>`. */
export type Existing = (key: string) => boolean

/** Every (flag, subject) pair with an override in the seed state: most flags, every customer and user. */
export const SEED_OVERRIDES: Array<[flag: string, subject: 'customer' | 'user', id: string, body: Record<string, unknown>]> = [
  ...['seed-bool', 'seed.off', 'seed-num'].flatMap((flag, i) => [
    ...SEED_CUSTOMERS.map((c, j): [string, 'customer', string, Record<string, unknown>] => [flag, 'customer', String(c.id), { enabled: (i + j) % 2 === 0 }]),
    ...SEED_USERS.map((u, j): [string, 'user', string, Record<string, unknown>] => [flag, 'user', String(u.id), { enabled: (i + j) % 2 === 1 }])
  ]),
  ['seed_str', 'user', 'carol', { enabled: true, variant: 'green' }],
  ['seed_str', 'customer', 'acme', { enabled: true, variant: 'blue' }]
]

/**
 * Create the seed state, skipping what `existing` says is there (a reseed restores what earlier requests
 * deleted). Returns the seed writes the API refused: valid requests, so each one is a bug; the fuzz still runs.
 */
export async function seed (ctx: TestApp, existing: Existing = () => false): Promise<string[]> {
  const refused: string[] = []
  const send = async (key: string, method: 'POST' | 'PUT', url: string, payload: unknown): Promise<void> => {
    if (existing(key)) return
    const res = await ctx.write({ method, url, payload: payload as Record<string, unknown> })
    if (res.statusCode >= 300) refused.push(`${method} ${url} ${JSON.stringify(payload)}: ${res.statusCode} ${res.body.slice(0, 300)}`)
  }
  for (const flag of SEED_FLAGS) await send(`flag:${String(flag.name)}`, 'POST', '/flags', flag)
  for (const customer of SEED_CUSTOMERS) await send(`customer:${customer.id}`, 'POST', '/customers', customer)
  for (const user of SEED_USERS) await send(`user:${user.id}`, 'POST', '/users', user)
  // In both seeded environments: the override routes' copies under /environments/{environment} need some to clear.
  for (const environment of ['production', 'development']) {
    // The fuzz may have deleted development (production, the default, cannot be): then it has no overrides to restore.
    if (environment !== 'production' && (await ctx.write({ method: 'GET', url: `/environments/${environment}` })).statusCode !== 200) continue
    const prefix = environment === 'production' ? '' : `/environments/${environment}`
    for (const [flag, subject, id, body] of SEED_OVERRIDES) {
      await send(`override:${environment}|${flag}|${subject}|${id}`, 'PUT', `${prefix}/flags/${flag}/overrides/${subject}s/${encodeURIComponent(id)}`, body)
    }
  }
  return refused
}
