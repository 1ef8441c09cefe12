import t from 'tap'
import { build, createFlag, isProblem, revisionOf, WRITE_KEY, type TestApp } from '../helper.js'
import { failingInOrder } from '../support/cases.js'
import { bodyOf, problemDiff } from '../support/refusals.js'

/**
 * Strings a database cannot hold as written: NUL (Postgres text and jsonb refuse it: a 500 there)
 * and unpaired surrogates (not well-formed Unicode: stored as U+FFFD, so what was acknowledged is not
 * what is served). Both are a 400 naming the field, wherever the string is, and nothing is written.
 * This file runs on SQLite and on Postgres.
 */

type Json = Record<string, any>
const NUL = '\\u0000'
const LONE = '\\ud800'
const send = (ctx: TestApp, method: 'POST' | 'PUT', url: string, payload: string) =>
  ctx.app.inject({ method, url, payload, headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY } })

for (const [label, bad, message] of [['NUL', NUL, 'must not contain NUL characters'], ['an unpaired surrogate', LONE, 'must be well-formed Unicode (no unpaired surrogates)']]) {
  t.test(`${label} in any string of a write is a 400 naming the field; nothing is written`, async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'good', type: 'string', default_value: 'x' })
    const writes: Array<['POST' | 'PUT', string, string, string]> = [
      ['POST', '/flags', `{"name":"a${bad}b"}`, 'body.name'],
      ['POST', '/flags', `{"name":"p","description":"d${bad}"}`, 'body.description'],
      ['POST', '/flags', `{"name":"p","type":"string","default_value":"v${bad}"}`, 'body.default_value'],
      ['POST', '/flags', `{"name":"p","type":"json","default_value":{"k${bad}":1}}`, 'body.default_value.k' + (bad === NUL ? '\u0000' : '\ud800')],
      ['POST', '/flags', `{"name":"p","type":"json","default_value":"\\"v${bad}\\""}`, 'body.default_value'],
      ['POST', '/flags', `{"name":"p","metadata":{"owner":"o${bad}"}}`, 'body.metadata.owner'],
      ['POST', '/flags', `{"name":"p","tags":["t${bad}"]}`, 'body.tags.0'],
      ['POST', '/flags', `{"name":"p","targeting_rules":{"user_ids":["u${bad}"]}}`, 'body.targeting_rules.user_ids.0'],
      ['POST', '/flags', `{"name":"p","targeting_rules":{"rules":[{"clauses":[{"attribute":"c","operator":"in","values":["v${bad}"]}],"serve":{"variant":"on"}}]}}`,
        'body.targeting_rules.rules.0.clauses.0.values.0'],
      ['PUT', '/flags/good', `{"description":"d${bad}"}`, 'body.description'],
      ['PUT', '/flags/good', `{"variants":{"on":"v${bad}"}}`, 'body.variants.on'],
      ['POST', '/customers', `{"id":"acme","name":"n${bad}"}`, 'body.name'],
      ['POST', '/flags/good/rename', `{"new_name":"n${bad}"}`, 'body.new_name']
    ]
    t.same(await failingInOrder(writes, async ([method, url, payload, field]) => {
      const before = await revisionOf(ctx)
      const res = await send(ctx, method, url, payload)
      const wrong = problemDiff(res, 400, 'FLAGPOST_ERR_VALIDATION', url)
      const errors = bodyOf(res).errors ?? []
      if (!errors.some((e: Json) => e.field === field && e.message.endsWith(message.replace(/^must/, '')))) wrong.push(`does not name ${JSON.stringify(field)}: ${JSON.stringify(errors)}`)
      if (await revisionOf(ctx) !== before) wrong.push('written')
      return wrong.length === 0 ? undefined : { case: `${method} ${url} ${payload}`, wrong }
    }), [], `each of ${writes.length} writes: a 400 problem naming the field and saying what is wrong, nothing written`)
    t.same((await ctx.app.inject({ url: '/flags' })).json().flags.map((f: Json) => f.name), ['good'])
    t.equal((await ctx.app.inject({ url: '/flags/good' })).json().default_value, 'x')
  })
}

t.test('NUL or an unpaired surrogate in a query string or a path is a 400 naming it', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'good' })
  const reads: Array<[string, string, string]> = [
    ['GET', '/flags?q=a%00b', 'query.q'],
    ['GET', '/flags?tag=a%00b', 'query.tag'],
    ['GET', '/flags?cursor=a%00b', 'query.cursor'],
    ['GET', '/flags/a%00b', 'params.name'],
    ['DELETE', '/flags/a%00b', 'params.name'],
    ['GET', '/flags/a%00b/overrides', 'params.name'],
    ['GET', '/evaluate/good?country=D%00E', 'query.country'],
    ['GET', '/evaluate/a%00b', 'params.name']
  ]
  t.same(await failingInOrder(reads, async ([method, url, field]) => {
    const res = await ctx.app.inject({ method: method as 'GET', url, headers: { 'x-api-key': WRITE_KEY } })
    const wrong = problemDiff(res, 400, 'FLAGPOST_ERR_VALIDATION', url.split('?')[0])
    const first = bodyOf(res).errors?.[0]
    if (first?.field !== field || first?.message !== 'must not contain NUL characters') wrong.push(`first error ${JSON.stringify(first)}`)
    return wrong.length === 0 ? undefined : { case: `${method} ${url}`, wrong }
  }), [], `each of ${reads.length} queries and paths: a 400 problem naming the parameter, NUL refused`)
  // OFREP reports it in its own terms.
  const ofrep = await ctx.app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags?flagConfigEtag=a%00', payload: { context: {} } })
  t.equal(ofrep.statusCode, 400)
  t.equal(ofrep.json().errorCode, 'INVALID_CONTEXT')
  t.equal(await revisionOf(ctx), 1, 'only the setup write')
})

t.test('NUL or an unpaired surrogate in an evaluation context is a 400, OFREP INVALID_CONTEXT', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'good' })
  for (const bad of [NUL, LONE]) {
    const res = await send(ctx, 'POST', '/evaluate', `{"context":{"user_id":"a${bad}"}}`)
    t.match(isProblem(t, res, 400, 'FLAGPOST_ERR_VALIDATION', '/evaluate').errors, [{ field: 'body.context.user_id' }])
    for (const url of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/good']) {
      const ofrep = await send(ctx, 'POST', url, `{"context":{"targetingKey":"a${bad}"}}`)
      t.equal(ofrep.statusCode, 400, `${url}: ${ofrep.body}`)
      t.equal(ofrep.json().errorCode, 'INVALID_CONTEXT')
    }
  }
})

t.test('well-formed text beyond the BMP, and every other control character, round-trips', async (t) => {
  const ctx = await build(t)
  const text = 'emoji 😀 surrogate pair \ud83d\ude00, tab\t, bell\u0007, RTL \u202e, BOM \ufeff'
  const res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'unicode', type: 'string', default_value: text, description: text, metadata: { note: text } } })
  t.equal(res.statusCode, 201, res.body)
  const flag = (await ctx.app.inject({ url: '/flags/unicode' })).json()
  t.equal(flag.default_value, text)
  t.equal(flag.description, text)
  t.equal(flag.metadata.note, text)
  t.equal((await ctx.app.inject({ url: `/evaluate/unicode?country=${encodeURIComponent('😀')}` })).json().value, text)
})
