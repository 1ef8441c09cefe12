/**
 * The load generator of bench:streams, run as a process of its own (forked by support/stream-load.ts,
 * never in a server's process): holds many server-sent event streams open on raw sockets (no HTTP
 * client objects: 10,000 of them must cost this process little), and records when every event and
 * heartbeat arrives on `process.hrtime` — the system-wide monotonic clock, so the times compare with
 * the write acknowledgements the parent process takes on the same clock.
 * Messages: see support/stream-load.ts.
 */
import { connect, type Socket } from 'node:net'
import { nowMs, type Arrivals, type ClientStatus, type FromClients, type OpenRequest, type Opened, type ToClients } from './stream-load.js'

interface Client {
  index: number
  socket: Socket
  /** Bytes received and not yet parsed (an incomplete head or event). */
  tail: string
  headed: boolean
  status: number
  openedAt: number
  connectedAt: number
  /** Event ids (revisions) and their arrival times, in order. */
  ids: number[]
  times: number[]
  heartbeats: number
  closed: boolean
}

interface Pending { revision: number, ackMs: number, latencies: Float64Array, missing: number, timer: NodeJS.Timeout }

const clients: Client[] = []
/** Arrival times of heartbeat rounds (client 0's heartbeats: every stream gets one in the same round). */
const heartbeatRounds: number[] = []
let errors = 0
let pending: Pending | null = null
let onConnected: (() => void) | null = null
let connectedCount = 0

const reply = (message: FromClients): void => { process.send!(message) }

const ID = /^id: (\d+)$/gm

function arrived (client: Client, id: number, at: number): void {
  client.ids.push(id)
  client.times.push(at)
  const p = pending
  if (p !== null && id >= p.revision && Number.isNaN(p.latencies[client.index])) {
    p.latencies[client.index] = at - p.ackMs
    if (--p.missing === 0) finish()
  }
}

function received (client: Client, chunk: Buffer): void {
  const at = nowMs()
  let text = client.tail + chunk.toString('latin1')
  if (!client.headed) {
    const end = text.indexOf('\r\n\r\n')
    if (end < 0) { client.tail = text; return }
    client.status = Number(text.slice(9, 12))
    client.headed = true
    text = text.slice(end + 4)
    if (client.status !== 200) { errors++; client.socket.destroy(); connectedOne(client, at); return }
  }
  // Parse complete events only (they end with a blank line); the rest waits for the next chunk. The
  // chunked framing between events (`\r\n<size>\r\n`) is on lines of its own and matches nothing.
  const cut = text.lastIndexOf('\n\n')
  if (cut < 0) { client.tail = text; return }
  const complete = text.slice(0, cut + 2)
  client.tail = text.slice(cut + 2)
  if (client.connectedAt === 0 && complete.includes(': connected\n')) connectedOne(client, at)
  for (const match of complete.matchAll(ID)) arrived(client, Number(match[1]), at)
  for (let i = complete.indexOf(': heartbeat\n'); i >= 0; i = complete.indexOf(': heartbeat\n', i + 1)) {
    client.heartbeats++
    if (client.index === 0) heartbeatRounds.push(at)
  }
}

function connectedOne (client: Client, at: number): void {
  if (client.connectedAt !== 0) return
  client.connectedAt = at
  connectedCount++
  onConnected?.()
}

function openOne (index: number, host: string, port: number, request: string): void {
  const socket = connect({ host, port, noDelay: true })
  const client: Client = { index, socket, tail: '', headed: false, status: 0, openedAt: nowMs(), connectedAt: 0, ids: [], times: [], heartbeats: 0, closed: false }
  clients[index] = client
  socket.on('connect', () => { socket.write(request) })
  socket.on('data', (chunk: Buffer) => { received(client, chunk) })
  socket.on('error', () => { errors++ })
  socket.on('close', () => { client.closed = true; connectedOne(client, nowMs()) })
}

/** Open every stream, `concurrency` handshakes at a time (more would overflow the listen backlog and wait for SYN retries). */
async function open ({ base, groups, concurrency }: OpenRequest): Promise<Opened> {
  const url = new URL(base)
  const requests = groups.flatMap((g) => {
    const head = Object.entries({ host: url.host, accept: 'text/event-stream', ...g.headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    return Array.from({ length: g.count }, () => `GET ${g.path} HTTP/1.1\r\n${head}\r\n`)
  })
  const started = nowMs()
  let next = 0
  await new Promise<void>((resolve) => {
    const fill = (): void => {
      while (next < requests.length && next - connectedCount < concurrency) { openOne(next, url.hostname, Number(url.port), requests[next]); next++ }
      if (connectedCount === requests.length) { onConnected = null; resolve() }
    }
    onConnected = fill
    fill()
  })
  const times = clients.filter((c) => c.status === 200).map((c) => c.connectedAt - c.openedAt).sort((a, b) => a - b)
  return {
    type: 'opened',
    ms: nowMs() - started,
    ok: clients.filter((c) => c.status === 200 && !c.closed).length,
    failed: clients.filter((c) => c.status !== 200 || c.closed).length,
    statuses: [...new Set(clients.map((c) => c.status))],
    handshakeMs: { p50: times[Math.floor(times.length / 2)] ?? Number.NaN, max: times.at(-1) ?? Number.NaN }
  }
}

function finish (): void {
  const p = pending
  if (p === null) return
  pending = null
  clearTimeout(p.timer)
  const message: Arrivals = { type: 'arrivals', latencies: p.latencies, missing: p.missing }
  reply(message)
}

/** Arrival of the first event at or past `revision` on every stream, relative to `ackMs` (NaN: none within `timeoutMs`). */
function awaitRevision (revision: number, ackMs: number, timeoutMs: number): void {
  const latencies = new Float64Array(clients.length).fill(Number.NaN)
  let missing = 0
  for (const c of clients) {
    const i = c.ids.findIndex((id) => id >= revision)
    if (i >= 0) latencies[c.index] = c.times[i] - ackMs
    else missing++
  }
  pending = { revision, ackMs, latencies, missing, timer: setTimeout(finish, timeoutMs) }
  if (missing === 0) finish()
}

function status (): ClientStatus {
  const usage = process.cpuUsage()
  return {
    type: 'status',
    open: clients.filter((c) => !c.closed).length,
    closed: clients.filter((c) => c.closed).length,
    errors,
    heartbeats: clients.reduce((n, c) => n + c.heartbeats, 0),
    heartbeatRounds: [...heartbeatRounds],
    cpuMs: (usage.user + usage.system) / 1000
  }
}

process.on('message', (message: ToClients) => {
  if (message.type === 'open') void open(message).then(reply)
  else if (message.type === 'await') awaitRevision(message.revision, message.ackMs, message.timeoutMs)
  else if (message.type === 'status') reply(status())
  else if (message.type === 'close') {
    for (const c of clients) c.socket.destroy()
    process.disconnect()
  }
})
