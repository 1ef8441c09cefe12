/** Edit distance (insert, delete, substitute), for "did you mean" on a mistyped command. */
function distance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

/** The candidate nearest to `input`, when it is near enough to be what was meant. */
export function closest (input: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(input.length / 4)) + 1
  for (const candidate of candidates) {
    const d = distance(input, candidate)
    if (d < bestDistance) { best = candidate; bestDistance = d }
  }
  return best
}
