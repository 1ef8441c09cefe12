/**
 * HTTP load from wrk (Debian package `wrk`), a load generator written in C that runs as a process of
 * its own: reading a 43 KiB answer costs it a fraction of what it costs autocannon in JavaScript, so
 * with the server on one core and wrk on the other, what is measured is the server. The requests are
 * cycled through by a Lua script (wrk's `request` hook), and the figures come back on one line printed
 * by its `done` hook, not parsed from its human-readable report.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface WrkRequest { method?: string, path?: string, headers?: Record<string, string | string[] | undefined>, body?: string | Buffer }

export interface WrkResult {
  requests: number
  seconds: number
  /** Connect, read and write errors. */
  errors: number
  timeouts: number
  /** Answers whose status was not 2xx or 3xx. */
  non2xx: number
  /** Latency percentiles, ms. */
  p50: number
  p99: number
}

/** Whether wrk can be run here. */
export async function wrkAvailable (): Promise<boolean> {
  try {
    await run('wrk', ['--version'])
    return true
  } catch (error) {
    // wrk --version prints its usage and exits 1: it is there.
    return (error as { code?: unknown }).code === 1
  }
}

/** A Lua string literal for any bytes: printable ASCII as is, everything else as a three-digit decimal escape (Lua reads up to three digits, so `\34` before a digit would take it in). */
function luaString (value: string | Buffer): string {
  let out = '"'
  for (const byte of Buffer.from(value)) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`
  }
  return `${out}"`
}

function script (requests: WrkRequest[]): string {
  const rows = requests.map(({ method = 'GET', path = '/', headers = {}, body }) =>
    `{ ${luaString(method)}, ${luaString(path)}, { ${Object.entries(headers).flatMap(([k, v]) => v === undefined ? [] : [`[${luaString(k)}] = ${luaString(String(v))}`]).join(', ')} }, ${body === undefined ? 'nil' : luaString(body)} }`)
  return `local raw = {\n${rows.join(',\n')}\n}
local formatted = {}
local n = 0
local i = 0
function init (args)
  for k, r in ipairs(raw) do formatted[k] = wrk.format(r[1], r[2], r[3], r[4]) end
  n = #formatted
end
function request ()
  i = i % n + 1
  return formatted[i]
end
function done (summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FLAGPOST-WRK %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write, e.timeout, e.status, latency:percentile(50), latency:percentile(99), 0))
end
`
}

/** `connections` connections from one wrk thread for `seconds`, cycling through `requests`. */
export async function runWrk (base: string, requests: WrkRequest[], { seconds, connections }: { seconds: number, connections: number }): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-wrk-'))
  try {
    const file = join(dir, 'requests.lua')
    writeFileSync(file, script(requests))
    const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', file, base], { maxBuffer: 1 << 20 })
    const line = stdout.split('\n').find((l) => l.startsWith('FLAGPOST-WRK '))
    if (line === undefined) throw new Error(`wrk printed no result line:\n${stdout}`)
    const [total, durationUs, errors, timeouts, non2xx, p50Us, p99Us] = line.split(' ').slice(1).map(Number)
    return { requests: total, seconds: durationUs / 1e6, errors, timeouts, non2xx, p50: p50Us / 1000, p99: p99Us / 1000 }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
