import t from 'tap'
import { build, createFlag, revisionOf } from '../helper.js'
import { testDatabase } from '../support/test-database.js'

// Runs in both passes of npm test: SQLite, and Postgres under FLAGPOST_TEST_DB=postgres.

t.test('two writers with the same If-Match: exactly one wins, the other gets 412, no update is lost', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'contested', type: 'string', default_value: 'v0' })
  for (let round = 1; round <= 5; round++) {
    const version = (await ctx.app.inject({ url: '/flags/contested' })).json().version as number
    const [x, y] = await Promise.all(['x', 'y'].map((who) => ctx.write({
      method: 'PUT', url: '/flags/contested', headers: { 'if-match': `"${version}"` }, payload: { default_value: `${who}${round}` }
    })))
    const statuses = [x.statusCode, y.statusCode].sort()
    t.same(statuses, [200, 412], `round ${round}: one 200, one 412`)
    const winner = x.statusCode === 200 ? x : y
    const now = (await ctx.app.inject({ url: '/flags/contested' })).json()
    t.equal(now.default_value, winner.json().default_value, 'the stored value is the winner\'s')
    t.equal(now.version, version + 1, 'exactly one new version')
  }
})

t.test('concurrent creates of one name: one 201, the rest 409, one flag', async (t) => {
  const ctx = await build(t)
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    ctx.write({ method: 'POST', url: '/flags', payload: { name: 'racer', type: 'string', default_value: `by-${i}` } })))
  const statuses = results.map((r) => r.statusCode).sort()
  t.same(statuses, [201, 409, 409, 409, 409, 409, 409, 409])
  for (const r of results.filter((r) => r.statusCode === 409)) t.equal(r.json().code, 'FLAGPOST_ERR_FLAG_EXISTS')
  t.equal(await revisionOf(ctx), 1, 'one change-log row')
})

t.test('concurrent unconditional updates of different fields all land', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'busy' })
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
    ctx.write({ method: 'PUT', url: '/flags/busy', payload: { metadata: { [`k${i}`]: i } } })))
  t.same(results.map((r) => r.statusCode), Array(12).fill(200))
  const flag = (await ctx.app.inject({ url: '/flags/busy' })).json()
  t.equal(Object.keys(flag.metadata).length, 12, 'every writer\'s key is there')
  t.equal(flag.version, 13)
})

t.test('two instances on one database: unconditional updates through both, all at once, all land', async (t) => {
  const { url } = await testDatabase(t, { shared: true })
  const instances = [await build(t, { DATABASE_URL: url }), await build(t, { DATABASE_URL: url })]
  await createFlag(instances[0], { name: 'shared' })
  // Each instance queues its own writes to the flag; between the two, the loser of each race is recomputed.
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    instances[i % 2].write({ method: 'PUT', url: '/flags/shared', payload: { metadata: { [`k${i}`]: i } } })))
  t.same(results.map((r) => r.statusCode), Array(20).fill(200), 'no write refused')
  t.same(results.map((r) => r.json().version).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 2), 'each a version of its own')
  for (const [i, ctx] of instances.entries()) {
    await ctx.container.snapshot.catchUp()
    const flag = (await ctx.app.inject({ url: '/flags/shared' })).json()
    t.equal(Object.keys(flag.metadata).length, 20, `instance ${i}: every writer's key is there`)
    t.equal(flag.version, 21, `instance ${i}: the last version`)
  }
  t.equal(await revisionOf(instances[1]), 21, 'one change-log row per write')
})
