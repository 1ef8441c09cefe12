import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { readSecurity, standardResponses } from '../schemas/common.js'
import { stillAllowed } from '../plugins/auth.js'
import { visibilityOf } from '../services/history-service.js'
import type { StreamSink, StreamTarget } from '../services/stream-hub.js'
import { environmentOf } from './environment-scope.js'

/** Tells EventSource how long to wait before reconnecting (ms), and opens the stream at once. */
const PREAMBLE = 'retry: 2000\n: connected\n\n'

const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,16}$', description: 'The id of the last event received: what was missed since is replayed (SSE resume)' }))
})
const eventStream = (description: string) => ({ description, content: { 'text/event-stream': { schema: { type: 'string' } } } })

/**
 * Take over the response as a server-sent event stream: headers set so far (CORS) are kept, proxies
 * are told not to buffer, and the hub writes the events. A client that goes away is detached.
 */
function openStream (request: FastifyRequest, reply: FastifyReply, stream: StreamTarget): void {
  const hub = request.server.services.streams
  const lastEventId = request.headers['last-event-id']
  reply.hijack()
  // A hijacked reply has no onResponse, so no request line (request-log.ts): the opening is the stream's line,
  // at info: streams are few and long-lived, and which instance serves one is what an operator looks for.
  // Through the app's logger with the request id, as the request's own would write it: that one is made
  // on its first line (request-log.ts), and a stream would keep it for its lifetime (10,000 streams: 10,000 loggers).
  request.server.log.info({ reqId: request.id, req: request }, 'stream opened')
  const res = reply.raw
  // The body ends when the connection does (Connection: close), not chunk-framed: a stream owns its
  // connection anyway, and with 10,000 streams each event's chunk framing and deferred socket write
  // per stream was a quarter of the fan-out's CPU (bench/README.md, event streams).
  if (request.method !== 'HEAD') res.useChunkedEncodingByDefault = false
  res.writeHead(200, {
    ...reply.getHeaders() as OutgoingHttpHeaders,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // nginx: pass events through as they come (deploy/nginx.conf turns buffering off too).
    'x-accel-buffering': 'no'
  })
  // HEAD: the head only. A response left open would hold the connection, and what is pipelined behind it, forever.
  if (request.method === 'HEAD') { res.end(); return }
  res.write(PREAMBLE)
  const sink: StreamSink = {
    write: (chunk) => { res.write(chunk) },
    get buffered () { return res.writableLength },
    get closed () { return res.destroyed || res.writableEnded },
    end: () => { res.end() },
    destroy: () => { res.destroy() }
  }
  res.on('close', () => { hub.close(sink) })
  hub.open(sink, stream, typeof lastEventId === 'string' ? Number(lastEventId) : undefined)
}

/** The OFREP event stream (ADR-0008), per environment: served unprefixed and under /environments/{environment}. */
export const ofrepStreamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/ofrep/v1/event-stream', {
    config: { access: 'evaluate', streamToken: true },
    schema: {
      operationId: 'ofrepEventStream',
      tags: ['streaming'],
      summary: 'OFREP change notifications (server-sent events): `refetchEvaluation` with the revision as id and etag; the bulk evaluation advertises this URL with a stream token',
      security: readSecurity,
      querystring: Type.Object({
        token: Type.Optional(Type.String({ maxLength: 256, description: 'The stream token of the URL the bulk evaluation advertised (instead of an API key: EventSource sends no headers)' }))
      }, { additionalProperties: false }),
      headers: StreamHeaders,
      response: { 200: eventStream('Events until the client or the server closes the stream'), ...standardResponses(400, 401, 403, 404) }
    }
  }, async (request, reply) => {
    const environment = request.streamGrant?.environment ?? environmentOf(request)
    // An unknown environment is a 404 before the stream opens (the prefixed copy documents it).
    request.server.services.environments.mustBeServed(environment)
    openStream(request, reply, { kind: 'ofrep', environment, allowed: stillAllowed(request, environment) })
  })
}

/** The change stream: change-log entries as they are written, for SDKs, the admin UI and tooling. */
export const changeStreamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/events', {
    config: { access: 'read' },
    schema: {
      operationId: 'streamChanges',
      tags: ['streaming'],
      summary: 'Change-log entries as server-sent events (`change`, id = revision), restricted to the environments the key covers; resumable with Last-Event-ID',
      security: readSecurity,
      headers: StreamHeaders,
      response: { 200: eventStream('`change` events (data: an entry as GET /changes shows it) and `reset` when more was missed than a replay sends'), ...standardResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    openStream(request, reply, { kind: 'changes', visibility: visibilityOf(request.principal), allowed: stillAllowed(request) })
  })
}
