/**
 * `work`'s value, or `fallback` when it rejects or has not settled within `ms` (then `onLate` is
 * called). For calls to a dependency that may stall rather than refuse (Redis, the database), where
 * the caller can carry on without the answer: the shared flag copy, readiness probes.
 */
export async function settleWithin<T> (work: Promise<T>, ms: number, fallback: T, onLate?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<T>((resolve) => { timer = setTimeout(() => { onLate?.(); resolve(fallback) }, ms) })
  try {
    return await Promise.race([work.catch(() => fallback), late])
  } finally {
    clearTimeout(timer)
  }
}
