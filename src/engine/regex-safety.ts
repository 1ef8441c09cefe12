import { isSafePattern } from 'redos-detector'
import { FlagCompileError } from './compile-error.js'
import type { FlagDefinition } from './types.js'

/** How many `matches` patterns one flag may hold: each costs up to ~150 ms to prove safe at write time. */
export const MAX_PATTERNS_PER_FLAG = 20
// Bounded search: a pattern whose backtracking cannot be bounded within these steps counts as unsafe.
const DETECTOR = { unicode: true, maxSteps: 3000 } as const

/**
 * Refuse `matches` patterns that could backtrack catastrophically (`(a+)+$`, `(a|a)*$`, `.*.*.*x`).
 * JavaScript regexes have no timeout, so one such pattern on a hostile attribute would stall every
 * evaluation in the process. This is a write-time check, separate from `compileFlag`, so loading a
 * snapshot of flags that already passed it costs nothing extra.
 */
export function checkRegexSafety (def: FlagDefinition): void {
  let count = 0
  def.targeting_rules.rules.forEach((rule, r) => rule.clauses.forEach((clause, c) => {
    if (clause.operator !== 'matches') return
    clause.values.forEach((source, v) => {
      const field = `targeting_rules.rules.${r}.clauses.${c}.values.${v}`
      if (++count > MAX_PATTERNS_PER_FLAG) throw new FlagCompileError(field, `a flag may hold at most ${MAX_PATTERNS_PER_FLAG} regular expressions`)
      if (typeof source === 'string' && !isSafePattern(source, DETECTOR).safe) {
        throw new FlagCompileError(field, 'pattern could backtrack catastrophically on some inputs (nested or overlapping repetitions such as (a+)+, (a|a)*, .*.*x); ' +
          'anchor it and avoid repeating a repeated group, or use starts_with / ends_with / contains')
      }
    })
  }))
}
