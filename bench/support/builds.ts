/**
 * The benches that set a bundle (scripts/bundle.ts) against tsc's unbundled output it is made from
 * (bench:cli, bench:start): both run in every round, the order alternating, so that neither always
 * goes first after the other warmed the page cache.
 */
import { median } from './timing.js'

export const BUILDS = ['bundled', 'unbundled'] as const
export type Build = typeof BUILDS[number]

/** `rounds` rounds of `run` on both builds, bundled first in even rounds and last in odd ones. */
export async function alternateBuilds (rounds: number, run: (build: Build) => void | Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const build of round % 2 === 0 ? BUILDS : [...BUILDS].reverse()) await run(build)
  }
}

/** The line under a table: the bundle's median `what` as a share of the unbundled one's. */
export const bundleShare = (label: string, what: string, samples: Record<Build, readonly number[]>): string =>
  `${label}: the bundle's median ${what} is ${(100 * median(samples.bundled) / median(samples.unbundled)).toFixed(0)} % of the unbundled one's`
