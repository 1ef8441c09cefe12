import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'

const Health = Type.Object({ status: Type.String(), revision: Type.Optional(Type.Integer()), checks: Type.Optional(Type.Record(Type.String(), Type.String())) })

/** Liveness (the process answers) and readiness (database reachable, snapshot loaded). */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { operationId: 'healthz', tags: ['health'], summary: 'Liveness', response: { 200: { ...Health, description: 'The process is up' } } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: { operationId: 'readyz', tags: ['health'], summary: 'Readiness: database reachable and flags loaded', response: { 200: { ...Health, description: 'Ready to serve' }, 503: { ...Health, description: 'Not ready: see checks' } } }
  }, async (_request, reply) => {
    const { snapshot, repositories } = app.container
    const checks: Record<string, string> = { snapshot: snapshot.loaded ? 'ok' : 'loading' }
    try { await repositories.flags.latestRevision(); checks.database = 'ok' } catch { checks.database = 'unreachable' }
    if (app.container.feed !== undefined) checks.redis = (await app.container.feed.ping()) ? 'ok' : 'unreachable'
    const ready = Object.values(checks).every((c) => c === 'ok')
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', revision: snapshot.revision, checks })
  })
}

export default healthRoutes
