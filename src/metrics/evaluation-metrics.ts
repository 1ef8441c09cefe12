import { Counter, type Registry } from 'prom-client'
import { REASONS, type EvaluationResult, type Reason } from '../engine/types.js'
import type { EvaluationObserver } from '../services/flag-service.js'

/** The `flag` label of evaluations of flags that do not exist (flag names cannot start with `_`). */
export const UNKNOWN_FLAG = '__unknown__'

type Tally = Record<Reason, number>
const emptyTally = (): Tally => Object.fromEntries(REASONS.map((r) => [r, 0])) as Tally

/**
 * Count every evaluation the flag service answers, by flag and reason, in `flagpost_evaluations_total`
 * of `registry` (the service tells its observers). The hot path only bumps a number in a Map keyed by
 * the flag's own name; the labelled counter is built from those numbers when it is scraped.
 * Unknown names are counted under one fixed label, so requests cannot create series at will.
 */
export function evaluationCounter (registry: Registry): EvaluationObserver {
  const tallies = new Map<string, Tally>()
  let notFound = 0
  const unservable = new Map<string, number>()
  const count = (result: EvaluationResult): void => {
    let tally = tallies.get(result.name)
    if (tally === undefined) tallies.set(result.name, tally = emptyTally())
    tally[result.reason]++
  }

  // Built from the tallies at each scrape.
  registry.registerMetric(new Counter({
    name: 'flagpost_evaluations_total',
    help: 'Flag evaluations served over HTTP (GET/POST /evaluate, OFREP), by flag and reason; unknown flags as flag="__unknown__", reason="ERROR", error_code="FLAG_NOT_FOUND"',
    labelNames: ['flag', 'reason', 'error_code'] as const,
    registers: [],
    collect () {
      this.reset()
      for (const [flag, tally] of tallies) {
        for (const reason of Object.keys(tally) as Reason[]) if (tally[reason] > 0) this.inc({ flag, reason }, tally[reason])
      }
      if (notFound > 0) this.inc({ flag: UNKNOWN_FLAG, reason: 'ERROR', error_code: 'FLAG_NOT_FOUND' }, notFound)
      // Flags whose stored row cannot be served (a row an older version wrote): existing flags, so by name.
      for (const [flag, n] of unservable) this.inc({ flag, reason: 'ERROR', error_code: 'GENERAL' }, n)
    }
  }))

  return {
    served: count,
    missing: () => { notFound++ },
    unservable: (name) => { unservable.set(name, (unservable.get(name) ?? 0) + 1) }
  }
}
