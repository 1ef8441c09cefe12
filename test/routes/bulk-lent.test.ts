import { connect, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { build, createFlag, type TestApp } from '../helper.js'
import { until } from '../support/until.js'

/**
 * Bulk answers are sent from lent memory (src/routes/lent-bytes.ts), lent again once their response
 * is closed. Over real sockets: a client that stops reading holds its answer in the server's queue
 * while other requests are answered from the pool; a client that hangs up mid-answer gives it back;
 * an answer kept for a context that asks again is its own copy. Every answer must be the one a quiet
 * server gives. The answers are about 6 MiB, more than the kernel takes for a client that does not
 * read (about 3 MiB here), so the rest waits in the server's queue: the test checks that it does.
 */

type Json = Record<string, any>
const FLAGS = 128
/** Each variant's value: 48 KiB, so an answer of 128 flags is about 6 MiB. */
const VALUE = 48 * 1024
const name = (i: number): string => `big-${String(i).padStart(3, '0')}`
/** Most flags by name, in another order than the answer's, and one no flag has. */
const NAMED = [...Array.from({ length: 100 }, (_, i) => name((i * 37) % FLAGS)), 'nope']

const routes = {
  'OFREP bulk': (user: string) => ({ path: '/ofrep/v1/evaluate/flags', body: { context: { targetingKey: user, country: 'DE' } } }),
  'POST /evaluate': (user: string) => ({ path: '/evaluate', body: { context: { user_id: user, country: 'DE' } } }),
  'POST /evaluate, named': (user: string) => ({ path: '/evaluate', body: { context: { user_id: user }, flags: NAMED } })
}
type Route = keyof typeof routes

/** Flags whose answer differs from one user to the next in about half the places. */
async function bigFlags (ctx: TestApp): Promise<void> {
  for (let i = 0; i < FLAGS; i++) {
    await createFlag(ctx, {
      name: name(i),
      type: 'string',
      variants: { a: `${'a'.repeat(VALUE)}${name(i)}`, b: `${'b'.repeat(VALUE)}${name(i)}` },
      default_variant: 'a',
      off_variant: 'a',
      targeting_rules: { rollout: { a: 50, b: 50 } }
    })
  }
}

/** The raw HTTP/1.1 request, one per connection. */
function requestText (port: number, { path, body }: { path: string, body: Json }): string {
  const json = JSON.stringify(body)
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`
}

/** A client that sends its request and reads nothing until `readAll` is called. */
async function stalledClient (port: number, request: { path: string, body: Json }): Promise<{ socket: Socket, readAll: () => Promise<string> }> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  socket.pause()
  socket.write(requestText(port, request))
  return {
    socket,
    readAll: async () => {
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.resume()
      await new Promise((resolve) => socket.once('end', resolve))
      return bodyOf(Buffer.concat(chunks))
    }
  }
}

/** The body of a whole HTTP/1.1 response with Content-Length, or the test fails. */
function bodyOf (raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, end).toString('latin1')
  const length = Number(/^content-length: (\d+)$/im.exec(head)?.[1])
  if (!head.startsWith('HTTP/1.1 200') || end < 0 || raw.length - end - 4 !== length) throw new Error(`not a whole 200: ${head} (${raw.length - end - 4} of ${length})`)
  return raw.subarray(end + 4).toString('utf8')
}

async function ask (base: string, request: { path: string, body: Json }): Promise<string> {
  const res = await fetch(`${base}${request.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${res.status} ${text.slice(0, 300)}`)
  return text
}

/** A server with the big flags; `queued()` is how many bytes its connections hold unsent. */
async function listening (t: Test, env: Record<string, string>): Promise<{ base: string, port: number, queued: () => number }> {
  const ctx = await build(t, env)
  await bigFlags(ctx)
  const sockets = new Set<Socket>()
  ctx.app.server.on('connection', (socket: Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)) })
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = ctx.app.server.address() as { port: number }
  return { base: `http://127.0.0.1:${port}`, port, queued: () => [...sockets].reduce((sum, socket) => sum + socket.writableLength, 0) }
}

/** Other users' answers, `n` of them at once: each one lent memory, given back when sent. */
const storm = async (base: string, route: Route, n: number, from: number): Promise<string[]> =>
  Promise.all(Array.from({ length: n }, (_, i) => ask(base, routes[route](`storm-${from + i}`))))

for (const [label, env] of [['kept (default budget)', {}], ['BULK_CACHE_MB=0', { BULK_CACHE_MB: '0' }]] as const) {
  t.test(`${label}: clients that stop reading get their whole answer while others are answered`, async (t) => {
    const { base, port, queued } = await listening(t, env)
    for (const route of Object.keys(routes) as Route[]) {
      const users = ['slow-1', 'slow-2', 'slow-3']
      const stalled = await Promise.all(users.map((user) => stalledClient(port, routes[route](user))))
      // Their answers are made and partly sent; the rest waits in the server while the storm goes by.
      // Within 10 s, else the test fails: the kernel took the whole answers.
      await until(() => queued() > 3 * 1024 * 1024, 10_000, 10, 'three answers partly queued')
      const others = await storm(base, route, 8, 0)
      t.ok(queued() > 3 * 1024 * 1024, `${route}: the stalled answers were still queued after the storm (${queued()} bytes)`)
      t.equal(new Set(others).size, others.length, `${route}: the storm's answers differ from each other`)
      const received = await Promise.all(stalled.map(({ readAll }) => readAll()))
      const quiet = []
      for (const user of users) quiet.push(await ask(base, routes[route](user)))
      for (let i = 0; i < users.length; i++) t.ok(received[i] === quiet[i], `${route}: ${users[i]} got the answer a quiet server gives`)
      t.ok(JSON.parse(received[0]), 'JSON')
      t.ok(received[0].length > 4 * 1024 * 1024, `${route}: over 4 MiB (${received[0].length} bytes)`)
    }
  })

  t.test(`${label}: clients that hang up mid-answer leave every other answer whole`, async (t) => {
    const { base, port, queued } = await listening(t, env)
    for (const route of Object.keys(routes) as Route[]) {
      const leaving = await Promise.all(Array.from({ length: 6 }, (_, i) => stalledClient(port, routes[route](`leaving-${i}`))))
      await until(() => queued() > 6 * 1024 * 1024, 10_000, 10, 'six answers partly queued')
      // Half read a little first; all hang up with their answer unsent.
      await Promise.all(leaving.slice(0, 3).map(({ socket }) => new Promise((resolve) => { socket.resume(); socket.once('data', resolve) })))
      for (const { socket } of leaving) socket.destroy()
      const during = await storm(base, route, 8, 100)
      const after = await storm(base, route, 8, 100)
      t.same(during, after, `${route}: the same answers, asked while the others left and again on a quiet server`)
    }
  })
}

t.test('an answer kept for a context that asks again is its own, not lent memory', async (t) => {
  const { base } = await listening(t, {})
  for (const route of ['OFREP bulk', 'POST /evaluate'] as const) {
    const first = await ask(base, routes[route]('regular'))
    // The second ask keeps the answer (services/bulk-answers.ts); its lent memory goes back when sent.
    t.equal(await ask(base, routes[route]('regular')), first)
    await storm(base, route, 8, 200)
    t.ok(await ask(base, routes[route]('regular')) === first, `${route}: the kept answer, after the memory it was made in was lent again`)
  }
})
