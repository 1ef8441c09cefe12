import type { TestApp } from '../helper.js'

/**
 * The state every fuzzed app starts from: flags of each type (with variants, rules, rollouts, tags,
 * metadata, one switched off), customers, users and overrides, so generated path parameters often
 * name something that exists.
 */

export const SEED_FLAGS: Array<Record<string, unknown>> = [
  { name: 'seed-bool', description: 'plain boolean', tags: ['web', 'beta'], metadata: { owner: 'team-a', ticket: 42 } },
  { name: 'seed.off', enabled: false },
  { name: 'seed_str', type: 'string', variants: { red: 'red', blue: 'blue', green: 'green' }, default_variant: 'red', off_variant: 'blue',
    targeting_rules: {
      user_ids: ['alice'],
      rules: [{ id: 'de', clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }], serve: { variant: 'green' } },
        { clauses: [{ attribute: 'email', operator: 'matches', values: ['^[a-z]+@example\\.com$'] }, { attribute: 'version', operator: 'semver_gte', values: ['1.2.0'] }],
          serve: { rollout: { red: 50, green: 50 } } }]
    } },
  { name: 'seed-num', type: 'number', default_value: 12.5, off_value: -1, targeting_rules: { percentage: 33.33, customer_ids: ['acme'] } },
  { name: 'seed-json', type: 'json', default_value: { seats: 5, features: ['sso'], trial: false }, off_value: null, tags: ['billing'] },
  { name: 'seed-split', type: 'string', variants: { a: 'A', b: 'B' }, default_variant: 'a', off_variant: 'b',
    targeting_rules: { rollout: { a: 70, b: 30 }, bucket_by: 'customer_id' } }
]

export const SEED_CUSTOMERS = [{ id: 'acme', name: 'Acme Inc.' }, { id: 42 }, { id: 'globex.eu', name: 'Globex' }]
export const SEED_USERS = [{ id: 'alice', customer_id: 'acme' }, { id: 'bob@example.com', customer_id: 42 }, { id: 'carol' }]

/** Names the generators prefer for pattern-constrained strings: these exist (or collide) after seeding. */
export const SEED_HINTS = [
  ...SEED_FLAGS.map((f) => String(f.name)), ...SEED_CUSTOMERS.map((c) => String(c.id)), ...SEED_USERS.map((u) => String(u.id)),
  'on', 'off', 'red', 'blue', 'green', 'a', 'b', 'web', 'beta', 'billing', 'user_id', 'customer_id', 'country', 'email'
]

/**
 * Create the seed state; `again`: restore whatever of it earlier requests deleted (what exists stays).
 * Returns the seed writes the API refused (valid requests: each one is a bug), so the fuzz still runs.
 */
export async function seed (ctx: TestApp, { again = false } = {}): Promise<string[]> {
  const refused: string[] = []
  const send = async (method: 'POST' | 'PUT', url: string, payload: unknown): Promise<void> => {
    const res = await ctx.write({ method, url, payload: payload as Record<string, unknown> })
    if (res.statusCode >= 300 && !(again && res.statusCode === 409)) refused.push(`${method} ${url} ${JSON.stringify(payload)}: ${res.statusCode} ${res.body.slice(0, 300)}`)
  }
  for (const flag of SEED_FLAGS) await send('POST', '/flags', flag)
  for (const customer of SEED_CUSTOMERS) await send('POST', '/customers', customer)
  for (const user of SEED_USERS) await send('POST', '/users', user)
  await send('PUT', '/flags/seed-bool/overrides/customers/acme', { enabled: false })
  await send('PUT', '/flags/seed_str/overrides/users/carol', { enabled: true, variant: 'green' })
  await send('PUT', '/flags/seed-num/overrides/customers/42', { enabled: true })
  return refused
}
