/**
 * `npm run bench:cli`: how long a `flagpost` command takes from spawn to exit, the bundled binary
 * (dist/bin/flagpost.js, package.json `bin`) against tsc's unbundled dist/cli/index.js it is made from,
 * alternating in each round, on one SQLite file holding a few flags. `--help` (no database) and
 * `list-flags` (opens the database, reads, prints). Wall time and the child's CPU (user + system,
 * the kernel's account of reaped children, in 10-ms ticks). Knobs: `ROUNDS` (20).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { printRunFooter, printRunHeader, sampleLoad } from './support/machine.js'
import { alternateBuilds, type Build, BUILDS, bundleShare } from './support/builds.js'
import { spread } from './support/timing.js'

const ROUNDS = Number(process.env.ROUNDS ?? 20)
const entry = (path: string): string => fileURLToPath(new URL(`../dist/${path}`, import.meta.url))
const BINARIES = { bundled: entry('bin/flagpost.js'), unbundled: entry('cli/index.js') }
const COMMANDS = [['--help'], ['list-flags']]

/** The CPU the reaped children of this process have used so far, in ms: /proc/self/stat's cutime + cstime (clock ticks of 10 ms); NaN elsewhere. */
const childrenCpuMs = (): number => {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ')
    return (Number(fields[13]) + Number(fields[14])) * 10
  } catch {
    return Number.NaN
  }
}

const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-cli-'))
const env = { PATH: process.env.PATH ?? '', DATABASE_URL: `file:${join(dir, 'flagpost.db')}` }
const run = (binary: string, args: string[]): void => {
  const res = spawnSync(process.execPath, [binary, ...args], { env, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`${binary} ${args.join(' ')}: exit ${res.status ?? 'null'}\n${res.stderr}`)
}

try {
  printRunHeader(`bench:cli — ${ROUNDS} alternating rounds per command`)
  for (const name of ['dashboard', 'checkout', 'search']) run(BINARIES.unbundled, ['add-feature', name])
  const load = sampleLoad()
  console.log('| command | binary | wall ms, min / median / max | CPU ms (user + system), min / median / max |\n| --- | --- | --- | --- |')
  const shares: string[] = []
  for (const args of COMMANDS) {
    const wall: Record<Build, number[]> = { bundled: [], unbundled: [] }
    const cpu: Record<Build, number[]> = { bundled: [], unbundled: [] }
    await alternateBuilds(ROUNDS, (which) => {
      const cpuBefore = childrenCpuMs()
      const start = performance.now()
      run(BINARIES[which], args)
      wall[which].push(performance.now() - start)
      cpu[which].push(childrenCpuMs() - cpuBefore)
    })
    for (const which of BUILDS) {
      console.log(`| \`flagpost ${args.join(' ')}\` | ${which} | ${spread(wall[which])} | ${spread(cpu[which])} |`)
    }
    shares.push(bundleShare(`\`flagpost ${args.join(' ')}\``, 'wall time', wall))
  }
  console.log(`\n${shares.join('\n\n')}`)
  console.log(load())
  printRunFooter()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
