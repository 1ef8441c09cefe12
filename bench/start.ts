/**
 * `npm run bench:start`: how long the server takes from spawn until `/readyz` answers 200, the bundle that
 * `npm start` runs (dist/bin/server.js, scripts/bundle.ts) against tsc's unbundled dist/server.js it is made
 * from, alternating in each round, on the scale datasets (support/dataset.ts): the ten kind flags alone, and
 * FLAGS flags with 100,000 overrides. Wall time, and the CPU the main thread and the whole process had used by
 * then (support/server-process.ts). On the whole machine, as bench:scale's cold starts. Knobs: `ROUNDS` (8), `FLAGS`.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { alternateBuilds, type Build, BUILDS, bundleShare } from './support/builds.js'
import { spread } from './support/timing.js'
import { KINDS, seedDataset } from './support/dataset.js'
import { printRunFooter, printRunHeader, sampleLoad } from './support/machine.js'
import { startServer, withServers } from './support/server-process.js'

const ROUNDS = Number(process.env.ROUNDS ?? 8)
const FLAGS = Number(process.env.FLAGS ?? 10_000)
const entry = (path: string): string => fileURLToPath(new URL(`../dist/${path}`, import.meta.url))
const ENTRIES = { bundled: entry('bin/server.js'), unbundled: entry('server.js') }
const KEY = 'bench-start-key-0123456789abcdef'

await withServers('flagpost-bench-start-', async ({ dir }) => {
  printRunHeader(`bench:start: ${ROUNDS} alternating rounds per dataset, spawn → /readyz 200`)
  const datasets = [
    { label: `${KINDS} flags`, path: join(dir, 'small.db'), flags: KINDS, subjects: false },
    { label: `${FLAGS.toLocaleString('en-US')} flags + 100,000 overrides`, path: join(dir, 'large.db'), flags: FLAGS, subjects: true }
  ]
  for (const d of datasets) await seedDataset(d.path, d)
  const load = sampleLoad()
  console.log('| dataset | server | ready ms, min / median / max | main thread CPU ms until ready | whole process CPU ms |\n| --- | --- | --- | --- | --- |')
  const shares: string[] = []
  for (const d of datasets) {
    const ready: Record<Build, number[]> = { bundled: [], unbundled: [] }
    const main: Record<Build, number[]> = { bundled: [], unbundled: [] }
    const all: Record<Build, number[]> = { bundled: [], unbundled: [] }
    await alternateBuilds(ROUNDS, async (which) => {
      const server = await startServer({ DATABASE_URL: `file:${d.path}`, API_KEY: KEY }, join(dir, `${which}.log`), [], ENTRIES[which])
      ready[which].push(server.readyMs)
      if (server.readyCpuMs !== null) { main[which].push(server.readyCpuMs.mainThread); all[which].push(server.readyCpuMs.process) }
      await server.stop()
    })
    for (const which of BUILDS) {
      console.log(`| ${d.label} | ${which} | ${spread(ready[which])} | ${main[which].length > 0 ? spread(main[which]) : 'n/a'} | ${all[which].length > 0 ? spread(all[which]) : 'n/a'} |`)
    }
    shares.push(bundleShare(d.label, 'time to ready', ready))
  }
  console.log(`\n${shares.join('\n\n')}`)
  console.log(load())
  printRunFooter()
})
