import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import t from 'tap'
import { sqlitePath } from '../../src/db/sqlite-client.js'
import { openPostgres } from '../../src/db/pg-client.js'
import { compilePercentageSplit, compileSplit, pickVariant } from '../../src/engine/bucketing.js'
import { build, createFlag, isProblem, testDatabase, type TestApp } from '../helper.js'
import { queryRows } from '../support/test-database.js'

// Issue 12 item 3: a flag's rollouts hash its bucketing seed, fixed at creation (its name unless
// written), kept on rename, so renaming a flag on a rollout moves no one. Runs on the pass's dialect.

const users = Array.from({ length: 200 }, (_, i) => `user-${i}`)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The variant each of the 200 users gets from `name`, through GET /evaluate. */
async function variants (ctx: TestApp, name: string): Promise<string[]> {
  const out: string[] = []
  for (const user of users) {
    const res = await ctx.app.inject({ method: 'GET', url: `/evaluate/${name}`, query: { user_id: user } })
    if (res.statusCode !== 200) throw new Error(`GET /evaluate/${name}: ${res.statusCode} ${res.body}`)
    out.push(res.json().variant)
  }
  return out
}
/** What SPEC §2.4 gives a 50 % flag hashing `seed` (the flag name before seeds existed). */
const half = (seed: string): string[] => users.map((u) => pickVariant(compilePercentageSplit(seed, 'on', 'off', 50), u)!)

t.test('a 50 % rollout keeps all 200 users across a rename', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const ctx = await build(t, { DATABASE_URL: db.url })
  const created = await createFlag(ctx, { name: 'checkout', targeting_rules: { percentage: 50 } })
  t.equal(created.bucketing_seed, 'checkout', 'the seed defaults to the name at creation')
  const before = await variants(ctx, 'checkout')
  t.same(before, half('checkout'), 'seed = name: the buckets SPEC §2.4 always gave')
  t.ok(before.includes('on') && before.includes('off'))

  const renamed = await ctx.write({ method: 'POST', url: '/flags/checkout/rename', payload: { new_name: 'checkout.v2' } })
  t.equal(renamed.statusCode, 200, renamed.body)
  t.equal(renamed.json().bucketing_seed, 'checkout', 'kept by the rename')
  t.same(await variants(ctx, 'checkout.v2'), before, 'every one of the 200 keeps its variant')
  t.equal((await ctx.app.inject({ method: 'GET', url: '/flags/checkout.v2' })).json().bucketing_seed, 'checkout')
  const listed = (await ctx.app.inject({ method: 'GET', url: '/flags' })).json().flags
  t.same(listed.map((f: { bucketing_seed: string }) => f.bucketing_seed), ['checkout'], 'GET /flags shows it')

  // The change log shows it before and after.
  const [row] = await queryRows<{ before: unknown, after: unknown }>(db.url, 'select before, after from change_log where action = ?', ['flag.rename'])
  const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v)
  t.match(json(row.before), { name: 'checkout', bucketing_seed: 'checkout' }, 'change log: before')
  t.match(json(row.after), { name: 'checkout.v2', bucketing_seed: 'checkout' }, 'change log: after')

  // A PUT that does not mention the seed keeps it; a rename back and forth changes nothing either.
  const put = await ctx.write({ method: 'PUT', url: '/flags/checkout.v2', payload: { description: 'renamed' } })
  t.equal(put.json().bucketing_seed, 'checkout')
  t.same(await variants(ctx, 'checkout.v2'), before)
})

t.test('an explicit seed: at creation, by PUT (reshuffles), null resets to the current name', async (t) => {
  const ctx = await build(t)
  const suits = { clubs: 25, diamonds: 25, hearts: 25, spades: 25 }
  // flagd's "fractional-flag-A-shared-seed": {"cat": ["shared-seed", {"var": "user.name"}]}, v2 vectors.
  const shared = await createFlag(ctx, {
    name: 'suits',
    bucketing_seed: 'shared-seed',
    type: 'string',
    variants: { clubs: 'clubs', diamonds: 'diamonds', hearts: 'hearts', spades: 'spades', wild: 'wild' },
    default_variant: 'wild',
    off_variant: 'wild',
    targeting_rules: { rollout: suits, bucket_by: 'player' }
  })
  t.equal(shared.bucketing_seed, 'shared-seed')
  for (const [player, suit] of [['seven', 'hearts'], ['eight', 'diamonds'], ['nine', 'clubs'], ['two', 'spades']]) {
    const res = await ctx.app.inject({ method: 'GET', url: '/evaluate/suits', query: { player } })
    t.equal(res.json().value, suit, `flagd custom-seed vector ${player}`)
  }

  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
  const reseeded = await ctx.write({ method: 'PUT', url: '/flags/half', payload: { bucketing_seed: 'other' } })
  t.equal(reseeded.statusCode, 200, reseeded.body)
  t.equal(reseeded.json().bucketing_seed, 'other')
  t.equal(reseeded.json().version, 2, 'a new seed is a change')
  t.same(await variants(ctx, 'half'), half('other'), 'changing the seed reshuffles the buckets')
  const bare = await ctx.write({ method: 'PUT', url: '/flags/half', payload: { bucketing_seed: '' } })
  t.equal(bare.json().bucketing_seed, '', 'the empty seed: the bucket value alone (flagd bare key)')
  t.same(await variants(ctx, 'half'), half(''))
  await ctx.write({ method: 'POST', url: '/flags/half/rename', payload: { new_name: 'halved' } })
  const reset = await ctx.write({ method: 'PUT', url: '/flags/halved', payload: { bucketing_seed: null } })
  t.equal(reset.json().bucketing_seed, 'halved', 'null resets the seed to the current name')
  t.same(await variants(ctx, 'halved'), half('halved'))
  const same = await ctx.write({ method: 'PUT', url: '/flags/halved', payload: { bucketing_seed: 'halved' } })
  t.equal(same.json().version, reset.json().version, 'writing the seed it has is no change')

  isProblem(t, await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'long', bucketing_seed: 'x'.repeat(257) } }), 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
  isProblem(t, await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'nul', bucketing_seed: 'a\u0000b' } }), 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
  isProblem(t, await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'num', bucketing_seed: 5 } }), 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
  t.equal((await createFlag(ctx, { name: 'maxed', bucketing_seed: 'é'.repeat(256) })).bucketing_seed, 'é'.repeat(256))
  // Rule rollouts hash the same seed as the fallthrough.
  await createFlag(ctx, {
    name: 'ruled',
    bucketing_seed: 'shared-seed',
    type: 'string',
    variants: { clubs: 'c', diamonds: 'd', hearts: 'h', spades: 's', wild: 'w' },
    default_variant: 'wild',
    off_variant: 'wild',
    targeting_rules: { rules: [{ clauses: [], serve: { rollout: suits } }], bucket_by: 'player' }
  })
  const split = compileSplit('shared-seed', Object.entries(suits))
  const res = await ctx.app.inject({ method: 'GET', url: '/evaluate/ruled', query: { player: 'seven' } })
  t.equal(res.json().variant, pickVariant(split, 'seven'))
})

/** A copy of a dialect's migration folder without the bucketing-seed migration: the schema before it. */
function migrationsBeforeSeed (t: { teardown (fn: () => void): void }, dialect: 'sqlite' | 'pg'): string {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-premigration-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(join(ROOT, 'drizzle', dialect), dir, { recursive: true })
  const journalPath = join(dir, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> }
  const at = journal.entries.findIndex((e) => e.tag.endsWith('_bucketing_seed'))
  if (at < 0) throw new Error(`no bucketing_seed migration in drizzle/${dialect}`)
  journal.entries = journal.entries.slice(0, at)
  writeFileSync(journalPath, JSON.stringify(journal))
  return dir
}

t.test('a flag written before seeds existed is backfilled with its name: same buckets after the migration', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const flag = {
    id: 'pre-seed-id',
    name: 'legacy',
    variants: { on: true, off: false },
    targeting: { user_ids: [], customer_ids: [], rules: [], percentage: 50, rollout: null, bucket_by: 'user_id' }
  }
  const at = 1_700_000_000_000
  if (db.dialect === 'sqlite') {
    const raw = new Database(sqlitePath(db.url))
    try {
      migrateSqlite(drizzleSqlite(raw), { migrationsFolder: migrationsBeforeSeed(t, 'sqlite') })
      raw.prepare(`insert into flags (id, name, description, type, enabled, variants, default_variant, off_variant, targeting_rules, tags, metadata, version, created_at, updated_at)
        values (?, ?, '', 'boolean', 1, ?, 'on', 'off', ?, '[]', '{}', 1, ?, ?)`).run(flag.id, flag.name, JSON.stringify(flag.variants), JSON.stringify(flag.targeting), at, at)
    } finally { raw.close() }
  } else {
    const handle = openPostgres(db.url)
    const client = await handle.pool.connect()
    try {
      await client.query(`create schema if not exists "${db.schema!}"`)
      await migratePg(drizzlePg(client), { migrationsFolder: migrationsBeforeSeed(t, 'pg'), migrationsSchema: db.schema })
      await client.query(`insert into flags (id, name, description, type, enabled, variants, default_variant, off_variant, targeting_rules, tags, metadata, version, created_at, updated_at)
        values ($1, $2, '', 'boolean', true, $3, 'on', 'off', $4, '[]', '{}', 1, $5, $5)`, [flag.id, flag.name, JSON.stringify(flag.variants), JSON.stringify(flag.targeting), new Date(at)])
    } finally { client.release(); await handle.close() }
  }

  const ctx = await build(t, { DATABASE_URL: db.url }) // migrates the rest: the seed column, backfilled
  const got = await ctx.app.inject({ method: 'GET', url: '/flags/legacy' })
  t.equal(got.json().bucketing_seed, 'legacy', 'backfilled with the name it always hashed')
  const before = await variants(ctx, 'legacy')
  t.same(before, half('legacy'), 'evaluates exactly as before the migration')
  await ctx.write({ method: 'POST', url: '/flags/legacy/rename', payload: { new_name: 'modern' } })
  t.same(await variants(ctx, 'modern'), before, 'and keeps its buckets when renamed')
})
