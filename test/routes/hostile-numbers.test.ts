import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { build, createFlag, isProblem, revisionOf, testDatabase, WRITE_KEY, type TestApp } from '../helper.js'
import { failingInOrder } from '../support/cases.js'
import { queryPostgres } from '../support/postgres.js'
import { bodyOf, problemDiff } from '../support/refusals.js'

/**
 * Poison values: JSON.parse turns 1e309 into Infinity, which JSON stores as null. Every number a
 * client can write or send must be finite; a refused write commits nothing and leaves every read
 * working; and a row already poisoned by an older version fails only itself, never the others.
 */

type Json = Record<string, any>
const HUGE = '1e309'
const raw = (ctx: TestApp, method: 'POST' | 'PUT', url: string, payload: string, type = 'application/json') =>
  ctx.app.inject({ method, url, payload, headers: { 'content-type': type, 'x-api-key': WRITE_KEY } })

/** Every read that a poisoned row used to break, answered 200. */
async function readsWork (t: Test, ctx: TestApp, label: string): Promise<void> {
  const reads: Array<[string, string, string?]> = [
    ['GET', '/flags'], ['GET', '/flags/good'], ['GET', '/evaluate/good?user_id=alice'],
    ['POST', '/evaluate', '{"context":{"user_id":"alice"}}'],
    ['POST', '/ofrep/v1/evaluate/flags', '{"context":{"targetingKey":"alice"}}'],
    ['POST', '/ofrep/v1/evaluate/flags/good', '{"context":{"targetingKey":"alice"}}'],
    ['GET', '/customers/acme/flags']
  ]
  const failed: string[] = []
  for (const [method, url, payload] of reads) {
    const res = await ctx.app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }) })
    if (res.statusCode !== 200) failed.push(`${method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`)
  }
  t.same(failed, [], `${label}: every read, evaluation and OFREP call answers 200`)
}

async function withGoodFlag (t: Test): Promise<TestApp> {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'good', metadata: { owner: 'team' } })
  t.equal((await ctx.write({ method: 'POST', url: '/customers', payload: { id: 'acme' } })).statusCode, 201)
  return ctx
}

t.test('a non-finite number anywhere in a flag write is a 400 naming the field, and nothing is committed', async (t) => {
  const ctx = await withGoodFlag(t)
  const cases: Array<[string, string, string]> = [
    ['metadata', `{"name":"p","metadata":{"x":${HUGE}}}`, 'body.metadata.x'],
    ['negative metadata', `{"name":"p","metadata":{"x":-${HUGE}}}`, 'body.metadata.x'],
    ['number default_value', `{"name":"p","type":"number","default_value":${HUGE}}`, 'body.default_value'],
    ['number off_value', `{"name":"p","type":"number","default_value":1,"off_value":${HUGE}}`, 'body.off_value'],
    ['json default_value, nested', `{"name":"p","type":"json","default_value":{"a":[1,{"b":${HUGE}}]}}`, 'body.default_value.a.1.b'],
    ['json off_value, nested', `{"name":"p","type":"json","default_value":{},"off_value":[${HUGE}]}`, 'body.off_value.0'],
    ['json variant, nested', `{"name":"p","type":"json","variants":{"on":{"x":${HUGE}},"off":null}}`, 'body.variants.on.x'],
    ['json value given as JSON text', `{"name":"p","type":"json","default_value":"{\\"a\\":${HUGE}}"}`, 'body.default_value'],
    ['number variant', `{"name":"p","type":"number","variants":{"on":${HUGE},"off":0}}`, 'body.variants.on'],
    ['percentage', `{"name":"p","targeting_rules":{"percentage":${HUGE}}}`, 'body.targeting_rules.percentage'],
    ['rollout weight', `{"name":"p","targeting_rules":{"rollout":{"on":${HUGE},"off":1}}}`, 'body.targeting_rules.rollout.on'],
    ['rule clause value', `{"name":"p","targeting_rules":{"rules":[{"clauses":[{"attribute":"age","operator":"lt","values":[${HUGE}]}],"serve":{"variant":"on"}}]}}`,
      'body.targeting_rules.rules.0.clauses.0.values.0'],
    ['rule rollout weight', `{"name":"p","targeting_rules":{"rules":[{"clauses":[],"serve":{"rollout":{"on":${HUGE}}}}]}}`,
      'body.targeting_rules.rules.0.serve.rollout.on'],
    ['user id', `{"name":"p","targeting_rules":{"user_ids":[${HUGE}]}}`, 'body.targeting_rules.user_ids.0']
  ]
  t.same(await failingInOrder(cases, async ([label, payload, field]) => {
    const before = await revisionOf(ctx)
    const res = await raw(ctx, 'POST', '/flags', payload)
    const wrong = problemDiff(res, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
    const errors = bodyOf(res).errors ?? []
    if (!errors.some((e: Json) => e.field === field)) wrong.push(`does not name ${field}: ${JSON.stringify(errors)}`)
    if (await revisionOf(ctx) !== before) wrong.push('committed')
    if ((await ctx.app.inject({ url: '/flags/p' })).statusCode !== 404) wrong.push('flag p exists')
    return wrong.length === 0 ? undefined : { case: label, wrong }
  }), [], `each of ${cases.length} POSTs with 1e309 somewhere: a 400 problem naming the field, nothing committed`)
  // The same through a merge patch of an existing flag, on both media types.
  const patches = ['application/json', 'application/merge-patch+json'].flatMap((type) =>
    [`{"metadata":{"x":${HUGE}}}`, `{"targeting_rules":{"percentage":-${HUGE}}}`, `{"type":"json","default_value":[${HUGE}]}`].map((patch) => [type, patch] as const))
  t.same(await failingInOrder(patches, async ([type, patch]) => {
    const before = await revisionOf(ctx)
    const wrong = problemDiff(await raw(ctx, 'PUT', '/flags/good', patch, type), 400, 'FLAGPOST_ERR_VALIDATION', '/flags/good')
    if (await revisionOf(ctx) !== before) wrong.push('committed')
    return wrong.length === 0 ? undefined : { case: `PUT ${patch} (${type})`, wrong }
  }), [], 'the same through PUT, as JSON and as a merge patch: a 400 problem, nothing committed')
  await readsWork(t, ctx, 'after the refused writes')
})

t.test('a non-finite number in an evaluation context is a 400 (INVALID_CONTEXT on OFREP), never a 500', async (t) => {
  const ctx = await withGoodFlag(t)
  for (const value of [HUGE, `-${HUGE}`]) {
    const evaluate = await raw(ctx, 'POST', '/evaluate', `{"context":{"user_id":"alice","age":${value}}}`)
    t.match(isProblem(t, evaluate, 400, 'FLAGPOST_ERR_VALIDATION', '/evaluate').errors, [{ field: 'body.context.age', message: 'must be a finite number' }])
    for (const url of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/good']) {
      const res = await raw(ctx, 'POST', url, `{"context":{"targetingKey":"alice","age":${value}}}`)
      t.equal(res.statusCode, 400, `${url}: ${res.body}`)
      t.equal(res.json().errorCode, 'INVALID_CONTEXT')
      t.match(res.json().errorDetails, /context\.age: must be a finite number/)
    }
  }
  // A query string is text: "1e309" is a string attribute, and numeric operators read it as no number (no match).
  t.equal((await ctx.app.inject({ url: `/evaluate/good?age=${HUGE}` })).statusCode, 200)
  await readsWork(t, ctx, 'after the refused evaluations')
})

t.test('finite numbers at the limits are fine and round-trip', async (t) => {
  const ctx = await build(t)
  const res = await raw(ctx, 'POST', '/flags', '{"name":"big","type":"json","default_value":{"max":1.7976931348623157e308,"tiny":5e-324,"neg":-1e308},"metadata":{"n":1e308}}')
  t.equal(res.statusCode, 201, res.body)
  t.same(res.json().default_value, { max: Number.MAX_VALUE, tiny: 5e-324, neg: -1e308 })
  t.same((await ctx.app.inject({ url: '/flags/big' })).json().metadata, { n: 1e308 })
})

/** Write a flag row's metadata as an older version stored `{"x": 1e309}`: `{"x": null}`. */
async function poison (url: string, file: string | undefined, name: string): Promise<void> {
  const metadata = '{"x":null,"owner":"team"}'
  if (file === undefined) {
    await queryPostgres(url, 'update flags set metadata = $1 where name = $2', [metadata, name])
    return
  }
  const db = new Database(file)
  try { db.prepare('update flags set metadata = ? where name = ?').run(metadata, name) } finally { db.close() }
}

t.test('a row poisoned by an older version fails only itself, on a restarted instance', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const first = await build(t, { DATABASE_URL: db.url })
  await createFlag(first, { name: 'good' })
  await createFlag(first, { name: 'bad' })
  await createFlag(first, { name: 'zz_last' })
  t.equal((await first.write({ method: 'POST', url: '/customers', payload: { id: 'acme' } })).statusCode, 201)
  await poison(db.url, db.file, 'bad')

  const ctx = await build(t, { DATABASE_URL: db.url })
  await readsWork(t, ctx, 'with a poisoned row')

  const list = await ctx.app.inject({ url: '/flags' })
  t.same(list.json().flags.map((f: Json) => f.name), ['good', 'zz_last'], 'GET /flags: the others, the poisoned one left out')
  const first1 = await ctx.app.inject({ url: '/flags?limit=1' })
  t.equal(first1.statusCode, 200, 'a page holding only the poisoned flag')
  t.same(first1.json().flags, [], '…is empty but still pages on')
  const next = await ctx.app.inject({ url: `/flags?limit=1&cursor=${encodeURIComponent(first1.json().next_cursor)}` })
  t.same(next.json().flags.map((f: Json) => f.name), ['good'])

  const bulk = (await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: { user_id: 'alice' } } })).json().results
  t.match(bulk.bad, { name: 'bad', error_code: 'GENERAL', error_message: /cannot be served/ }, 'POST /evaluate: an error entry')
  t.match(bulk.good, { value: true, reason: 'STATIC' }, '…and the others evaluated')
  const named = (await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: { context: {}, flags: ['bad', 'good'] } })).json().results
  t.equal(named.bad.error_code, 'GENERAL')
  t.equal(named.good.value, true)

  const ofrep = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', payload: { context: { targetingKey: 'alice' } } })
  t.equal(ofrep.statusCode, 200)
  t.match(ofrep.json().flags, [{ key: 'bad', errorCode: 'GENERAL' }, { key: 'good', value: true }, { key: 'zz_last', value: true }], 'OFREP bulk: an error entry')

  const single = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags/bad', payload: { context: {} } })
  t.equal(single.statusCode, 500)
  t.match(single.json(), { key: 'bad', errorCode: 'GENERAL' }, 'OFREP single: a GENERAL error for that flag only')
  isProblem(t, await ctx.app.inject({ url: '/evaluate/bad' }), 500, 'FLAGPOST_ERR_FLAG_UNSERVABLE', '/evaluate/bad')
  isProblem(t, await ctx.app.inject({ url: '/flags/bad' }), 500, 'FLAGPOST_ERR_FLAG_UNSERVABLE', '/flags/bad')
  t.same((await ctx.app.inject({ url: '/customers/acme/flags' })).json().flags.map((f: Json) => f.name), ['good', 'zz_last'])

  // Renaming it commits a servable row and answers 200 (never commit-then-500); a PUT repairs it as well.
  const renamed = await ctx.write({ method: 'POST', url: '/flags/bad/rename', payload: { new_name: 'renamed' } })
  t.equal(renamed.statusCode, 200, renamed.body)
  t.same(renamed.json().metadata, { owner: 'team' }, 'the unservable metadata value is dropped')
  t.equal((await ctx.app.inject({ url: '/flags' })).json().flags.length, 3, 'all three listed again')
})

t.test('PUT repairs a poisoned row', async (t) => {
  const db = await testDatabase(t, { shared: true })
  const first = await build(t, { DATABASE_URL: db.url })
  await createFlag(first, { name: 'bad', metadata: { owner: 'team' } })
  await poison(db.url, db.file, 'bad')
  const ctx = await build(t, { DATABASE_URL: db.url })
  const put = await ctx.write({ method: 'PUT', url: '/flags/bad', payload: { description: 'fixed' } })
  t.equal(put.statusCode, 200, put.body)
  t.same(put.json().metadata, { owner: 'team' })
  t.equal((await ctx.app.inject({ url: '/evaluate/bad' })).statusCode, 200)
  const before = await revisionOf(ctx)
  isProblem(t, await raw(ctx, 'PUT', '/flags/bad', `{"metadata":{"n":${HUGE}}}`), 400, 'FLAGPOST_ERR_VALIDATION', '/flags/bad')
  t.equal(await revisionOf(ctx), before)
})
