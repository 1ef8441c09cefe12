/**
 * Profile before optimising: the HTTP bench's Flagpost targets (GET /evaluate and OFREP single, no
 * Redis) with that server under `node --cpu-prof`, then the top self-time entries of its main thread,
 * counting only the samples taken while the load ran (http.ts writes the window to
 * PROFILE_DIR/load-window.json; the server's clock is the same monotonic clock).
 * Run: npm run bench:profile   (DURATION, ROUNDS as for bench:http; PROFILE_DIR=dir keeps the
 * .cpuprofile files there, to open in Chrome DevTools → Performance; otherwise they are deleted)
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { selfTimeTables, type Window } from './support/cpu-profile.js'

const keep = process.env.PROFILE_DIR
const dir = keep === undefined ? mkdtempSync(join(tmpdir(), 'flagpost-profile-')) : resolve(keep)
mkdirSync(dir, { recursive: true })
const bench = fileURLToPath(new URL('./http.ts', import.meta.url))
try {
  const run = spawnSync(process.execPath, ['--import', 'tsx', bench], {
    stdio: 'inherit',
    env: {
      ...process.env,
      TARGETS: process.env.TARGETS ?? 'flagpost GET,flagpost OFREP',
      ROUNDS: process.env.ROUNDS ?? '1',
      DURATION: process.env.DURATION ?? '10',
      PROFILE_DIR: dir
    }
  })
  if (run.status !== 0) throw new Error(`the profiled bench failed (exit ${run.status ?? run.signal})`)
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the server's main thread. The newest,
  // should PROFILE_DIR hold earlier runs.
  const serverDir = join(dir, 'flagpost')
  const main = readdirSync(serverDir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f)).map((f) => join(serverDir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
  if (main.length === 0) throw new Error(`no main-thread profile in ${serverDir}`)
  // Only the samples taken while the load ran: startup (module loading, schema compilation) is not the request path.
  const window = JSON.parse(readFileSync(join(dir, 'load-window.json'), 'utf8')) as Window
  console.log(`\n${selfTimeTables(main[main.length - 1], 25, window)}`)
} finally {
  if (keep === undefined) rmSync(dir, { recursive: true, force: true })
  else console.log(`\nprofiles kept in ${dir}`)
}
