/**
 * One process's connections as Redis sees them (CLIENT LIST), to show what a server sent to Redis
 * during a load. Other processes on the machine use the same Redis, so connections are told apart
 * by socket: the local ports of that process's TCP sockets to the Redis port (/proc/<pid>/fd →
 * socket inodes → /proc/<pid>/net/tcp*; readable for this user's own processes). Linux only;
 * elsewhere the list is empty.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { Redis } from 'ioredis'

export type RedisClientInfo = Record<string, string>

function portsTo (redisPort: number, pid: number | 'self'): Set<number> {
  const inodes = new Set<string>()
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
        if (match !== null) inodes.add(match[1])
      } catch { /* the fd closed meanwhile */ }
    }
  } catch { return new Set() }
  const ports = new Set<number>()
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = ''
    try { text = readFileSync(table, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || !inodes.has(f[9])) continue
      const local = parseInt(f[1].split(':')[1], 16)
      const remote = parseInt(f[2].split(':')[1], 16)
      if (remote === redisPort) ports.add(local)
    }
  }
  return ports
}

/** CLIENT LIST rows of process `pid`'s connections to `url` (default: this process's; the probe connection itself excluded). */
export async function redisClientsOf (url: string, pid: number | 'self' = 'self'): Promise<RedisClientInfo[]> {
  const probe = new Redis(url, { connectionName: 'flagpost-bench-probe', maxRetriesPerRequest: 1 })
  try {
    const listing = await probe.client('LIST') as string
    const ports = portsTo(Number(new URL(url).port || 6379), pid)
    return listing.split('\n').filter((l) => l.trim() !== '').map((line) =>
      Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])))
      .filter((c) => c.name !== 'flagpost-bench-probe' && ports.has(Number(c.addr?.split(':').pop())))
  } finally {
    probe.disconnect()
  }
}
