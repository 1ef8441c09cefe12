import t from 'tap'
import { start } from './support/process.js'
import { testDatabase } from './support/test-database.js'

t.test('first start generates an admin key once; only its hash is stored', async (t) => {
  const env = { DATABASE_URL: (await testDatabase(t, { shared: true })).url }
  const first = await start(env)
  t.teardown(() => { first.child.kill('SIGKILL') })
  const key = /generated an admin key[^:]*: (fp_[A-Za-z0-9_-]+)/.exec(first.output())?.[1]
  t.ok(key, 'the key is printed in the startup log')
  const post = (k: string): Promise<Response> => fetch(`${first.base}/flags`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': k }, body: JSON.stringify({ name: 'boot', default_value: 'true' })
  })
  t.equal((await post('fp_wrong-key-000000000000')).status, 401)
  t.equal((await post(key!)).status, 201, 'the printed key can write')
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'SIGTERM exits 0')

  const second = await start(env)
  t.teardown(() => { second.child.kill('SIGKILL') })
  t.notMatch(second.output(), /generated an admin key/, 'no second key on restart')
  const res = await fetch(`${second.base}/flags/boot`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${key!}` }, body: '{"enabled":false}' })
  t.equal(res.status, 200, 'the stored hash still authenticates the key after a restart')
  const evaluated = await (await fetch(`${second.base}/evaluate/boot?user_id=u1`)).json() as { reason: string }
  t.equal(evaluated.reason, 'DISABLED')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
  t.notMatch(second.output(), new RegExp(key!), 'the key is not logged again, not even from request headers')
})

t.test('SIGTERM lets in-flight requests finish and exits 0', async (t) => {
  const server = await start({ DATABASE_URL: (await testDatabase(t, { shared: true })).url, API_KEY: 'a-configured-key-1234567890' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.notMatch(server.output(), /generated an admin key/, 'a configured API_KEY means no generated key')
  const inFlight = Array.from({ length: 100 }, () => fetch(`${server.base}/evaluate`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"context":{"user_id":"u"}}'
  }).then((r) => r.status, (err: Error) => err.message))
  await new Promise((resolve) => setTimeout(resolve, 5))
  server.child.kill('SIGTERM')
  const statuses = await Promise.all(inFlight)
  t.equal(await server.exited, 0)
  t.same(statuses.filter((s) => typeof s === 'number' && s >= 500), [], 'no 5xx while draining')
  t.ok(statuses.filter((s) => s === 200).length > 0, 'requests that were accepted were answered')
})

t.test('bad configuration stops startup with every problem listed', async (t) => {
  const server = await start({ PORT: 'abc', LOG_LEVEL: 'loud', CACHE_REFRESH_MS: '-1', API_KEY: 'short' })
  t.equal(await server.exited, 2)
  for (const name of ['PORT', 'LOG_LEVEL', 'CACHE_REFRESH_MS', 'API_KEY']) t.match(server.output(), name)
  t.notMatch(server.output(), /at .*\.js:\d+/, 'no stack trace')
})
