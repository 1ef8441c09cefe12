import t from 'tap'
import { build, createFlag, revisionOf } from '../helper.js'

const W = { actor: 'test' }
/** The default environment: what the HTTP routes below address without naming one. */
const ENV = 'production'

t.test('ids the HTTP API cannot address are refused by the service too (CLI, library)', async (t) => {
  const ctx = await build(t)
  const subjects = ctx.container.services.subjects
  for (const id of ['Acme Corp', '../x', '.hidden', '', 'x'.repeat(257), 'naïve']) {
    await t.rejects(subjects.addCustomer({ id }, W), { code: 'FLAGPOST_ERR_VALIDATION' }, JSON.stringify(id))
    await t.rejects(subjects.addUser({ id }, W), { code: 'FLAGPOST_ERR_VALIDATION' })
  }
  await t.rejects(subjects.addUser({ id: 'ok', customerId: 'bad id' }, W), { code: 'FLAGPOST_ERR_VALIDATION' })
  t.equal(await revisionOf(ctx), 0)
  for (const id of ['101', 'alice@example.com', 'auth0|abc', 'urn:x:1', 'a+b']) await subjects.addCustomer({ id }, W)
  t.equal(await revisionOf(ctx), 5)
})

t.test('setting an override to what it already is writes nothing', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f' })
  const subjects = ctx.container.services.subjects
  await subjects.setOverride(ENV, 'f', 'customer', 'c1', { enabled: true }, W)
  const rev = await revisionOf(ctx)
  await subjects.setOverride(ENV, 'f', 'customer', 'c1', { enabled: true, variant: null }, W)
  t.equal(await revisionOf(ctx), rev, 'no new revision')
  await subjects.setOverride(ENV, 'f', 'customer', 'c1', { enabled: false }, W)
  t.equal(await revisionOf(ctx), rev + 1)
})

t.test('a forged override cursor is a 400, not a surprising page', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'f' })
  const forged = Buffer.from('robot:x').toString('base64url')
  await t.rejects(ctx.container.services.subjects.listOverrides(ENV, 'f', { cursor: forged }), { code: 'FLAGPOST_ERR_VALIDATION' })
  const res = await ctx.app.inject({ url: `/flags/f/overrides?cursor=${forged}` })
  t.equal(res.statusCode, 400)
})

t.test('removing a variant that overrides pin is a 409 naming them; nothing changes', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'colour', type: 'string', variants: { on: 'blue', off: 'grey', green: 'green' } })
  await ctx.container.services.subjects.setOverride(ENV, 'colour', 'user', 'u1', { enabled: true, variant: 'green' }, W)
  const rev = await revisionOf(ctx)
  const res = await ctx.write({ method: 'PUT', url: '/flags/colour', payload: { variants: { green: null } } })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'FLAGPOST_ERR_CONFLICT')
  t.match(res.json().detail, /user u1 → green/)
  t.equal(await revisionOf(ctx), rev)
  t.ok(Object.hasOwn((await ctx.app.inject({ url: '/flags/colour' })).json().variants, 'green'))
  await ctx.container.services.subjects.clearOverride(ENV, 'colour', 'user', 'u1', W)
  t.equal((await ctx.write({ method: 'PUT', url: '/flags/colour', payload: { variants: { green: null } } })).statusCode, 200, 'once cleared, it can go')
})

t.test('flag names the API cannot address are refused by the flag service itself (CLI, library)', async (t) => {
  const ctx = await build(t)
  const flags = ctx.container.services.flags
  for (const name of ['my flag', '../x', '-lead', 'x'.repeat(129), 'naïve']) {
    await t.rejects(flags.create(ENV, { name, defaultValue: true }, W), { code: 'FLAGPOST_ERR_VALIDATION' }, JSON.stringify(name))
  }
  await flags.create(ENV, { name: 'ok', defaultValue: true }, W)
  await t.rejects(flags.rename(ENV, 'ok', 'not ok', W), { code: 'FLAGPOST_ERR_VALIDATION' })
  t.equal(await revisionOf(ctx), 1)
})
