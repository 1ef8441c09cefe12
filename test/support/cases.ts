import { isDeepStrictEqual } from 'node:util'

/**
 * Checks every case of a table or of a generated loop and returns the first few that fail: the test then
 * asserts once on the result, `t.same(failing(cases, check), [], 'every case …')`, so it counts one
 * assertion per property however many cases it runs, and a failure still shows the failing inputs.
 * `check` returns undefined (or null) when the case holds, else what to report about it, e.g.
 * `differs(actual, expected)`. Past `max` failures only their number is added.
 */
export function failing<C> (cases: Iterable<C>, check: (c: C, index: number) => unknown, max = 5): unknown[] {
  const found: unknown[] = []
  let more = 0
  let i = 0
  for (const c of cases) {
    const failure = check(c, i++)
    if (failure === undefined || failure === null) continue
    if (found.length < max) found.push(failure)
    else more++
  }
  if (more > 0) found.push(`… and ${more} more`)
  return found
}

/** undefined when `actual` deep-equals `expected`, else both, labelled with the case. */
export function differs (label: unknown, actual: unknown, expected: unknown): { case: unknown, actual: unknown, expected: unknown } | undefined {
  return isDeepStrictEqual(actual, expected) ? undefined : { case: label, actual, expected }
}

/** 0, 1, …, n - 1: the generated ids of a loop, as an iterable for failing(). */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

/** failing() for checks that await: the cases run one after another, in order. */
export async function failingInOrder<C> (cases: Iterable<C>, check: (c: C, index: number) => Promise<unknown>, max = 5): Promise<unknown[]> {
  const found: unknown[] = []
  let more = 0
  let i = 0
  for (const c of cases) {
    const failure = await check(c, i++)
    if (failure === undefined || failure === null) continue
    if (found.length < max) found.push(failure)
    else more++
  }
  if (more > 0) found.push(`… and ${more} more`)
  return found
}
