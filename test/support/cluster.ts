import { start, type Running } from './process.js'

export const CLUSTER_KEY = 'cluster-write-key-0123456789'

/** Several real server processes (dist/bin/server.js) sharing one database and, optionally, one Redis. */
export interface Cluster {
  nodes: Running[]
  /** PUT/POST as JSON with the write key; throws on a non-2xx answer. */
  write (node: Running, method: 'POST' | 'PUT', path: string, body: unknown): Promise<void>
  /** The value node serves for a flag to user `u`, or undefined if it does not know the flag. */
  served (node: Running, flag: string): Promise<unknown>
  stop (): Promise<void>
}

/** Start `size` servers one after the other (the first migrates), with the same environment. */
export async function startCluster (size: number, env: Record<string, string>): Promise<Cluster> {
  const nodes: Running[] = []
  const full = { API_KEY: CLUSTER_KEY, LOG_LEVEL: 'info', ...env }
  for (let i = 0; i < size; i++) {
    const node = await start(full)
    nodes.push(node)
    if (!node.ready) {
      for (const n of nodes) n.child.kill('SIGKILL')
      throw new Error(`node ${i} did not start:\n${node.output()}`)
    }
  }
  return {
    nodes,
    async write (node, method, path, body) {
      const res = await fetch(`${node.base}${path}`, { method, headers: { 'content-type': 'application/json', 'x-api-key': CLUSTER_KEY }, body: JSON.stringify(body) })
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    },
    async served (node, flag) {
      const res = await fetch(`${node.base}/evaluate/${flag}?user_id=u`)
      return res.status === 200 ? ((await res.json()) as { value: unknown }).value : undefined
    },
    async stop () {
      for (const n of nodes) n.child.kill('SIGTERM')
      await Promise.all(nodes.map((n) => n.exited))
    }
  }
}

/** Milliseconds until every node serves `value` for `flag` (polling each as fast as it answers), or Infinity. */
export async function propagation (cluster: Cluster, nodes: Running[], flag: string, value: unknown, since: number, timeoutMs: number): Promise<number> {
  const pending = new Set(nodes)
  while (pending.size > 0) {
    if (performance.now() - since > timeoutMs) return Number.POSITIVE_INFINITY
    for (const node of [...pending]) if (await cluster.served(node, flag) === value) pending.delete(node)
  }
  return performance.now() - since
}
