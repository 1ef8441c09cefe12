import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createContainer } from '../../src/container.js'
import { WRITE_KEY } from '../helper.js'
import { dropSchema, isolatedUrl, postgresUrlOrSkip } from '../support/postgres.js'
import { startTcpProxy } from '../support/tcp-proxy.js'

t.test('Postgres unreachable: evaluations keep serving, writes answer 503, nothing acknowledged is lost', async (t) => {
  const pg = await postgresUrlOrSkip(t, 'database outage suite (Postgres)')
  if (pg === null) return
  const { url, schema } = isolatedUrl(pg)
  const target = new URL(url)
  const proxy = await startTcpProxy(Number(target.port || 5432), target.hostname)
  target.host = `127.0.0.1:${proxy.port}`
  const container = await createContainer(loadConfig({ DATABASE_URL: target.toString(), API_KEY: WRITE_KEY, LOG_LEVEL: 'silent' }), { poll: true })
  const app = await buildApp(container)
  t.teardown(async () => { await app.close(); await container.close(); await proxy.close(); await dropSchema(pg, schema) })
  const write = (name: string) => app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY }, payload: { name } })

  const acknowledged: string[] = []
  for (const name of ['before-1', 'before-2']) { if ((await write(name)).statusCode === 201) acknowledged.push(name) }
  t.equal(acknowledged.length, 2)

  proxy.cut()
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ url: '/evaluate/before-1?user_id=u' })
    t.equal(res.statusCode, 200, 'evaluation serves the snapshot')
  }
  const during = await write('during')
  t.equal(during.statusCode, 503, during.body)
  t.match(during.headers['content-type'], /^application\/problem\+json/)
  t.equal(during.json().code, 'FLAGPOST_ERR_UNAVAILABLE')
  t.notMatch(during.body, /stack|ECONN|postgres/i, 'no internals in the answer')
  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200, 'still ready while the shared database is gone: it serves its snapshot')
  t.match(ready.json(), { status: 'degraded', checks: { database: 'unreachable' } })
  await sleep(300) // a poll tick fails and is logged, not thrown

  proxy.restore()
  let after = await write('after')
  for (let i = 0; i < 50 && after.statusCode !== 201; i++) { await sleep(100); after = await write('after') }
  t.equal(after.statusCode, 201, 'writes work again once the database is back')
  acknowledged.push('after')
  const missing: string[] = []
  for (const name of acknowledged) if ((await app.inject({ url: `/flags/${name}` })).statusCode !== 200) missing.push(name)
  t.strictSame(missing, [], 'every acknowledged write is there')
  t.equal((await app.inject({ url: '/flags/during' })).statusCode, 404, 'the refused write did not half-happen')

  // A connection that broke mid-write must go back to the pool (destroyed), or each outage leaks a
  // slot until every write answers 503: the pool only drains if none was leaked.
  await app.close()
  const drained = await Promise.race([container.close().then(() => true), sleep(5000).then(() => false)])
  t.ok(drained, 'no pooled connection leaked: closing the pool completes')
})
