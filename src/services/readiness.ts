import type { Container } from '../container.js'
import { settleWithin } from '../settle-within.js'

/** How long a readiness probe waits for the database, Redis or a catch-up before reporting it as not answering. */
export const PROBE_TIMEOUT_MS = 2_000

/** What /readyz and /metrics report about this instance. */
export interface Readiness {
  /**
   * Whether this instance serves the flags as committed: its snapshot is loaded and has reached
   * the database's latest revision (or the database cannot be read, and the snapshot serves the
   * last revision it reached, as every instance then does). Dependencies shared by the whole
   * fleet being down is reported, never turned into "not ready": a readiness probe would otherwise
   * take every replica out of the load balancer at once, in exactly the outages it keeps serving through.
   */
  ready: boolean
  snapshotLoaded: boolean
  /** The revision the snapshot reflects. */
  snapshotRevision: number
  /** The database's latest revision, or null when it cannot be read. */
  databaseRevision: number | null
  /** Whether the snapshot's last catch-up failed, and why. */
  catchUpFailing: boolean
  catchUpError?: string
  /** Whether Redis answers; absent without REDIS_URL. */
  redis?: boolean
}

/**
 * Probe the instance: the database's revision, Redis, and — with `catchUp` (what /readyz does) —
 * a catch-up when the snapshot is behind, so that "ready" means caught up, not merely loaded.
 * Never throws, and answers within a few PROBE_TIMEOUT_MS whatever its dependencies do.
 */
export async function probeReadiness ({ snapshot, repositories, feed }: Pick<Container, 'snapshot' | 'repositories' | 'feed'>, { catchUp = false } = {}): Promise<Readiness> {
  const databaseRevision = await settleWithin<number | null>(repositories.flags.latestRevision(), PROBE_TIMEOUT_MS, null)
  if (catchUp && snapshot.loaded && databaseRevision !== null && snapshot.revision < databaseRevision) {
    await settleWithin(snapshot.catchUp(), PROBE_TIMEOUT_MS, undefined)
  }
  const { failing, error } = snapshot.health
  const snapshotRevision = snapshot.revision
  const caughtUp = databaseRevision === null ? true : snapshotRevision >= databaseRevision && !failing
  const readiness: Readiness = {
    ready: snapshot.loaded && caughtUp,
    snapshotLoaded: snapshot.loaded,
    snapshotRevision,
    databaseRevision,
    catchUpFailing: failing,
    ...(failing && error !== undefined ? { catchUpError: error } : {})
  }
  if (feed !== undefined) readiness.redis = await settleWithin(feed.ping(), PROBE_TIMEOUT_MS, false)
  return readiness
}
