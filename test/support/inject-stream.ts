import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'

/** How long a test reads an event stream before it lets go of it. */
const STREAM_READ_MS = 100

/**
 * app.inject for any operation, event streams included: a `text/event-stream` answer never ends, so
 * its first events (what arrives within STREAM_READ_MS) are read and the stream is let go; any
 * other answer is read whole. The result reads like inject's (`body`, `payload`, `json()`).
 */
export async function injectAny (app: FastifyInstance, opts: InjectOptions): Promise<LightMyRequestResponse> {
  const res = await app.inject({ ...opts, payloadAsStream: true })
  const stream = res.stream()
  const chunks: Buffer[] = []
  const streaming = String(res.headers['content-type'] ?? '').startsWith('text/event-stream')
  await new Promise<void>((resolve) => {
    const timer = streaming ? setTimeout(() => { stream.destroy(); resolve() }, STREAM_READ_MS) : undefined
    stream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)))
    stream.on('end', () => { clearTimeout(timer); resolve() })
    stream.on('error', () => { clearTimeout(timer); resolve() })
    stream.on('close', () => { clearTimeout(timer); resolve() })
  })
  const body = Buffer.concat(chunks).toString('utf8')
  for (const [name, value] of Object.entries({ body, payload: body, rawPayload: Buffer.concat(chunks), json: () => JSON.parse(body) })) {
    Object.defineProperty(res, name, { value, configurable: true })
  }
  return res
}
