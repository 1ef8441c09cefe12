import { collectDefaultMetrics, Registry, type Metric } from 'prom-client'

export const METRIC_PREFIX = 'flagpost_'

let shared: Metric[] | undefined

/**
 * prom-client's default Node process metrics (CPU, memory, heap, event-loop lag, GC…), prefixed
 * `flagpost_`. They describe the process, not an app, and collecting them starts a GC observer and
 * an event-loop-delay monitor that prom-client gives no way to stop: so they are created once per
 * process, in a private registry (never the global default one), and every app's registry
 * registers these same metric objects. Tests that build many apps in one process start them once.
 */
export function processMetrics (): Metric[] {
  if (shared === undefined) {
    const registry = new Registry()
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })
    // At run time these are the metric objects themselves (the typings say MetricObject).
    shared = registry.getMetricsAsArray() as unknown as Metric[]
  }
  return shared
}
