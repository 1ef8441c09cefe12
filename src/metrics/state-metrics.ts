import { Gauge, type Registry } from 'prom-client'
import type { Container } from '../container.js'
import { probeReadiness, type Readiness } from '../services/readiness.js'

/**
 * Gauges computed when scraped: the snapshot's revision against the database's, and whether the
 * database and Redis answer (the probe /readyz runs). A database that cannot be read is 0 in
 * `flagpost_database_up` and NaN (unknown) in the gauges that need its revision; a scrape never fails.
 * `flagpost_redis_up` exists only with REDIS_URL.
 */
export function registerStateMetrics (registry: Registry, container: Pick<Container, 'snapshot' | 'repositories' | 'feed'>): void {
  // prom-client collects each gauge on its own; one probe per scrape serves them all.
  let pending: Promise<Readiness> | undefined
  const probe = (): Promise<Readiness> => (pending ??= probeReadiness(container).finally(() => { pending = undefined }))
  const lag = (r: Readiness): number => r.databaseRevision === null ? NaN : r.databaseRevision - r.snapshotRevision

  const gauge = (name: string, help: string, value: (r: Readiness) => number): void => {
    // Set from the probe at each scrape.
    registry.registerMetric(new Gauge({ name, help, registers: [], async collect () { this.set(value(await probe())) } }))
  }
  gauge('flagpost_snapshot_revision', 'The change-log revision this instance\'s flag snapshot reflects', (r) => r.snapshotRevision)
  gauge('flagpost_database_revision', 'The latest change-log revision in the database (NaN while it cannot be read)', (r) => r.databaseRevision ?? NaN)
  gauge('flagpost_snapshot_revision_lag', 'Revisions the snapshot is behind the database (NaN while it cannot be read)', lag)
  gauge('flagpost_ready', 'Whether this instance serves the flags as committed (1), as /readyz answers it without catching up first', (r) => r.ready ? 1 : 0)
  gauge('flagpost_snapshot_catchup_failing', 'Whether the snapshot\'s last catch-up failed (1): it keeps serving the last revision it reached and retries each poll', (r) => r.catchUpFailing ? 1 : 0)
  gauge('flagpost_database_up', 'Whether the database answers (1) or not (0), as /readyz checks it', (r) => r.databaseRevision === null ? 0 : 1)
  if (container.feed !== undefined) {
    gauge('flagpost_redis_up', 'Whether Redis answers a PING (1) or not (0)', (r) => r.redis === true ? 1 : 0)
  }
}
