import { createServer, connect, type Server, type Socket } from 'node:net'

/** A TCP proxy to a real service that a test can cut and restore, to fake an outage without stopping the service. */
export interface TcpProxy {
  /** `redis://127.0.0.1:<port>` style: host and port to give the code under test. */
  readonly port: number
  /** Drop every open connection and refuse new ones. */
  cut (): void
  /** Accept connections again. */
  restore (): void
  close (): Promise<void>
}

export async function startTcpProxy (targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let open = true
  const server: Server = createServer((client) => {
    if (!open) { client.destroy(); return }
    const upstream = connect(targetPort, targetHost)
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()) }
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    port: address.port,
    cut () { open = false; for (const s of sockets) s.destroy() },
    restore () { open = true },
    close () {
      open = false
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
