import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { READ_KEY, WRITE_KEY } from './helper.js'
import { testDatabase } from './support/test-database.js'

// SPEC §10: a managed key's secret is shown once, in the answer to its creation, and never again: not in
// any log line of the server, at the most verbose level, whether the key is sent as X-API-Key or as a
// bearer token, on reads, writes, evaluations, its revocation, or failed authentications after it.

t.test('no log line holds a managed secret or an operator key', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter((l) => l !== '')); done() } })
  const db = await testDatabase(t)
  const container = await createContainer(loadConfig({ DATABASE_URL: db.url, API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY, AUTH_READS: 'true' }), { poll: false })
  t.teardown(() => container.close())
  const app = await buildApp(container, { logger: { level: 'trace', stream } })
  t.teardown(() => app.close())

  const admin = { 'x-api-key': WRITE_KEY }
  const created = await app.inject({ method: 'POST', url: '/api-keys', headers: admin, payload: { name: 'logged-editor', role: 'editor' } })
  t.equal(created.statusCode, 201)
  const { id, secret } = created.json() as { id: string, secret: string }
  const client = await app.inject({ method: 'POST', url: '/api-keys', headers: { authorization: `Bearer ${WRITE_KEY}` }, payload: { name: 'logged-client', role: 'client', environments: ['production'] } })
  t.equal(client.statusCode, 201)
  const clientSecret: string = client.json().secret

  const byHeader = { 'x-api-key': secret }
  const byBearer = { authorization: `Bearer ${secret}` }
  const requests = [
    { method: 'POST', url: '/flags', headers: byHeader, payload: { name: 'logged' } },
    { method: 'PUT', url: '/flags/logged', headers: byBearer, payload: { description: 'by bearer' } },
    { method: 'PUT', url: '/flags/logged', headers: byBearer, payload: { enabled: 'not-a-boolean' } },
    { method: 'GET', url: '/flags/logged', headers: byHeader },
    { method: 'GET', url: '/flags', headers: byBearer },
    { method: 'GET', url: '/evaluate/logged?user_id=alice', headers: byHeader },
    { method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: { authorization: `Bearer ${clientSecret}` }, payload: { context: { targetingKey: 'alice' } } },
    { method: 'GET', url: '/flags', headers: { 'x-api-key': clientSecret } },
    { method: 'GET', url: '/api-keys', headers: byHeader },
    { method: 'DELETE', url: `/api-keys/${id}`, headers: admin },
    { method: 'GET', url: '/flags/logged', headers: byHeader },
    { method: 'PUT', url: '/flags/logged', headers: byBearer, payload: { description: 'after revocation' } },
    { method: 'GET', url: '/evaluate/logged', headers: { authorization: `bearer ${secret}x` } },
    { method: 'GET', url: '/flags/logged', headers: { 'x-api-key': `${secret.slice(0, -1)}` } }
  ] as const
  const statuses: number[] = []
  for (const req of requests) statuses.push((await app.inject(req)).statusCode)
  t.strictSame(statuses, [201, 200, 400, 200, 200, 200, 200, 403, 403, 204, 401, 401, 401, 401])
  await container.services.apiKeys.flushUsage()

  t.ok(lines.some((l) => l.includes('request completed')), 'the capture really holds request logs')
  t.ok(lines.some((l) => l.includes('FLAGPOST_ERR_UNAUTHORIZED')), 'and the refusals')
  t.ok(lines.some((l) => l.includes(`/api-keys/${id}`)), 'including the revocation')
  // Secrets without their `fp_<role>_` marker too: a log must not hold the random part in any form.
  const secrets: Array<[string, string]> = [
    ['the managed secret', secret.slice(secret.indexOf('_', 3) + 1)],
    ['the client secret', clientSecret.slice(clientSecret.indexOf('_', 3) + 1)],
    ['API_KEY', WRITE_KEY],
    ['READ_API_KEY', READ_KEY]
  ]
  const leaks = secrets.flatMap(([label, value]) => lines.filter((l) => l.includes(value)).map((l) => `${label}: ${l.slice(0, 300)}`))
  t.same(leaks, [], `none of ${lines.length} log lines holds a secret`)
})
