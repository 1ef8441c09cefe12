import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyBaseLogger } from 'fastify'
import { BadRequestError, HeadersTooLargeError, RequestTimeoutError, UriTooLongError } from './errors.js'
import { toProblem } from './problem.js'

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a request that takes too long, a
 * request line or headers over the size limit, bytes that are not HTTP), answered as problem+json
 * like every other error instead of Fastify's own JSON shape. Each connection is then closed.
 */

type Refusal = () => Error & { code: string, statusCode?: number }
const REFUSALS: Record<string, Refusal> = {
  ERR_HTTP_REQUEST_TIMEOUT: () => new RequestTimeoutError(),
  URI_TOO_LONG: () => new UriTooLongError(),
  HPE_HEADER_OVERFLOW: () => new HeadersTooLargeError(),
  DEFAULT: () => new BadRequestError('The request is not valid HTTP/1.1')
}

/** A request line longer than this, in a request over the header size limit, makes the overflow a 414. */
const LONG_REQUEST_LINE = 8192

/** Which refusal an error is: an overflow caused by the request line (the URL) is 414, not 431. */
function refusalOf (err: ConnectionError): Refusal {
  // Node hands over the bytes it was parsing as a Buffer (Fastify's type says otherwise).
  const raw: unknown = err.rawPacket
  if (err.code === 'HPE_HEADER_OVERFLOW' && Buffer.isBuffer(raw) && /^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1'))) {
    const end = raw.indexOf('\r\n')
    if (end < 0 || end > LONG_REQUEST_LINE) return REFUSALS.URI_TOO_LONG
  }
  return REFUSALS[err.code] ?? REFUSALS.DEFAULT
}

export function clientErrorHandler (this: { log: FastifyBaseLogger }, err: ConnectionError, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const refusal = refusalOf(err)()
  const { code, statusCode: status = 400, message: detail } = refusal
  this.log.info({ code, status }, detail)
  if (socket.writable) {
    const problem = toProblem(refusal, '')
    const body = JSON.stringify({ ...problem, instance: undefined })
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
