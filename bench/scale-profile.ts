/**
 * Where scale costs, by function: the two servers of `bench:scale` (10 flags; 10,000 flags +
 * 100,000 overrides) under `node --cpu-prof`, the same request mix, rounds alternating between them.
 * Only the samples taken while each server's load ran count (the children's profiles are stamped
 * with CLOCK_MONOTONIC, the clock of process.hrtime here). Prints each server's busy main-thread
 * µs per request, then the functions whose µs per request grew (or shrank) most from 10 to 10k.
 * Unlike the CPU time of bench:scale, a profile attributes the time, and a difference of a few
 * µs per request stands out from the noise of a shared machine.
 * Run: npm run bench:scale-profile   (builds first; KIND=ofrep|get (ofrep), ROUNDS=4, DURATION=3, FLAGS=10000, TOP=15)
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { summarize, type Window } from './support/cpu-profile.js'
import { KINDS, loadRequests, seedDataset } from './support/dataset.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { startServer, type ServerProcess } from './support/server-process.js'

const KIND = process.env.KIND === 'get' ? 'get' : 'ofrep'
const ROUNDS = Number(process.env.ROUNDS ?? 4)
const DURATION = Number(process.env.DURATION ?? 3)
const FLAGS = Number(process.env.FLAGS ?? 10_000)
const TOP = Number(process.env.TOP ?? 15)
const CONNECTIONS = 32

interface Side { label: string, dir: string, server: ServerProcess, requests: autocannon.Request[], windows: Window[], completed: number }

const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-scale-profile-'))
const sides: Side[] = []
try {
  await main()
} finally {
  for (const side of sides) await side.server.stop()
  rmSync(dir, { recursive: true, force: true })
}

async function main (): Promise<void> {
  printRunHeader(`bench:scale-profile: ${KIND === 'get' ? 'GET /evaluate/{name}' : 'OFREP single'}, ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION} s per server, alternating`)
  const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)
  for (const [label, flags, subjects] of [[`${KINDS} flags`, KINDS, false], [`${FLAGS.toLocaleString('en-US')} flags`, FLAGS, true]] as const) {
    const db = join(dir, `${flags}.db`)
    await seedDataset(db, { flags, subjects })
    const profiles = join(dir, `profile-${flags}`)
    mkdirSync(profiles)
    const server = await startServer({ DATABASE_URL: `file:${db}`, API_KEY: 'bench-write-key-0123456789' }, join(dir, `${flags}.log`), ['--cpu-prof', `--cpu-prof-dir=${profiles}`])
    sides.push({ label, dir: profiles, server, requests: loadRequests(10_000, flags)[KIND], windows: [], completed: 0 })
  }
  const run = async (side: Side, duration: number): Promise<autocannon.Result> =>
    autocannon({ url: side.server.base, connections: CONNECTIONS, duration, workers: 1, requests: side.requests })
  for (const side of sides) await run(side, 2) // warm-up, not counted
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const startUs = monotonicUs()
      const result = await run(side, DURATION)
      side.windows.push({ startUs, endUs: monotonicUs() })
      side.completed += result.requests.total
      if (result.errors + result.non2xx > 0) throw new Error(`${side.label}: ${result.errors} errors, ${result.non2xx} non-2xx`)
    }
  }
  // SIGTERM: the servers drain and exit, and node writes the profiles.
  for (const side of sides) await side.server.stop()

  const perRequest = sides.map((side) => {
    const file = join(side.dir, readdirSync(side.dir).find((f) => f.endsWith('.cpuprofile'))!)
    const { totalMs, functions } = summarize(file, side.windows)
    const us = new Map(functions.map((f) => [`${f.name}${f.where === '' ? '' : ` (\`${f.where}\`)`}`, (f.ms * 1000) / side.completed]))
    return { totalUs: (totalMs * 1000) / side.completed, us }
  })
  const [small, large] = perRequest
  console.log('\n| server | requests | main thread busy µs / request |\n| --- | ---: | ---: |')
  sides.forEach((side, i) => console.log(`| ${side.label} | ${side.completed.toLocaleString('en-US')} | ${perRequest[i].totalUs.toFixed(1)} |`))
  console.log(`\n${sides[1].label} ÷ ${sides[0].label} by busy time per request (the throughput ratio on a core of its own): **${((100 * small.totalUs) / large.totalUs).toFixed(1)} %**`)

  const names = new Set([...small.us.keys(), ...large.us.keys()])
  const diffs = [...names].map((name) => ({ name, a: small.us.get(name) ?? 0, b: large.us.get(name) ?? 0 })).sort((x, y) => (y.b - y.a) - (x.b - x.a))
  const row = ({ name, a, b }: { name: string, a: number, b: number }): string => `| ${name} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(b - a >= 0 ? '+' : '') + (b - a).toFixed(2)} |`
  console.log(`\n| function (self time), most grown | ${sides[0].label} µs / req | ${sides[1].label} µs / req | difference |\n| --- | ---: | ---: | ---: |`)
  for (const d of diffs.slice(0, TOP)) console.log(row(d))
  console.log(`\n| function (self time), most shrunk (noise, or work moved) | ${sides[0].label} µs / req | ${sides[1].label} µs / req | difference |\n| --- | ---: | ---: | ---: |`)
  for (const d of diffs.slice(-5).reverse()) console.log(row(d))
  const ours = (s: Map<string, number>): number => [...s].filter(([name]) => /`(src|dist)\//.test(name)).reduce((n, [, us]) => n + us, 0)
  console.log(`\nour code (dist/) all together: ${ours(small.us).toFixed(2)} → ${ours(large.us).toFixed(2)} µs / request`)
  printRunFooter()
}
