/**
 * `npm run db:generate [-- --name <tag>]`: regenerate both migration folders in one go (drizzle/sqlite
 * and drizzle/pg, from the one drizzle.config.ts, whose dialect follows DATABASE_URL), then strip the
 * `"public".` qualifier drizzle-kit writes into Postgres foreign keys: the service migrates into the
 * schema its URL names (`?schema=`, a private one per test), so the SQL must name none.
 * test/db/migrations-current.test.ts fails when either folder is stale or a qualifier is left.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dialects = { sqlite: 'file:./data/flagpost.db', pg: 'postgres://localhost/flagpost-generate' }
for (const [name, url] of Object.entries(dialects)) {
  process.stdout.write(`drizzle/${name}:\n`)
  const run = spawnSync('drizzle-kit', ['generate', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, DATABASE_URL: url } })
  if (run.status !== 0) process.exit(run.status ?? 1)
}
for (const file of readdirSync('drizzle/pg').filter((f) => f.endsWith('.sql'))) {
  const path = join('drizzle/pg', file)
  const sql = readFileSync(path, 'utf8')
  const unqualified = sql.replaceAll('"public".', '')
  if (unqualified !== sql) writeFileSync(path, unqualified)
}
