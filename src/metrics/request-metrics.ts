import type { Metric, Registry } from 'prom-client'
import type { CompletedRequestObserver } from '../request-log.js'

/** The `route` label of requests no route matched (a 404): patterns start with `/`, so it is no pattern. */
export const UNMATCHED_ROUTE = '__unmatched__'

const NAME = 'flagpost_http_request_duration_seconds'
const HELP = 'HTTP request duration until the response was sent, by method, route pattern and status code'
/** Upper bounds in seconds: evaluations answer in well under a millisecond, writes in a few. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** One label set: observations per bucket (not cumulative; the last one is +Inf), their sum and count. */
interface Series { counts: Float64Array, sum: number, count: number }
/** One line of the exposition, as the registry formats it. */
interface Sample { metricName: string, labels: Record<string, string | number>, value: number }

/**
 * `flagpost_http_request_duration_seconds` by method, route pattern and status code. The route is
 * the pattern the request matched (`/evaluate/:name`), never the URL: the set of label values stays
 * that of the routes, whatever clients send.
 *
 * Every request observes it, so observing is three Map lookups and a bucket search (~50 ns):
 * prom-client's Histogram validates and hashes a label object on every observe() (~800 ns, as
 * much as the evaluation itself). The registry renders these series as a histogram at scrape time.
 */
export function createRequestMetrics (registry: Registry): CompletedRequestObserver {
  const byRoute = new Map<string, Map<string, Map<number, Series>>>()

  const samples = (): Sample[] => {
    const out: Sample[] = []
    for (const [route, byMethod] of byRoute) {
      for (const [method, byStatus] of byMethod) {
        for (const [status, series] of byStatus) {
          const labels = { method, route, status_code: status }
          let cumulative = 0
          series.counts.forEach((n, i) => {
            cumulative += n
            out.push({ metricName: `${NAME}_bucket`, labels: { ...labels, le: i < BUCKETS.length ? BUCKETS[i] : '+Inf' }, value: cumulative })
          })
          out.push({ metricName: `${NAME}_sum`, labels, value: series.sum }, { metricName: `${NAME}_count`, labels, value: series.count })
        }
      }
    }
    return out
  }
  const metric = {
    name: NAME,
    help: HELP,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({ name: NAME, help: HELP, type: 'histogram', aggregator: 'sum', values: samples() }),
    reset: () => { byRoute.clear() }
  }
  // The registry only reads name, type, get() and reset(): what a prom-client metric provides.
  registry.registerMetric(metric as unknown as Metric)

  return (method, route = UNMATCHED_ROUTE, statusCode, milliseconds) => {
    let byMethod = byRoute.get(route)
    if (byMethod === undefined) byRoute.set(route, byMethod = new Map())
    let byStatus = byMethod.get(method)
    if (byStatus === undefined) byMethod.set(method, byStatus = new Map())
    let series = byStatus.get(statusCode)
    if (series === undefined) byStatus.set(statusCode, series = { counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 })
    const seconds = milliseconds / 1000
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++
    series.counts[i]++
    series.sum += seconds
    series.count++
  }
}
