import t from 'tap'
import { startCluster, propagation } from '../support/cluster.js'
import { dropSchema, isolatedUrl, postgresUrlOrSkip } from '../support/postgres.js'
import { redisUrlOrSkip } from '../support/redis.js'

t.test('three server processes on one Postgres and one Redis: a write through one is served by the others', async (t) => {
  const pg = await postgresUrlOrSkip(t, 'multi-instance suite (Postgres)')
  if (pg === null) return
  const redis = await redisUrlOrSkip(t)
  if (redis === null) return
  const { url, schema } = isolatedUrl(pg)
  // The revision poll is set to a minute: only the Redis feed can carry changes within the test.
  const cluster = await startCluster(3, { DATABASE_URL: url, REDIS_URL: redis, CACHE_REFRESH_MS: '60000' })
  t.teardown(async () => { await cluster.stop(); await dropSchema(pg, schema) })
  const [a, b, c] = cluster.nodes

  await cluster.write(a, 'POST', '/flags', { name: 'shared', type: 'string', default_value: 'v0' })
  t.ok(await propagation(cluster, [b, c], 'shared', 'v0', performance.now(), 5000) < 5000, 'a new flag reaches both other processes')
  for (let i = 1; i <= 10; i++) {
    const writer = cluster.nodes[i % 3]
    const readers = cluster.nodes.filter((n) => n !== writer)
    const since = performance.now()
    await cluster.write(writer, 'PUT', '/flags/shared', { default_value: `v${i}` })
    t.ok(await propagation(cluster, readers, 'shared', `v${i}`, since, 5000) < 5000, `write ${i} through node ${i % 3} reaches the other two`)
  }
  await cluster.write(b, 'PUT', '/flags/shared/overrides/users/u', { enabled: false })
  t.ok(await propagation(cluster, [a, c], 'shared', '', performance.now(), 5000) < 5000, 'an override set through one process is served by the others')
})
