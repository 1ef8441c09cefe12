import t from 'tap'
import { build, createFlag } from '../helper.js'

/**
 * `GET /flags/{name}/customers` scans customer ids, then reads the rows of those it found: customers
 * removed in between must not break the page (it once answered 500 under concurrent removals).
 */
t.test('listing a flag\'s customers while customers are removed and added never fails', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f', type: 'boolean', default_value: true })
  const ids = Array.from({ length: 60 }, (_, i) => `c${String(i).padStart(2, '0')}`)
  const created: Array<[string, number]> = []
  for (const id of ids) created.push([id, (await ctx.write({ method: 'POST', url: '/customers', payload: { id } })).statusCode])
  t.strictSame(created.filter(([, status]) => status !== 201), [], 'every customer is created (id, status of each that was not)')

  const statuses = new Map<number, number>()
  const list = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const res = await ctx.app.inject({ url: `/flags/f/customers?state=enabled&limit=${1 + (i % 7)}` })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode === 200) {
        const body = res.json() as { customers: Array<{ id: string }>, next_cursor: string | null }
        if (body.next_cursor !== null) {
          const next = await ctx.app.inject({ url: `/flags/f/customers?state=enabled&cursor=${encodeURIComponent(body.next_cursor)}` })
          statuses.set(next.statusCode, (statuses.get(next.statusCode) ?? 0) + 1)
        }
      }
    }
  }
  const churn = async (): Promise<void> => {
    for (const id of ids) {
      await ctx.write({ method: 'DELETE', url: `/customers/${id}` })
      await ctx.write({ method: 'POST', url: '/customers', payload: { id: `${id}-new` } })
    }
  }
  await Promise.all([list(), list(), list(), list(), churn()])
  t.same([...statuses.keys()], [200], `every listing answered 200: ${JSON.stringify([...statuses])}`)
})
