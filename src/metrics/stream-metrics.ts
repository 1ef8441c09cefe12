import { Counter, Gauge, type Registry } from 'prom-client'
import type { StreamHub, StreamKind } from '../services/stream-hub.js'

const KINDS: StreamKind[] = ['ofrep', 'changes']

/**
 * Event streams (SPEC §12), read from the hub when scraped: how many are open now, and how many were
 * opened, sent events and dropped as slow consumers since start, by kind (`ofrep`, `changes`).
 */
export function registerStreamMetrics (registry: Registry, hub: Pick<StreamHub, 'stats'>): void {
  registry.registerMetric(new Gauge({
    name: 'flagpost_streams_open',
    help: 'Server-sent event streams open on this instance, by kind',
    labelNames: ['kind'],
    registers: [],
    collect () { const { open } = hub.stats(); for (const kind of KINDS) this.set({ kind }, open[kind]) }
  }))
  const total = (name: string, help: string, pick: (t: ReturnType<StreamHub['stats']>['totals'][StreamKind]) => number): void => {
    registry.registerMetric(new Counter({
      name,
      help,
      labelNames: ['kind'],
      registers: [],
      collect () {
        const { totals } = hub.stats()
        this.reset()
        for (const kind of KINDS) this.inc({ kind }, pick(totals[kind]))
      }
    }))
  }
  total('flagpost_streams_opened_total', 'Event streams opened on this instance, by kind', (t) => t.opened)
  total('flagpost_stream_events_total', 'Events sent on event streams (heartbeats not counted), by kind', (t) => t.events)
  total('flagpost_streams_dropped_total', 'Event streams dropped because the client did not read its events (slow consumers), by kind', (t) => t.dropped)
}
