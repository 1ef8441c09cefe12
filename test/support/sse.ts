import { request, type IncomingHttpHeaders } from 'node:http'

/**
 * A server-sent event stream read as a client reads it (the WHATWG event-stream parser: fields,
 * comments, `\n`, `\r\n` or `\r` line ends, events dispatched on a blank line), over node:http on a
 * connection of its own (no pool: closing the reader closes the socket, as a browser tab does).
 */

export interface SseEvent {
  /** The `id:` field, undefined when the event had none. */
  id: string | undefined
  /** The `event:` field, `message` when absent. */
  event: string
  /** The `data:` lines joined by `\n`. */
  data: string
}

export interface SseStream {
  status: number
  headers: IncomingHttpHeaders
  /** Events so far, in order. */
  readonly events: SseEvent[]
  /** Comment lines so far (`: heartbeat` → `heartbeat`). */
  readonly comments: string[]
  /** The `retry:` field, if the server sent one. */
  readonly retry: number | undefined
  /** Every byte received so far (the body of a refusal; what a stream sent). */
  readonly text: string
  /** Whether the server ended the stream (or the connection broke). */
  readonly ended: boolean
  /** Settles when the stream ends, however it ends. */
  readonly closed: Promise<void>
  /**
   * The first event after the last one `next` returned that satisfies `predicate` (events that do
   * not are passed over), waiting at most `timeoutMs`; rejects with what did arrive.
   */
  next (predicate?: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>
  /** Resolves once `count` comments satisfy `predicate` (heartbeats), at most `timeoutMs`. */
  comment (predicate: (comment: string) => boolean, count?: number, timeoutMs?: number): Promise<void>
  /** Let go of the stream (the client went away). */
  close (): void
}

interface Waiter { check: () => boolean, resolve: () => void }

/** Parses an event stream incrementally. */
function createParser (onEvent: (event: SseEvent) => void, onComment: (text: string) => void, onRetry: (ms: number) => void) {
  let buffer = ''
  let id: string | undefined
  let hasId = false
  let event = ''
  let data: string[] = []
  const line = (text: string): void => {
    if (text === '') {
      if (data.length > 0) onEvent({ id: hasId ? id : undefined, event: event === '' ? 'message' : event, data: data.join('\n') })
      event = ''
      data = []
      hasId = false
      return
    }
    if (text.startsWith(':')) { onComment(text.slice(1).replace(/^ /, '')); return }
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '')
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    else if (field === 'id' && !value.includes('\0')) { id = value; hasId = true } else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value))
  }
  return (chunk: string): void => {
    buffer += chunk
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer)
      // A lone `\r` at the end may be the first half of `\r\n`: wait for the next chunk.
      if (match === null || (match[0] === '\r' && match.index === buffer.length - 1)) return
      line(buffer.slice(0, match.index))
      buffer = buffer.slice(match.index + match[0].length)
    }
  }
}

/**
 * Open `path` on `base` (http://host:port) as an EventSource would (Accept: text/event-stream, plus
 * `headers`), resolving once the response head arrived. A refusal is read whole (`text`).
 */
export async function openSse (base: string, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const url = new URL(path, base)
  return new Promise<SseStream>((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      agent: false,
      headers: { accept: 'text/event-stream', ...headers }
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const events: SseEvent[] = []
      const comments: string[] = []
      let retry: number | undefined
      let text = ''
      let ended = false
      let cursor = 0
      const waiters = new Set<Waiter>()
      const wake = (): void => { for (const w of waiters) if (w.check()) { waiters.delete(w); w.resolve() } }
      const parse = createParser((e) => { events.push(e) }, (c) => { comments.push(c) }, (ms) => { retry = ms })
      let endClosed!: () => void
      const closed = new Promise<void>((resolve) => { endClosed = resolve })
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk; parse(chunk); wake() })
      const finish = (): void => { if (!ended) { ended = true; endClosed(); wake() } }
      res.on('end', finish)
      res.on('close', finish)
      res.on('error', finish)
      req.on('close', finish)

      const wait = async (check: () => boolean, timeoutMs: number, what: () => string): Promise<void> => {
        if (check()) return
        await new Promise<void>((resolve, reject) => {
          const waiter: Waiter = {
            check: () => check() || ended,
            resolve: () => { clearTimeout(timer); check() ? resolve() : reject(new Error(`the stream ended before ${what()}`)) }
          }
          const timer = setTimeout(() => { waiters.delete(waiter); reject(new Error(`no ${what()} within ${timeoutMs} ms`)) }, timeoutMs)
          waiters.add(waiter)
        })
      }
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments,
        get retry () { return retry },
        get text () { return text },
        get ended () { return ended },
        closed,
        async next (predicate = () => true, timeoutMs = 5000) {
          let found = -1
          const check = (): boolean => {
            found = events.findIndex((e, i) => i >= cursor && predicate(e))
            return found >= 0
          }
          await wait(check, timeoutMs, () => `matching event (received: ${JSON.stringify(events.slice(cursor))})`)
          cursor = found + 1
          return events[found]
        },
        async comment (predicate, count = 1, timeoutMs = 5000) {
          await wait(() => comments.filter(predicate).length >= count, timeoutMs, () => `${count} matching comments (received: ${JSON.stringify(comments)})`)
        },
        close () { req.destroy(); res.destroy() }
      }
      const streaming = String(res.headers['content-type'] ?? '').startsWith('text/event-stream')
      // A refusal is short and ends: hand it over whole.
      if (streaming) resolve(stream)
      else closed.then(() => { resolve(stream) }, reject)
    })
    req.end()
  })
}

/** The JSON of an event's data. */
export const dataOf = <T = Record<string, unknown>>(event: SseEvent): T => JSON.parse(event.data) as T

interface TestLike { teardown (fn: () => unknown): void }

/** Listen on a free loopback port (streams need a real server, not inject); the base URL. */
export async function listening (app: { listen (opts: { port: number, host: string }): Promise<string> }): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' })
}

/** openSse on `base` whose stream is let go when the test ends (before the app closes: teardowns run last first). */
export const sseClient = (t: TestLike, base: string) => async (path: string, headers: Record<string, string> = {}): Promise<SseStream> => {
  const stream = await openSse(base, path, headers)
  t.teardown(() => { stream.close() })
  return stream
}

/** Everything in a complete event-stream text: its events and comments (for sinks that collect what a server wrote). */
export function parseSse (text: string): { events: SseEvent[], comments: string[] } {
  const events: SseEvent[] = []
  const comments: string[] = []
  createParser((e) => { events.push(e) }, (c) => { comments.push(c) }, () => {})(text)
  return { events, comments }
}
