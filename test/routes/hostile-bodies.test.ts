import t from 'tap'
import { build, isProblem, revisionOf, WRITE_KEY } from '../helper.js'

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
// Contexts read nested objects (up to 8 levels) and ignore arrays: depth is tested with objects there,
// at most 30,000 deep so the body stays under the 256 KiB limit (6 bytes a level).
const nestedObject = (depth: number): string => '{"a":'.repeat(Math.min(depth, 30_000)) + '1' + '}'.repeat(Math.min(depth, 30_000))

t.test('deeply nested JSON is a clear 400 everywhere, never a 500', async (t) => {
  const ctx = await build(t)
  const send = (url: string, payload: string) =>
    ctx.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', 'x-api-key': WRITE_KEY } })
  for (const depth of [33, 100_000]) {
    const flag = await send('/flags', `{"name":"deep","type":"json","default_value":${nested(depth)}}`)
    const body = isProblem(t, flag, 400, 'FLAGPOST_ERR_VALIDATION', '/flags')
    // Past the flag's own bound (32), the body's (64) stops the walk before anything recurses.
    t.match(body.errors, [{ field: 'body.default_value', message: /^nests deeper than (32|64) levels$/ }], `json value nested ${depth} deep`)
    const variants = await send('/flags', `{"name":"deep","type":"json","variants":{"on":1,"off":{"a":${nested(depth)}}}}`)
    t.match(isProblem(t, variants, 400, 'FLAGPOST_ERR_VALIDATION', '/flags').errors, [{ field: 'body.variants.off' }])
    t.equal((await send('/evaluate', `{"context":{"a":${nestedObject(depth)}}}`)).statusCode, 400)
    const ofrep = await send('/ofrep/v1/evaluate/flags/x', `{"context":{"a":${nestedObject(depth)}}}`)
    t.equal(ofrep.statusCode, 400)
    t.equal(ofrep.json().errorCode, 'INVALID_CONTEXT')
    t.equal((await send('/flags', `{"name":"deep","targeting_rules":{"rules":[{"clauses":[{"attribute":"a","operator":"in","values":${nested(depth)}}],"serve":{"variant":"on"}}]}}`)).statusCode, 400)
  }
  t.equal(await revisionOf(ctx), 0, 'nothing was written')
})

t.test('a json value 32 levels deep is fine and round-trips', async (t) => {
  const ctx = await build(t)
  const value = JSON.parse(nested(32))
  const res = await ctx.write({ method: 'POST', url: '/flags', payload: { name: 'deep_ok', type: 'json', default_value: value } })
  t.equal(res.statusCode, 201, res.body)
  t.same((await ctx.app.inject({ url: '/evaluate/deep_ok' })).json().value, value)
})
