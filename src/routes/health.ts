import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import type { Container } from '../container.js'

/** What /readyz and /metrics report about the instance's dependencies. */
export interface Readiness {
  snapshotLoaded: boolean
  /** The revision the snapshot reflects, read before the database's: never ahead of it. */
  snapshotRevision: number
  /** The database's latest revision, or null when it cannot be read. */
  databaseRevision: number | null
  /** Whether Redis answers; absent without REDIS_URL. */
  redis?: boolean
}

/** Probe the database (its latest revision) and Redis (a PING); never throws. */
export async function probeReadiness ({ snapshot, repositories, feed }: Pick<Container, 'snapshot' | 'repositories' | 'feed'>): Promise<Readiness> {
  const snapshotLoaded = snapshot.loaded
  const snapshotRevision = snapshot.revision
  let databaseRevision: number | null = null
  try { databaseRevision = await repositories.flags.latestRevision() } catch {}
  if (feed === undefined) return { snapshotLoaded, snapshotRevision, databaseRevision }
  return { snapshotLoaded, snapshotRevision, databaseRevision, redis: await feed.ping() }
}

const Health = Type.Object({ status: Type.String(), revision: Type.Optional(Type.Integer()), checks: Type.Optional(Type.Record(Type.String(), Type.String())) })

/** Liveness (the process answers) and readiness (database reachable, snapshot loaded). */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { operationId: 'healthz', tags: ['health'], summary: 'Liveness', response: { 200: { ...Health, description: 'The process is up' } } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: { operationId: 'readyz', tags: ['health'], summary: 'Readiness: database reachable and flags loaded', response: { 200: { ...Health, description: 'Ready to serve' }, 503: { ...Health, description: 'Not ready: see checks' } } }
  }, async (_request, reply) => {
    const probe = await probeReadiness(app.container)
    const checks: Record<string, string> = {
      snapshot: probe.snapshotLoaded ? 'ok' : 'loading',
      database: probe.databaseRevision === null ? 'unreachable' : 'ok'
    }
    if (probe.redis !== undefined) checks.redis = probe.redis ? 'ok' : 'unreachable'
    const ready = Object.values(checks).every((c) => c === 'ok')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', revision: app.container.snapshot.revision, checks })
  })
}

export default healthRoutes
