/**
 * Where a bulk request's time goes, against the bare process (issue 17): Flagpost's OFREP bulk
 * request over FLAGS flags for contexts that never ask again (the default configuration: the
 * figure bench:bulk leaves short of 6,900 req/s), and the bare Fastify process answering the same
 * body as bytes made once, both under `node --cpu-prof`, the load from wrk (support/load.ts), rounds
 * alternating, each run taking the next 8,192 contexts. Per side, main-thread busy µs per request by
 * stage, counted inclusively (a stage holds everything it calls: support/cpu-profile.ts,
 * `stageTimes`): the whole request; the route handler (Fastify's call of it), and in it the flag
 * service's `answerAll` (the flags' evaluation; the answer's bytes, their join and the ETag) and the
 * send (Node's `writev`, the kernel's copy of the answer); outside the handler, HTTP parsing, the
 * body, validation and the collector. Self-time tables per function are bench:profile's and
 * bench:scale-profile's; this one says which stage of the request the gap to the bare process is in.
 * Run: npm run bench:bulk-profile   (builds first; ROUNDS=4, DURATION=3, FLAGS=350, CONNECTIONS=32)
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type autocannon from 'autocannon'
import { stageTimes, type Stage, type Window } from './support/cpu-profile.js'
import { bulkRequests, seedDataset } from './support/dataset.js'
import { runLoad, useWrk } from './support/load.js'
import { pinCores, pinServer } from './support/cores.js'
import { printRunFooter, printRunHeader, sampleLoad } from './support/machine.js'
import { startBareServer, startServer, withServers, type BenchRun, type ServerProcess } from './support/server-process.js'

const ROUNDS = Number(process.env.ROUNDS ?? 4)
const DURATION = Number(process.env.DURATION ?? 3)
const FLAGS = Number(process.env.FLAGS ?? 350)
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32)
const SLICE = 8192
const KEY = 'bench-write-key-0123456789'

interface Side { label: string, profiles: string, server: ServerProcess, windows: Window[], completed: number, rps: number[], next: number }

/** A frame's function is `name` (and lives at a location starting with `where`, when given). */
const fn = (name: string, where?: string) => (n: string, w: string): boolean => n === name && (where === undefined || w.startsWith(where))
const STAGES: Stage[] = [
  { label: 'the route handler (Fastify\'s call of it)', holds: fn('preHandlerCallbackInner', 'fastify/') },
  { label: '… the flag service\'s `answerAll`', holds: fn('answerAll') },
  { label: '… … evaluating the flags (`evaluatePlan`)', holds: fn('evaluatePlan') },
  { label: '… … the answer\'s bytes and ETag (`ofrepBulkAnswer`)', holds: fn('ofrepBulkAnswer') },
  { label: '… … … joining its pieces (`joinedBytes`)', holds: fn('joinedBytes') },
  { label: '… sending it (`Reply.send`)', holds: fn('Reply.send', 'fastify/') },
  { label: '… … `writev` (the kernel\'s copy of the answer)', holds: (n, w) => n === 'writev' && w === '' },
  { label: 'HTTP parsing and routing (`parserOnHeadersComplete`)', holds: fn('parserOnHeadersComplete', 'node:') },
  { label: 'the body\'s JSON (secure-json-parse)', holds: (_, w) => w.startsWith('secure-json-parse/') },
  { label: 'validation (Fastify\'s `validate`)', holds: fn('validate', 'fastify/lib/validation.js') },
  { label: 'the garbage collector', holds: fn('(garbage collector)') }
]

await withServers('flagpost-bench-bulk-profile-', main)

async function main ({ dir, servers }: BenchRun): Promise<void> {
  printRunHeader(`bench:bulk-profile: OFREP bulk, ${FLAGS} flags, contexts that never ask again; ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION} s per server, alternating; load from ${await useWrk()}`)
  const requests = bulkRequests((ROUNDS + 2) * SLICE).ofrep
  const db = join(dir, `${FLAGS}.db`)
  await seedDataset(db, { flags: FLAGS, subjects: false })
  const profiled = (label: string): string => { const p = join(dir, `profile-${label}`); mkdirSync(p); return p }
  const flagpostProfiles = profiled('flagpost')
  const flagpost = await startServer({ DATABASE_URL: `file:${db}`, API_KEY: KEY }, join(dir, 'flagpost.log'), ['--cpu-prof', `--cpu-prof-dir=${flagpostProfiles}`])
  servers.push(flagpost)
  const first = requests[0]
  const res = await fetch(`${flagpost.base}${first.path!}`, { method: 'POST', headers: first.headers as Record<string, string>, body: first.body as string })
  if (res.status !== 200) throw new Error(`Flagpost answered ${res.status}`)
  const body = await res.json() as unknown
  const bareProfiles = profiled('bare')
  const bare = await startBareServer([{ method: 'POST', url: first.path!, body, bytes: true }], dir, 'bare', ['--cpu-prof', `--cpu-prof-dir=${bareProfiles}`])
  servers.push(bare)
  console.log(pinCores())
  for (const server of [flagpost, bare]) pinServer(server.pid)
  const sides: Side[] = [
    { label: 'Flagpost', profiles: flagpostProfiles, server: flagpost, windows: [], completed: 0, rps: [], next: 0 },
    { label: 'bare process', profiles: bareProfiles, server: bare, windows: [], completed: 0, rps: [], next: 0 }
  ]
  /** The side's next 8,192 contexts (each side has its own turn through them: no context asks one server twice in a row). */
  const slice = (side: Side): autocannon.Request[] => {
    const start = side.next
    side.next = (side.next + SLICE) % requests.length
    return requests.slice(start, start + SLICE)
  }
  const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)
  const load = sampleLoad()
  for (const side of sides) await runLoad({ label: side.label, base: () => side.server.base, requests: slice(side), cpuMs: () => null }, { duration: 2, connections: CONNECTIONS }) // warm-up, not counted
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const startUs = monotonicUs()
      const result = await runLoad({ label: side.label, base: () => side.server.base, requests: slice(side), cpuMs: () => null }, { duration: DURATION, connections: CONNECTIONS })
      side.windows.push({ startUs, endUs: monotonicUs() })
      side.completed += result.requests.total
      side.rps.push(result.requests.average)
      if (result.errors + result.non2xx > 0) throw new Error(`${side.label}: ${result.errors} errors, ${result.non2xx} non-2xx`)
    }
  }
  const during = load()
  // SIGTERM: the servers drain and exit, and node writes the profiles.
  for (const side of sides) await side.server.stop()

  const measured = sides.map((side) => {
    const file = join(side.profiles, readdirSync(side.profiles).find((f) => f.endsWith('.cpuprofile'))!)
    const { totalUs, stageUs } = stageTimes(file, STAGES, side.windows)
    return { totalUs: totalUs / side.completed, stageUs: stageUs.map((us) => us / side.completed) }
  })
  const int = (n: number): string => Math.round(n).toLocaleString('en-US')
  console.log('\n| server | requests | req/s per round | main thread busy µs / request |\n| --- | ---: | --- | ---: |')
  sides.forEach((side, i) => console.log(`| ${side.label} | ${int(side.completed)} | ${side.rps.map(int).join(', ')} | ${measured[i].totalUs.toFixed(1)} |`))
  // STAGES[0] is the route handler.
  const handler = measured.map((m) => m.stageUs[0])
  const us = (n: number): string => n === 0 ? '—' : n.toFixed(1)
  console.log(`\n| stage (inclusive: with everything it calls) | ${sides.map((s) => `${s.label} µs / request`).join(' | ')} |\n| --- | ---: | ---: |`)
  console.log(`| the whole request | ${measured.map((m) => m.totalUs.toFixed(1)).join(' | ')} |`)
  console.log(`| outside the route handler | ${measured.map((m, j) => (m.totalUs - handler[j]).toFixed(1)).join(' | ')} |`)
  STAGES.forEach((stage, i) => console.log(`| ${stage.label} | ${measured.map((m) => us(m.stageUs[i])).join(' | ')} |`))
  console.log(`\n${during}`)
  printRunFooter()
}
