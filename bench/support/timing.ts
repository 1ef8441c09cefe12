/**
 * Engine timing shared by the engine-level benches: ns per `evaluate()` over rotating contexts.
 * The loop calls `evaluate` directly (no closure per iteration), so what is timed is the engine.
 */
import { evaluate, type CompiledFlag, type EvaluationContext } from '../../src/engine/index.js'

export const DEFAULT_ITERATIONS = 1_000_000
export const DEFAULT_RUNS = 7

// Results feed this so the JIT cannot drop the loop as dead code.
let sink = 0

/**
 * One timed run: `iterations` evaluations of `flag`, cycling over `contexts` (length a power of
 * two, so that the index is a mask), in ns per evaluation.
 */
export function timeEvaluations (flag: CompiledFlag, contexts: readonly EvaluationContext[], now: number, iterations = DEFAULT_ITERATIONS): number {
  const mask = contexts.length - 1
  if (contexts.length === 0 || (contexts.length & mask) !== 0) throw new Error('contexts: a power-of-two length is required')
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) if (evaluate(flag, contexts[i & mask], now).value === true) sink++
  const ns = Number(process.hrtime.bigint() - start) / iterations
  if (sink < 0) console.log(sink)
  return ns
}

/**
 * One timed run of `passes` passes, each evaluating the first `count` of `flags` in turn for one
 * context (the next one each pass: what a bulk request does), in ns per evaluation.
 */
export function timePasses (flags: readonly CompiledFlag[], count: number, contexts: readonly EvaluationContext[], now: number, passes: number): number {
  const start = process.hrtime.bigint()
  for (let p = 0; p < passes; p++) {
    const context = contexts[p % contexts.length]
    for (let i = 0; i < count; i++) if (evaluate(flags[i], context, now).value === true) sink++
  }
  const ns = Number(process.hrtime.bigint() - start) / (passes * count)
  if (sink < 0) console.log(sink)
  return ns
}

/** Median of `runs` timed runs (`run`, ns each) after one dropped warm-up run. */
export function medianRunNs (run: () => number, runs = DEFAULT_RUNS): number {
  run()
  const times: number[] = []
  for (let r = 0; r < runs; r++) times.push(run())
  return median(times)
}

/** Median of `runs` timed runs of `timeEvaluations` after one dropped warm-up run. */
export const medianEvaluationNs = (flag: CompiledFlag, contexts: readonly EvaluationContext[], now: number,
  { runs = DEFAULT_RUNS, iterations = DEFAULT_ITERATIONS } = {}): number =>
  medianRunNs(() => timeEvaluations(flag, contexts, now, iterations), runs)

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/** A table cell of whole numbers: `min / median / max`. */
export const spread = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(0)} / ${median(xs).toFixed(0)} / ${Math.max(...xs).toFixed(0)}`

/** ns with a useful number of digits: 6.9, 74, 1234. */
export const formatNs = (ns: number): string => (ns < 10 ? ns.toFixed(1) : ns.toFixed(0))
