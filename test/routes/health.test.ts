import t from 'tap'
import { build, createFlag, revisionOf, WRITE_KEY } from '../helper.js'

t.test('GET /healthz: 200 {status: ok}', async (t) => {
  const ctx = await build(t)
  const res = await ctx.app.inject({ url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.strictSame(res.json(), { status: 'ok' })
})

t.test('GET /readyz: 200 with the database and snapshot checks ok', async (t) => {
  const ctx = await build(t)
  const empty = await ctx.app.inject({ url: '/readyz' })
  t.equal(empty.statusCode, 200)
  t.match(empty.headers['content-type'], /^application\/json/)
  t.strictSame(empty.json(), { status: 'ready', revision: 0, checks: { snapshot: 'ok', database: 'ok' } })

  await createFlag(ctx, { name: 'a' })
  await createFlag(ctx, { name: 'b' })
  t.equal(await revisionOf(ctx), 2)
  const res = await ctx.app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 200)
  t.strictSame(res.json(), { status: 'ready', revision: 2, checks: { snapshot: 'ok', database: 'ok' } }, 'revision is the snapshot\'s, caught up after each write')
})

t.test('GET /readyz: still ready (degraded) once the database is closed: the instance serves its snapshot', async (t) => {
  // On whichever database the pass runs on (SQLite, or Postgres with FLAGPOST_TEST_DB=postgres).
  const { app, container } = await build(t)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  const created = await app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY }, payload: { name: 'kept' } })
  t.equal(created.statusCode, 201)

  await container.close()
  const res = await app.inject({ url: '/readyz' })
  // Every instance shares the database: a 503 here would take the whole fleet out of the load
  // balancer in exactly the outage it keeps serving evaluations through.
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  t.strictSame(res.json(), { status: 'degraded', revision: 1, checks: { snapshot: 'ok', database: 'unreachable' } })
  // Liveness is about the process, not its dependencies.
  const live = await app.inject({ url: '/healthz' })
  t.equal(live.statusCode, 200)
  t.strictSame(live.json(), { status: 'ok' })
  // SPEC §7: with the database down, evaluation keeps serving the last snapshot.
  const evaluation = await app.inject({ url: '/evaluate/kept?user_id=alice' })
  t.equal(evaluation.statusCode, 200)
  t.equal(evaluation.json().value, true)
  // SPEC §7: with the database down, writes answer 503 problem+json, never a 500.
  const write = await app.inject({ method: 'POST', url: '/flags', headers: { 'x-api-key': WRITE_KEY }, payload: { name: 'lost' } })
  t.equal(write.statusCode, 503)
  t.match(write.headers['content-type'], /^application\/problem\+json/)
  t.equal(write.json().code, 'FLAGPOST_ERR_UNAVAILABLE')
  const read = await app.inject({ url: '/flags/kept' })
  t.equal(read.statusCode, 503)
  t.equal(read.json().code, 'FLAGPOST_ERR_UNAVAILABLE')
  // Closing twice is safe.
  await container.close()
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
})

t.test('an unknown route: 404 problem+json FLAGPOST_ERR_NOT_FOUND', async (t) => {
  const ctx = await build(t)
  const res = await ctx.app.inject({ url: '/no/such/route?x=1' })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.strictSame(res.json(), {
    type: 'urn:flagpost:problem:not-found',
    title: 'Not Found',
    status: 404,
    detail: 'No route GET /no/such/route',
    code: 'FLAGPOST_ERR_NOT_FOUND',
    instance: '/no/such/route'
  })
  // A route asked with a method it does not take is 405 with Allow (test/routes/messages-methods.test.ts).
  const post = await ctx.app.inject({ method: 'POST', url: '/healthz' })
  t.equal(post.statusCode, 405)
  t.equal(post.json().code, 'FLAGPOST_ERR_METHOD_NOT_ALLOWED')
  t.equal(post.headers.allow, 'GET, HEAD')
})
