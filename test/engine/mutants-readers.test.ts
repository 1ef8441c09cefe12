/**
 * Readers at their edges (src/engine/values.ts, context.ts), pinned by mutation
 * testing (`npx stryker run --mutate src/engine/<file>.ts`): each test kills mutants the rest of the
 * engine suite let through.
 */
import t from 'tap'
import { parseVersion, readContext, toEpochMs, toNumber } from '../../src/engine/index.js'

t.test('only decimal numerals are numbers: hex, binary and padded strings are not', async (t) => {
  t.strictSame(['0x10', '0b11', ' 5', '5 ', 'Infinity'].map(toNumber), [NaN, NaN, NaN, NaN, NaN])
})

t.test('a zone-less date-time is UTC whatever the host\'s time zone', async (t) => {
  const tz = process.env.TZ
  process.env.TZ = 'America/New_York'
  t.teardown(() => { if (tz === undefined) delete process.env.TZ; else process.env.TZ = tz })
  t.equal(toEpochMs('2026-01-01T00:00'), Date.UTC(2026, 0, 1), 'read as UTC, not New York time')
})

t.test('partial versions of any width are padded; a version past semver\'s length is not one', async (t) => {
  t.strictSame(['12', '1.12', '12.345'].map((v) => parseVersion(v)?.version), ['12.0.0', '1.12.0', '12.345.0'])
  t.strictSame([parseVersion('1'.repeat(300)), parseVersion(`1.${'2'.repeat(300)}`)], [null, null], 'not even its leading number')
})

t.test('nested contexts: only plain objects nest, top-level booleans stay, the entry bound is inclusive', async (t) => {
  class Account { plan = 'pro' }
  t.strictSame(readContext({ account: new Account(), user: { plan: 'free' } }).context, { 'user.plan': 'free' }, 'a class instance is no nested attributes')
  t.strictSame(readContext({ beta: true, user: { plan: 'free' } }).context, { beta: true, 'user.plan': 'free' }, 'a boolean beside a nested object')
  const wide = { u: Object.fromEntries(Array.from({ length: 255 }, (_, i) => [`k${i}`, []])) }
  t.strictSame(readContext(wide), { context: {} }, '256 entries (1 + 255 ignored arrays) are allowed')
  const wider = { u: Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`k${i}`, []])) }
  t.equal(readContext(wider).problem?.message, 'has more than 256 entries, nested ones included', '257 are not')
})
