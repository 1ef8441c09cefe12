import t, { type Test } from 'tap'
import { build, createFlag } from '../helper.js'

/**
 * TRUST_PROXY reaches Fastify: request.ip, the rate-limit key, follows X-Forwarded-For only from a
 * trusted proxy. With RATE_LIMIT_PER_MINUTE=1 a second evaluation from the same client is a 429,
 * so the status codes show whom the service took each request to come from.
 */
interface Hit { xff?: string, from?: string }

async function statuses (t: Test, env: Record<string, string>, hits: Hit[]): Promise<number[]> {
  const ctx = await build(t, { RATE_LIMIT_PER_MINUTE: '1', ...env })
  await createFlag(ctx, { name: 'f' })
  const codes: number[] = []
  for (const hit of hits) {
    const res = await ctx.app.inject({
      url: '/evaluate/f?user_id=u',
      ...(hit.from === undefined ? {} : { remoteAddress: hit.from }),
      headers: hit.xff === undefined ? {} : { 'x-forwarded-for': hit.xff }
    })
    codes.push(res.statusCode)
  }
  return codes
}

// Two clients behind the same proxy (inject's default peer, 127.0.0.1), then the first again.
const twoClients: Hit[] = [{ xff: '203.0.113.1' }, { xff: '203.0.113.2' }, { xff: '203.0.113.1' }]

t.test('unset or false: X-Forwarded-For is ignored, everyone behind the proxy is one client', async (t) => {
  t.same(await statuses(t, {}, twoClients), [200, 429, 429])
  t.same(await statuses(t, { TRUST_PROXY: 'false' }, twoClients), [200, 429, 429])
})

t.test('the proxy\'s address: each client behind it has its own budget', async (t) => {
  t.same(await statuses(t, { TRUST_PROXY: '127.0.0.1' }, twoClients), [200, 200, 429])
})

t.test('only the entry the trusted proxy added counts, not what the client sent before it', async (t) => {
  // nginx appends its peer's address; anything to the left came from the client and may be forged.
  const forged: Hit[] = [{ xff: '198.51.100.7, 203.0.113.1' }, { xff: '198.51.100.8, 203.0.113.1' }]
  t.same(await statuses(t, { TRUST_PROXY: '127.0.0.1' }, forged), [200, 429], 'the same real client, whatever it forges')
  t.same(await statuses(t, { TRUST_PROXY: 'true' }, forged), [200, 200], 'true believes every entry: the client picks its own key')
})

t.test('an unlisted peer is the client itself, whatever it claims', async (t) => {
  const direct: Hit[] = [{ from: '192.0.2.50', xff: '203.0.113.1' }, { from: '192.0.2.50', xff: '203.0.113.2' }]
  t.same(await statuses(t, { TRUST_PROXY: '127.0.0.1' }, direct), [200, 429])
})

t.test('CIDRs and range names', async (t) => {
  const peers: Hit[] = [{ from: '10.1.2.3', xff: '203.0.113.1' }, { from: '10.9.8.7', xff: '203.0.113.2' }, { from: '192.0.2.50', xff: '203.0.113.3' }, { from: '192.0.2.50', xff: '203.0.113.4' }]
  t.same(await statuses(t, { TRUST_PROXY: '172.16.0.0/12, 10.0.0.0/8' }, peers), [200, 200, 200, 429], 'peers inside a listed CIDR are trusted')
  t.same(await statuses(t, { TRUST_PROXY: 'loopback' }, twoClients), [200, 200, 429], 'a range name')
})
