import { LRUCache } from 'lru-cache'
import { RE2JS } from 're2js'
import { FlagCompileError } from './compile-error.js'
import type { FlagDefinition } from './types.js'

/**
 * `matches` patterns run on RE2 (re2js, the pure-JS port), never on JavaScript's backtracking
 * RegExp: RE2 matches in time linear in the input whatever the pattern, so no pattern, flag or
 * attribute can stall the event loop the way `^(a|A)+$` with `i` did. The price is RE2 syntax: no
 * lookahead, lookbehind or backreferences (github.com/google/re2/wiki/Syntax).
 */
export type CompiledPattern = RE2JS

/**
 * How many `matches` patterns one flag may hold: each costs one linear scan of the attribute per
 * evaluation (and up to a few ms to compile when the flag loads).
 */
export const MAX_PATTERNS_PER_FLAG = 20
/**
 * RE2 program size (instructions) one pattern may compile to. RE2 copies counted repetitions out
 * (`x{1000}` is 1,000 copies), and both compile time and the worst-case cost per input character
 * grow with the program: at 42,000 instructions (a 231-character pattern) compiling took ~0.5 s and
 * one 10k-character test ~1 s. At 1,000, compile stays under ~10 ms and a 1 KiB attribute under
 * ~25 ms even for a pathological class (bench/README.md, "Regex engine"); real patterns (an email
 * domain, a UUID) are under 100.
 */
export const MAX_PATTERN_SIZE = 1_000

const SYNTAX = 'RE2 syntax (linear time; no lookahead, lookbehind or backreferences)'

/**
 * Compiles one `matches` pattern for RE2, case-insensitive through RE2's own flag (Unicode simple
 * case folding), or returns why it cannot be used. Never throws: the write path turns the reason
 * into a 400 (`checkRegexSafety`), the snapshot into a clause that never holds.
 */
export function compilePattern (source: string, caseInsensitive: boolean): CompiledPattern | string {
  const key = (caseInsensitive ? 'i' : '-') + source
  let found = compiled.get(key)
  if (found === undefined) compiled.set(key, found = compileOnce(source, caseInsensitive))
  return found
}

/**
 * Patterns compiled (or refused) so far, by flag and source: the last 1,000 used. Flags often hold
 * the same pattern (an email domain, a UUID); a snapshot compiled every copy again when it loaded (at
 * 10,000 flags, about 150 ms of a cold start), and a write compiled its flag's patterns once to check
 * them and again to load them. One compiled program serves every clause that holds its source: RE2JS
 * keeps nothing of a match in it but a pool of matching machines, taken and given back within each
 * synchronous call.
 */
const compiled = new LRUCache<string, CompiledPattern | string>({ max: 1_000 })

function compileOnce (source: string, caseInsensitive: boolean): CompiledPattern | string {
  // Refuse a pattern that would expand too far before paying for its compilation.
  const estimate = estimateSize(source)
  if (estimate > MAX_PATTERN_SIZE) return tooLarge(estimate)
  let re: RE2JS
  try {
    re = RE2JS.compile(source, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0)
  } catch (err) {
    return `not a valid regular expression in ${SYNTAX}: ${(err as Error).message}`
  }
  // The estimate is a pre-filter; the compiled program's size is the authority.
  return re.programSize() > MAX_PATTERN_SIZE ? tooLarge(re.programSize()) : re
}

function tooLarge (size: number): string {
  return `pattern expands to about ${size} RE2 instructions (counted repetitions such as x{500} are copied out); ` +
    `at most ${MAX_PATTERN_SIZE} are allowed`
}

/**
 * A lower bound on RE2's program size, from the text alone (each atom 1, a group its contents, a
 * counted repetition multiplies what it repeats by its largest count), as RE2's own parser sizes
 * a pattern. Linear in the (≤ 256-character) source.
 */
function estimateSize (source: string): number {
  const outer: Array<{ total: number, last: number }> = []
  let cur = { total: 0, last: 0 }
  const atom = (n: number): void => { cur.total += n; cur.last = n }
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]
    if (ch === '\\') {
      const next = source[i + 1]
      if (next === 'Q') { // \Q…\E: every character a literal
        const end = source.indexOf('\\E', i + 2)
        const stop = end < 0 ? source.length : end
        for (let k = i + 2; k < stop; k++) atom(1)
        i = end < 0 ? source.length : end + 1
      } else if ((next === 'p' || next === 'P' || next === 'x') && source[i + 2] === '{') { // \p{Greek}, \x{10FFFF}
        const end = source.indexOf('}', i + 3)
        i = end < 0 ? source.length : end
        atom(1)
      } else {
        i += next === 'p' || next === 'P' ? 2 : 1 // \pL, \d, \.
        atom(1)
      }
    } else if (ch === '[') {
      i = classEnd(source, i)
      atom(1)
    } else if (ch === '(') {
      outer.push(cur)
      cur = { total: 0, last: 0 }
    } else if (ch === ')') {
      const inner = cur.total
      cur = outer.pop() ?? { total: 0, last: 0 }
      atom(inner + 1)
    } else if (ch === '{') {
      const m = /^\{(\d{1,7})(,(\d{0,7}))?\}/.exec(source.slice(i, i + 17))
      if (m === null) { atom(1); continue }
      const min = Number(m[1])
      const count = m[2] === undefined ? min : m[3] === '' ? min + 1 : Math.max(min, Number(m[3]))
      cur.total += cur.last * (count - 1)
      cur.last *= count
      i += m[0].length - 1
    } else if (ch === '*' || ch === '+' || ch === '?' || ch === '|') {
      cur.total += 1
    } else {
      atom(1)
    }
  }
  return outer.reduce((sum, frame) => sum + frame.total, cur.total)
}

/** Index of the `]` closing the class opened at `start` (`[]a]`, `[^]a]`, `[\]]`, `[[:alpha:]]`). */
function classEnd (source: string, start: number): number {
  let i = start + 1
  if (source[i] === '^') i++
  if (source[i] === ']') i++
  for (; i < source.length; i++) {
    if (source[i] === '\\') i++
    else if (source.startsWith('[:', i)) { const end = source.indexOf(':]', i + 2); if (end >= 0) i = end + 1 } else if (source[i] === ']') return i
  }
  return source.length
}

/**
 * Refuse, at write time, `matches` patterns the engine would not run: not RE2 syntax (lookaround,
 * backreferences), too large a program, or more than `MAX_PATTERNS_PER_FLAG` in the flag. Separate
 * from `compileFlag`, which must load every flag stored before these rules existed without throwing
 * (there such a clause never holds). Bounded: at most 20 patterns of at most 1,000 instructions.
 */
export function checkRegexSafety (def: FlagDefinition): void {
  let count = 0
  def.targeting_rules.rules.forEach((rule, r) => rule.clauses.forEach((clause, c) => {
    if (clause.operator !== 'matches') return
    clause.values.forEach((source, v) => {
      const field = `targeting_rules.rules.${r}.clauses.${c}.values.${v}`
      if (++count > MAX_PATTERNS_PER_FLAG) throw new FlagCompileError(field, `a flag may hold at most ${MAX_PATTERNS_PER_FLAG} regular expressions`)
      if (typeof source !== 'string') return // compileFlag, which runs first, refuses those
      const compiled = compilePattern(source, clause.case_insensitive === true)
      if (typeof compiled === 'string') throw new FlagCompileError(field, compiled)
    })
  }))
}
