import Database from 'better-sqlite3'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { build, createFlag } from '../helper.js'
import { queryPostgres } from '../support/postgres.js'
import { testDatabase, type TestDatabase } from '../support/test-database.js'

/**
 * Writes whose fan-out grows with the data, past both dialects' bound-parameter limits (SQLite
 * 32,766, Postgres 65,535): removing a customer detaches every one of its users, and the change-log
 * row lists them all. The removal, every later catch-up on this and another instance, and a kill
 * switch written afterwards must all go through.
 */
const USERS = 70_000
/** The default environment: the one the original paths address. */
const P = 'production'

async function seedUsers (db: TestDatabase, customer: string): Promise<void> {
  if (db.dialect === 'postgres') {
    await queryPostgres(db.url, `insert into users (id, customer_id, created_at) select 'u-' || i, '${customer}', now() from generate_series(1, ${USERS}) i`)
    return
  }
  const sqlite = new Database(db.file!)
  try {
    sqlite.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${USERS})
      insert into users (id, customer_id, created_at) select 'u-' || i, '${customer}', 0 from n`)
  } finally {
    sqlite.close()
  }
}

t.test(`removing a customer with ${USERS} users: committed, answered, and every instance keeps catching up`, async (t) => {
  const db = await testDatabase(t, { shared: true })
  const writer = await build(t, { DATABASE_URL: db.url, CACHE_REFRESH_MS: '60000' })
  await createFlag(writer, { name: 'kill', type: 'boolean', default_value: true })
  t.equal((await writer.write({ method: 'PUT', url: '/flags/kill/overrides/customers/big', payload: { enabled: false } })).statusCode, 200)
  await seedUsers(db, 'big')

  // A second instance, started after the seed: its full load knows every user's customer.
  const other = await createContainer(loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: '60000' }))
  t.teardown(() => other.close())
  t.equal(other.snapshot.customerOf('u-69999'), 'big')
  t.equal(other.services.flags.evaluate(P, 'kill', { user_id: 'u-69999' }).value, false, 'the customer override applies to its users')

  const removed = await writer.write({ method: 'DELETE', url: '/customers/big' })
  t.equal(removed.statusCode, 204, removed.body)
  const row = (await writer.container.repositories.flags.changesSince((await writer.container.repositories.flags.latestRevision()) - 1, 1))
  t.equal(row.users.length, USERS, 'the change-log row lists every detached user')
  t.equal(writer.container.snapshot.health.failing, false, 'the writer caught up')

  await other.snapshot.catchUp()
  t.equal(other.snapshot.revision, await other.repositories.flags.latestRevision(), 'the other instance caught up')
  t.equal(other.snapshot.customerOf('u-69999'), undefined, 'the users are detached')
  t.equal(other.services.flags.evaluate(P, 'kill', { user_id: 'u-69999' }).value, true, 'no customer override any more')

  // A kill switch written afterwards reaches both instances.
  t.equal((await writer.write({ method: 'PUT', url: '/flags/kill', payload: { enabled: false } })).statusCode, 200)
  await other.snapshot.catchUp()
  t.equal(other.services.flags.evaluate(P, 'kill', { user_id: 'u-1' }).reason, 'DISABLED')
  t.equal(writer.container.services.flags.evaluate(P, 'kill', { user_id: 'u-1' }).reason, 'DISABLED')
  const ready = await writer.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200, ready.body)
})

t.test(`the lookups by a list of ids take ${USERS} ids`, async (t) => {
  const db = await testDatabase(t, { shared: true })
  const ctx = await build(t, { DATABASE_URL: db.url, CACHE_REFRESH_MS: '60000' })
  await seedUsers(db, 'c1')
  // getUsers with every id at once: the list is bound as one parameter whatever its length.
  const ids = Array.from({ length: USERS }, (_, i) => `u-${i + 1}`)
  t.equal((await ctx.container.repositories.subjects.getUsers(ids)).length, USERS)
  t.equal((await ctx.container.repositories.subjects.getCustomers(ids)).length, 0)
  t.equal((await ctx.container.repositories.flags.getMany(ids)).length, 0)
  t.equal((await ctx.container.repositories.subjects.overridesOf(ids)).length, 0)
})
