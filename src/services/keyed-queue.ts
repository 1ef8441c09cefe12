/**
 * Run async work one at a time per key (e.g. per flag name), different keys in parallel. Within one
 * process this removes write contention on a flag entirely; races between processes remain for the
 * optimistic version check to settle.
 */
export function createKeyedQueue () {
  const tails = new Map<string, Promise<unknown>>()
  return function run<T> (key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve()
    const result = previous.then(work, work)
    const tail = result.catch(() => {})
    tails.set(key, tail)
    // Forget the key once nothing is queued behind this work, so the map does not grow with every name ever written.
    void tail.then(() => { if (tails.get(key) === tail) tails.delete(key) })
    return result
  }
}
