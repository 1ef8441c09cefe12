import { inspect } from 'node:util'
import t from 'tap'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { createFlagpost, isFlagpostError, type Flagpost } from '../src/index.js'
import { testDatabase } from './support/test-database.js'

/**
 * The library from plain JavaScript: every call with a missing, wrong-typed or unstorable argument
 * rejects (or throws) with a Flagpost error — a FLAGPOST_ERR_ code, never a driver's error such as
 * `SqliteError: NOT NULL constraint failed` — and writes nothing.
 */

const BAD: unknown[] = [undefined, null, 42, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, {}, [], ['x'], { toString: () => 'x' },
  'a\u0000b', '\ud800', '', ' ']
const label = (v: unknown): string => inspect(v, { breakLength: Infinity })

async function revisionOf (databaseUrl: string): Promise<number> {
  const container = await createContainer(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' }), { poll: false })
  try { return await container.repositories.flags.latestRevision() } finally { await container.close() }
}

/** Calls `call`, which must fail with a Flagpost error (synchronously or not): undefined if it did, else what happened. */
async function notRefused (name: string, call: () => unknown): Promise<string | undefined> {
  try {
    await call()
    return `${name}: succeeded`
  } catch (err) {
    // JSON-quoted: a message may echo a NUL the call was given, which must not reach the TAP output.
    return isFlagpostError(err) ? undefined : `${name}: threw a non-Flagpost ${JSON.stringify(String(err))}`
  }
}

t.test('every library call with a bad argument throws a Flagpost error and writes nothing', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const flagpost: Flagpost = await createFlagpost({ databaseUrl: url })
  t.teardown(() => flagpost.close())
  await flagpost.addFeature('existing', { type: 'string', defaultValue: 'x', defaultEnabled: true })
  await flagpost.addCustomer('acme')
  await flagpost.addUser('alice', 'acme')
  await flagpost.setFlag('existing', { customerId: 'acme' }, true)
  const before = await revisionOf(url)
  const lib = flagpost as unknown as Record<string, (...args: unknown[]) => unknown>

  // [method, arguments with `B` where the bad value goes, values that are fine in that position]
  const B = Symbol('bad')
  const calls: Array<[string, unknown[], unknown[]]> = [
    ['addFeature', [B], []],
    ['addFeature', ['fresh', B], [undefined, null, {}]],
    ['addFeature', ['fresh', { type: B }], [undefined, null]],
    ['addFeature', ['fresh', { defaultEnabled: B }], [undefined, true]],
    ['addFeature', ['fresh', { type: 'json', defaultValue: { nested: [B] } }], [null, 42, -1, 1.5, true, {}, [], ['x'], '', ' ']],
    ['addFeature', ['fresh', { type: 'json', defaultValue: B }], [null, 42, -1, 1.5, true, {}, [], ['x'], ' ']],
    ['addFeature', ['fresh', { description: B }], [undefined, null, '', ' ']],
    ['getFeature', [B], []],
    ['setGlobalFlag', [B, true], []],
    ['setGlobalFlag', ['existing', B], [true]],
    ['enableFeature', [B], []],
    ['disableFeature', [B], []],
    ['renameFeature', [B, 'other'], []],
    ['renameFeature', ['existing', B], []],
    ['removeFeature', [B], []],
    ['addCustomer', [B], [42]],
    ['addCustomer', ['newco', B], [undefined, null, '', ' ']],
    ['removeCustomer', [B], []],
    ['addUser', [B], [42]],
    ['addUser', ['bob', B], [undefined, null, 42]],
    ['removeUser', [B], []],
    ['setFlag', [B, { customerId: 'acme' }, true], []],
    ['setFlag', ['existing', B, true], []],
    ['setFlag', ['existing', { customerId: B }, true], [42]],
    ['setFlag', ['existing', { userId: B }, true], [42]],
    ['setFlag', ['existing', { customerId: 'acme' }, B], [true]],
    ['setFlag', ['existing', { customerId: 'acme' }, true, B], [undefined, null]],
    ['clearFlag', [B, { customerId: 'acme' }], []],
    ['clearFlag', ['existing', B], []],
    ['listCustomersWithFeature', [B], []],
    ['listFeaturesForCustomer', [B], []],
    ['listCustomersWithFeatureExplicitlyEnabled', [B], []],
    ['listCustomersWithFeatureExplicitlyDisabled', [B], []],
    ['evaluate', [B, {}], []],
    ['evaluate', ['existing', B], [undefined, null, {}]],
    ['evaluate', ['existing', { country: B }], [undefined, null, 42, -1, 1.5, true, '', ' ', {}, [], ['x']]],
    ['evaluate', ['existing', { userId: B }], [undefined, null, 42]],
    ['isEnabled', ['existing', B], [undefined, null, {}]],
    ['isEnabled', ['existing', { customerId: B }], [undefined, null, 42]],
    ['history', [B], []],
    ['history', ['existing', B], [undefined, null, {}]],
    ['history', ['existing', { environment: B }], [undefined, null]],
    ['history', ['existing', { limit: B }], [undefined, null, 42]],
    ['changes', [B], [undefined, null, {}]],
    ['changes', [{ flag: B }], [undefined, null]],
    ['changes', [{ environment: B }], [undefined, null]],
    ['changes', [{ actor: B }], [undefined, null, ' ']],
    ['changes', [{ action: B }], [undefined, null]],
    ['changes', [{ fromRevision: B }], [undefined, null, 42]],
    ['changes', [{ toRevision: B }], [undefined, null, 42]],
    ['changes', [{ since: B }], [undefined, null]],
    ['changes', [{ until: B }], [undefined, null]],
    ['changes', [{ limit: B }], [undefined, null, 42]],
    ['changes', [{ unknown: B }], []],
    // 42 is after the latest revision, so it is refused as well.
    ['revert', [B, 1], []],
    ['revert', ['existing', B], []],
    ['revert', ['existing', 1, B], [undefined, null, {}]],
    ['revert', ['existing', 1, { environment: B }], [undefined, null]],
    ['revert', ['existing', 1, { unknown: B }], []]
  ]
  const put = (args: unknown[], bad: unknown): unknown[] => args.map(function swap (a): unknown {
    if (a === B) return bad
    if (Array.isArray(a)) return a.map(swap)
    if (typeof a === 'object' && a !== null) return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, swap(v)]))
    return a
  })
  let checked = 0
  const accepted: string[] = []
  for (const [method, args, fine] of calls) {
    for (const bad of BAD) {
      if (fine.some((f) => Object.is(f, bad) || (typeof f === 'object' && f !== null && JSON.stringify(f) === JSON.stringify(bad) && typeof bad === 'object'))) continue
      const failure = await notRefused(`${method}(${put(args, bad).map(label).join(', ')})`, () => lib[method](...put(args, bad)))
      if (failure !== undefined) accepted.push(failure)
      checked++
    }
  }
  t.ok(checked > 300, `${checked} bad calls`)
  t.same(accepted.slice(0, 5), [], `each of the ${checked} bad calls threw a Flagpost error (${accepted.length} did not)`)
  // isEnabled of a name that is no flag is false (Unleash's isEnabled); of something that is not a name, an error.
  t.equal(flagpost.isEnabled('a\u0000b'), false)
  const isEnabledAccepted: string[] = []
  for (const bad of [undefined, null, 42, {}]) {
    const failure = await notRefused(`isEnabled(${label(bad)})`, () => flagpost.isEnabled(bad as string))
    if (failure !== undefined) isEnabledAccepted.push(failure)
  }
  t.same(isEnabledAccepted, [], 'isEnabled of undefined, null, 42 or {} throws a Flagpost error')

  t.equal(await revisionOf(url), before, 'no bad call wrote anything')
  t.match(await flagpost.getFeature('existing'), { version: 1, default_value: 'x', metadata: {} })
  t.strictSame(await flagpost.listCustomersWithFeatureExplicitlyEnabled('existing'), ['acme'])
  t.equal(flagpost.evaluate('existing', { userId: 'alice' }).value, 'x', 'and evaluation still works')
})
