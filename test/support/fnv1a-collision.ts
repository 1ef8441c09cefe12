import { fnv1a } from '../../src/engine/string-hash.js'

/** The first two of `make(0)`, `make(1)`, … with one FNV-1a hash, in that order (found by trying). */
export function fnv1aCollision (make: (i: number) => string): [string, string] {
  const byHash = new Map<number, string>()
  for (let i = 0; ; i++) {
    const text = make(i)
    const hash = fnv1a(text)
    const other = byHash.get(hash)
    if (other !== undefined) return [other, text]
    byHash.set(hash, text)
  }
}
