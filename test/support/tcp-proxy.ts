import { createServer, connect, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy to a real service that a test can break without stopping the service: cut the link
 * (connections dropped, new ones refused), or stall it (nothing is closed, every byte is held in
 * both directions until resume(): the half-failure where a client waits instead of failing).
 */
export interface TcpProxy {
  /** `redis://127.0.0.1:<port>` style: host and port to give the code under test. */
  readonly port: number
  /** Drop every open connection and refuse new ones. */
  cut (): void
  /** Accept connections again. */
  restore (): void
  /**
   * Hold every byte in both directions, on open connections and new ones (accepted, never
   * connected on), without closing anything. What a client sends meanwhile, a close included,
   * reaches the service in order on resume(), as TCP retransmission would deliver it.
   */
  stall (): void
  /**
   * Stall as soon as the client sends a chunk whose text matches `pattern` (that chunk is held too):
   * lands a stall at an exact point of a protocol, e.g. `/commit/i` holds a Postgres COMMIT in flight.
   * Resolves when it has stalled.
   */
  stallOn (pattern: RegExp): Promise<void>
  /** Deliver what was held and let bytes flow again. */
  resume (): void
  /** Whether bytes are being held now. */
  readonly stalled: boolean
  close (): Promise<void>
}

interface Link { hold (): void, flow (): void }

export async function startTcpProxy (targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const links = new Set<Link>()
  let open = true
  let stalled = false
  let trigger: { pattern: RegExp, fired: () => void } | undefined

  const track = (s: Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
  }
  const stallNow = (): void => {
    stalled = true
    for (const link of links) link.hold()
  }

  const server: Server = createServer((client) => {
    if (!open) { client.destroy(); return }
    track(client)
    client.pause()
    let upstream: Socket | undefined
    // Chunks kept back by a stall, written on resume before anything that follows them.
    const held: Buffer[] = []
    // Closes seen while stalled, acted on at resume.
    const onResume: Array<() => void> = []
    const later = (fn: () => void) => (): void => { if (stalled) onResume.push(fn); else fn() }
    const flush = (): void => {
      if (upstream === undefined) return
      while (held.length > 0) upstream.write(held.shift()!)
    }
    // Data is forwarded by hand (not pipe()) so that a stall can start at an exact chunk.
    const dial = (): Socket => {
      const socket = connect(targetPort, targetHost)
      track(socket)
      socket.on('data', (chunk: Buffer) => { client.write(chunk) })
      // A side that ended or closed ends the other after what it sent: a client that gave up during
      // a stall has its last bytes and then its FIN reach the service on resume, in order.
      socket.on('end', later(() => client.end()))
      socket.on('close', later(() => client.destroySoon()))
      return socket
    }
    client.on('data', (chunk: Buffer) => {
      if (stalled) { held.push(chunk); return }
      if (trigger !== undefined && trigger.pattern.test(chunk.toString('latin1'))) {
        const { fired } = trigger
        trigger = undefined
        held.push(chunk)
        stallNow()
        fired()
        return
      }
      upstream!.write(chunk)
    })
    client.on('end', later(() => { flush(); upstream?.end() }))
    client.on('close', later(() => { flush(); upstream?.destroySoon() }))
    const link: Link = {
      hold () { client.pause(); upstream?.pause() },
      flow () {
        upstream ??= dial()
        flush()
        for (const fn of onResume.splice(0)) fn()
        client.resume()
        upstream.resume()
      }
    }
    links.add(link)
    // Kept until what it held is delivered: a client that closed during a stall still has bytes to send.
    client.on('close', later(() => links.delete(link)))
    if (!stalled) link.flow()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    port: address.port,
    get stalled () { return stalled },
    cut () { open = false; for (const s of sockets) s.destroy() },
    restore () { open = true },
    stall: stallNow,
    stallOn (pattern) {
      return new Promise<void>((resolve) => { trigger = { pattern, fired: resolve } })
    },
    resume () {
      stalled = false
      trigger = undefined
      for (const link of links) link.flow()
    },
    close () {
      open = false
      trigger = undefined
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
