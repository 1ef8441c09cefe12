/**
 * Customers and overrides at scale: 100,000 customers, 100,000 overrides on one flag.
 * - evaluation cost with and without the overrides (non-matching and matching contexts);
 * - GET /flags/{name}/customers?state=enabled (list-customers-enabled) over all customers;
 * - cold start (container + snapshot load) with them.
 * Run: npm run bench:subjects
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { medianEvaluationNs } from './support/timing.js'

const N = 100_000
const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-subjects-'))
const url = `file:${join(dir, 'bench.db')}`
const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' })
const writer = { actor: 'bench' }
// Everything in the default environment: the one the service calls below (and the API without ?environment) address.
const env = config.defaultEnvironment

try {
  const setup = await createContainer(config, { poll: false })
  await setup.services.flags.create(env, { name: 'plain', defaultValue: true, targetingRules: { percentage: 50 } }, writer)
  await setup.services.flags.create(env, { name: 'crowded', defaultValue: true, targetingRules: { percentage: 50 } }, writer)
  await setup.services.flags.create(env, { name: 'few', defaultValue: true, targetingRules: { percentage: 50 } }, writer)
  for (let i = 0; i < 10; i++) await setup.services.subjects.setOverride(env, 'few', 'customer', `few-${i}`, { enabled: i % 10 === 0 }, writer)
  const flagId = (await setup.repositories.flags.get(env, 'crowded'))!.id
  await setup.close()

  // Bulk rows in one transaction: setting 100k overrides one API call at a time measures fsync, not Flagpost.
  const raw = new Database(join(dir, 'bench.db'))
  const now = Date.now()
  raw.transaction(() => {
    const customer = raw.prepare('insert into customers (id, name, created_at) values (?, null, ?)')
    const override = raw.prepare("insert into overrides (flag_id, environment, subject, subject_id, enabled, variant, created_at, updated_at) values (?, ?, 'customer', ?, ?, null, ?, ?)")
    for (let i = 0; i < N; i++) {
      const id = `cust-${String(i).padStart(6, '0')}`
      customer.run(id, now)
      override.run(flagId, env, id, i % 10 === 0 ? 1 : 0, now, now) // 10 % explicitly on, the rest explicitly off
    }
  })()
  raw.close()

  const t0 = performance.now()
  const container = await createContainer(config, { poll: false })
  const coldStartMs = performance.now() - t0
  const rss = process.memoryUsage().rss

  const nsPerEval = (name: string, contexts: Array<Record<string, string>>): number => medianEvaluationNs(container.snapshot.get(env, name)!, contexts, 0)
  const strangers = Array.from({ length: 1024 }, (_, i) => ({ user_id: `u${i}`, customer_id: `other-${i}` }))
  const members = Array.from({ length: 1024 }, (_, i) => ({ user_id: `u${i}`, customer_id: `cust-${String(i * 97).padStart(6, '0')}` }))

  async function ms (fn: () => Promise<unknown>, runs = 7): Promise<number> {
    const times: number[] = []
    for (let i = 0; i < runs; i++) { const s = performance.now(); await fn(); times.push(performance.now() - s) }
    return times.sort((a, b) => a - b)[runs >> 1]
  }
  const subjects = container.services.subjects
  const firstPage = await ms(() => subjects.listCustomersForFlag(env, 'crowded', { state: 'enabled', limit: 1000 }))
  const allPages = await ms(async () => {
    let cursor: string | undefined
    do { cursor = (await subjects.listCustomersForFlag(env, 'crowded', { state: 'enabled', limit: 1000, cursor })).nextCursor ?? undefined } while (cursor !== undefined)
  })
  const explicit = await ms(() => subjects.listCustomersForFlag(env, 'crowded', { state: 'explicitly_enabled', limit: 1000 }))

  printRunHeader(`bench:subjects: ${N.toLocaleString('en-US')} customers, ${N.toLocaleString('en-US')} overrides on one flag`)
  console.log('| measure | figure |\n| --- | ---: |')
  console.log(`| evaluate, flag without overrides, non-matching context | ${nsPerEval('plain', strangers).toFixed(0)} ns |`)
  console.log(`| evaluate, flag with 10 overrides, non-matching context | ${nsPerEval('few', strangers).toFixed(0)} ns |`)
  console.log(`| evaluate, flag with 100k overrides, non-matching context | ${nsPerEval('crowded', strangers).toFixed(0)} ns |`)
  console.log(`| evaluate, flag with 100k overrides, matching customer | ${nsPerEval('crowded', members).toFixed(0)} ns |`)
  console.log(`| list-customers-enabled, first page of 1000 (median) | ${firstPage.toFixed(1)} ms |`)
  console.log(`| list-customers-enabled, all 10,000 across 10 pages (median) | ${allPages.toFixed(1)} ms |`)
  console.log(`| list-customers-disabled-style explicit query, first page (median) | ${explicit.toFixed(1)} ms |`)
  console.log(`| cold start: container + snapshot load | ${coldStartMs.toFixed(0)} ms |`)
  console.log(`| RSS after load | ${(rss / 1024 / 1024).toFixed(0)} MB |`)

  await container.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
printRunFooter()
