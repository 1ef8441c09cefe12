/**
 * Write on instance A → instances B and C serve it: three real server processes (dist/bin/server.js)
 * on one Postgres schema, with Redis (the revision poll set to a minute, so only the feed counts)
 * and without Redis (poll every CACHE_REFRESH_MS = 1000 ms). Needs `npm run build` first.
 * Run: npm run bench:propagation   (DATABASE_URL=postgres://… and REDIS_URL=redis://… override the defaults)
 */
import { propagation, startCluster } from '../test/support/cluster.js'
import { dropSchema, isolatedUrl } from '../test/support/postgres.js'
import { printRunFooter, printRunHeader } from './support/machine.js'

const PG = process.env.DATABASE_URL?.startsWith('postgres') === true ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/test'
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function measure (label: string, writes: number, env: Record<string, string>): Promise<void> {
  const { url, schema } = isolatedUrl(PG)
  const cluster = await startCluster(3, { DATABASE_URL: url, ...env })
  try {
    const [a, b, c] = cluster.nodes
    await cluster.write(a, 'POST', '/flags', { name: 'bench', type: 'string', default_value: 'v0' })
    await propagation(cluster, [b, c], 'bench', 'v0', performance.now(), 10_000)
    const times: number[] = []
    for (let i = 1; i <= writes; i++) {
      await cluster.write(a, 'PUT', '/flags/bench', { default_value: `v${i}` })
      const acknowledged = performance.now()
      // Measured from the write's acknowledgement to the moment both B and C serve the new value.
      times.push(await propagation(cluster, [b, c], 'bench', `v${i}`, acknowledged, 10_000))
    }
    times.sort((x, y) => x - y)
    const pct = (p: number): string => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1)
    console.log(`| ${label} | ${writes} | ${pct(0.5)} ms | ${pct(0.99)} ms | ${times[times.length - 1].toFixed(1)} ms |`)
  } finally {
    await cluster.stop()
    await dropSchema(PG, schema)
  }
}

printRunHeader('bench:propagation: 3 server processes, one Postgres, write on A, read on B and C')
console.log('| mode | writes | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |')
await measure('Redis pub/sub (poll 60 s)', 200, { REDIS_URL: REDIS, CACHE_REFRESH_MS: '60000' })
await measure('no Redis, poll every 1000 ms', 40, { CACHE_REFRESH_MS: '1000' })
printRunFooter()
