import fp from 'fastify-plugin'
import { Registry } from 'prom-client'
import { evaluationCounter } from '../metrics/evaluation-metrics.js'
import { processMetrics } from '../metrics/process-metrics.js'
import { createRequestMetrics } from '../metrics/request-metrics.js'
import { registerStateMetrics } from '../metrics/state-metrics.js'
import { registerStreamMetrics } from '../metrics/stream-metrics.js'
import type { RequestLogController } from '../request-log.js'

export const METRICS_PATH = '/metrics'

/**
 * Prometheus metrics at GET /metrics (text exposition format 0.0.4): request durations, evaluations
 * by flag and reason, revision lag and dependency state, and the Node process metrics. Each app
 * has its own registry (tests build many apps in one process). /metrics is a read: open unless
 * AUTH_READS=true. It is not part of the API document, and its own scrapes are not in the histogram.
 */
export default fp<{ requestLog: RequestLogController }>(async function metrics (app, { requestLog }) {
  const registry = new Registry()
  for (const metric of processMetrics()) registry.registerMetric(metric)
  const stopCounting = app.services.flags.observe(evaluationCounter(registry))
  app.addHook('onClose', async () => { stopCounting() })
  registerStateMetrics(registry, app.container)
  registerStreamMetrics(registry, app.services.streams)

  // Timed where each request's log line is decided (request-log.ts): no onResponse hook on every request.
  const observe = createRequestMetrics(registry)
  requestLog.observe((method, route, statusCode, ms) => { if (route !== METRICS_PATH) observe(method, route, statusCode, ms) })

  app.get(METRICS_PATH, { config: { access: 'read' }, schema: { hide: true } }, async (_request, reply) => {
    const text = await registry.metrics()
    return reply.type(registry.contentType).send(text)
  })
}, { name: 'flagpost-metrics', dependencies: ['flagpost-services', 'flagpost-auth'] })
