import t from 'tap'
import { build, createFlag } from './helper.js'

t.test('helper builds an app that creates and evaluates a flag', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', default_value: 'true' })
  const res = await ctx.app.inject({ url: '/evaluate/f?user_id=alice' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { value: true, reason: 'STATIC' })
})
