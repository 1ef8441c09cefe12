import { build, revisionOf, type TestApp } from '../helper.js'
import { listening, sseClient, type SseStream } from './sse.js'

/** Flagpost-specific helpers of the stream tests (test/routes/streams*.test.ts). */

interface TestLike { teardown (fn: () => unknown): void }

/** A test app listening on a loopback port, with a stream opener whose streams close when the test ends. */
export interface LiveApp extends TestApp {
  base: string
  open: (path: string, headers?: Record<string, string>) => Promise<SseStream>
}

export async function liveApp (t: TestLike, env: Record<string, string> = {}): Promise<LiveApp> {
  const ctx = await build(t, env)
  const base = await listening(ctx.app)
  return { ...ctx, base, open: sseClient(t, base) }
}

/** The stream, once past its preamble (`retry: 2000`, `: connected`): attached to the hub. Throws on a refusal. */
export async function connected (stream: SseStream): Promise<SseStream> {
  if (stream.status !== 200) throw new Error(`stream refused: ${stream.status} ${stream.text}`)
  await stream.comment((c) => c === 'connected')
  return stream
}

/** A write (with the admin key) that must succeed; the revision after it. */
export async function write (ctx: TestApp, url: string, payload: Record<string, unknown>, method: 'PUT' | 'POST' | 'DELETE' = 'PUT'): Promise<number> {
  const res = await ctx.write({ method, url, ...(method === 'DELETE' ? {} : { payload }) })
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  return revisionOf(ctx)
}

export async function createKey (ctx: TestApp, body: Record<string, unknown>): Promise<{ id: string, secret: string }> {
  const res = await ctx.write({ method: 'POST', url: '/api-keys', payload: body })
  if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`)
  return res.json()
}

let percentage = 0
/** A rollout percentage unlike the last one (and the default 100): a sentinel write always changes something. */
export const nextPercentage = (): number => (percentage = percentage % 99 + 1)
