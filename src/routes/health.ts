import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Health, ref } from '../schemas/common.js'
import { probeReadiness } from '../services/readiness.js'

/** Probes are open whatever AUTH_READS says (no `config.access`): load balancers and orchestrators send no key. */
const PUBLIC: Array<Record<string, string[]>> = []

/** Liveness (the process answers) and readiness (database reachable, snapshot loaded). */
const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { operationId: 'healthz', tags: ['health'], summary: 'Liveness', security: PUBLIC, response: { 200: ref(Health, 'The process is up') } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: {
      operationId: 'readyz',
      tags: ['health'],
      security: PUBLIC,
      summary: 'Readiness: this instance serves the flags as committed (snapshot loaded and caught up)',
      description: 'A database or Redis that cannot be reached is reported in `checks` (status `degraded`), not as 503: ' +
        'the whole fleet shares them, and every instance keeps serving its last snapshot through their outage.',
      response: { 200: ref(Health, 'Ready to serve (`degraded`: a shared dependency is down, see checks)'), 503: ref(Health, 'Not ready: see checks') }
    }
  }, async (_request, reply) => {
    const probe = await probeReadiness(app.container, { catchUp: true })
    const checks: Record<string, string> = {
      snapshot: !probe.snapshotLoaded ? 'loading' : probe.catchUpFailing ? `catch-up failing: ${probe.catchUpError ?? 'unknown'}` : probe.ready ? 'ok' : 'behind',
      database: probe.databaseRevision === null ? 'unreachable' : 'ok'
    }
    if (probe.redis !== undefined) checks.redis = probe.redis ? 'ok' : 'unreachable'
    const degraded = Object.values(checks).some((c) => c !== 'ok')
    const status = !probe.ready ? 'not ready' : degraded ? 'degraded' : 'ready'
    return reply.code(probe.ready ? 200 : 503).send({ status, revision: probe.snapshotRevision, checks })
  })
}

export default healthRoutes
