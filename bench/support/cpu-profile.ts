/**
 * Reading a V8 `.cpuprofile` (what `node --cpu-prof` writes): self time per function and per
 * module, as markdown rows, so that "where does the time go" is written down, not eyeballed.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface SelfTime { name: string, where: string, ms: number, share: number }

/** Where a function lives, short: `src/engine/evaluate.ts:180`, `fastify/lib/route.js:402`, `node:internal/…`. */
function location (url: string, line: number): string {
  if (url === '') return ''
  const path = url.replace(/^file:\/\//, '')
  const inModules = path.lastIndexOf('/node_modules/')
  const short = inModules >= 0 ? path.slice(inModules + '/node_modules/'.length) : path.replace(/^.*?\/(src|bench|test|dist)\//, '$1/')
  // Code transformed on the fly (tsx) is one line: its line number says nothing, the file does.
  return line === 0 ? short : `${short}:${line + 1}`
}

/** The module a location belongs to: an npm package, one of our files, or `node` for Node's own code. */
function moduleOf (url: string): string {
  if (url === '') return '(V8 / native)'
  if (url.startsWith('node:')) return 'node (core)'
  const path = url.replace(/^file:\/\//, '')
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path.slice(path.lastIndexOf('/node_modules/')))
  if (match !== null) return match[1]
  return path.replace(/^.*?\/(src|bench|test|dist)\//, '$1/')
}

/**
 * A stretch of the profile, in µs of the clock V8 stamps samples with: the same monotonic clock as
 * `process.hrtime.bigint() / 1000n`, so a process can say when its load started and ended.
 */
export interface Window { startUs: number, endUs: number }

/**
 * The profile's nodes, and the µs sampled in each (its self time): only samples inside `window` (or
 * any of several) when given; `totalUs` is the busy time, idle excluded.
 */
function busySamples (file: string, window?: Window | Window[]): { byId: Map<number, ProfileNode>, selfUs: Map<number, number>, idle: Set<number>, totalUs: number } {
  const windows = window === undefined ? undefined : Array.isArray(window) ? window : [window]
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (windows !== undefined && !windows.some((w) => at >= w.startUs && at <= w.endUs)) continue
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta)
  }
  // Shares are of the time the thread was busy: waiting for I/O ("(idle)") is not a cost.
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
  let totalUs = 0
  for (const [id, us] of selfUs) if (!idle.has(id)) totalUs += us
  return { byId, selfUs, idle, totalUs }
}

/** A stage of a request, told by the functions on the stack: its name, and whether a frame (name, location) belongs to it. */
export interface Stage { label: string, holds: (name: string, where: string) => boolean }

/**
 * Inclusive time per stage: a sample counts for a stage when any frame on its stack belongs to it
 * (once, however many do), so a stage includes everything it calls. Busy time only; samples in
 * `window` when given. Returns the busy µs and each stage's µs, in the order given.
 */
export function stageTimes (file: string, stages: readonly Stage[], window?: Window | Window[]): { totalUs: number, stageUs: number[] } {
  const { byId, selfUs, idle, totalUs } = busySamples(file, window)
  const parent = new Map<number, number>()
  for (const node of byId.values()) for (const child of node.children ?? []) parent.set(child, node.id)
  const stageUs = stages.map(() => 0)
  for (const [id, us] of selfUs) {
    if (idle.has(id)) continue
    const hit = stages.map(() => false)
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber } = byId.get(at)!.callFrame
      const where = location(url, lineNumber)
      stages.forEach((stage, i) => { if (!hit[i] && stage.holds(functionName, where)) hit[i] = true })
    }
    hit.forEach((h, i) => { if (h) stageUs[i] += us })
  }
  return { totalUs, stageUs }
}

/**
 * Self time per function (summed over the profile's nodes for the same function) and per module,
 * largest first; idle excluded; only samples inside `window` (or any of several) when given.
 */
export function summarize (file: string, window?: Window | Window[]): { totalMs: number, functions: SelfTime[], modules: SelfTime[] } {
  const { byId, selfUs, idle, totalUs } = busySamples(file, window)
  const functions = new Map<string, SelfTime>()
  const modules = new Map<string, SelfTime>()
  const add = (into: Map<string, SelfTime>, key: string, name: string, where: string, us: number): void => {
    const entry = into.get(key) ?? { name, where, ms: 0, share: 0 }
    entry.ms += us / 1000
    entry.share = (100 * entry.ms * 1000) / totalUs
    into.set(key, entry)
  }
  for (const [id, us] of selfUs) {
    if (idle.has(id)) continue
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    const name = functionName === '' ? '(anonymous)' : functionName
    const where = location(url, lineNumber)
    add(functions, `${name}@${where}`, name, where, us)
    add(modules, moduleOf(url), moduleOf(url), '', us)
  }
  const sorted = (m: Map<string, SelfTime>): SelfTime[] => [...m.values()].sort((a, b) => b.ms - a.ms)
  return { totalMs: totalUs / 1000, functions: sorted(functions), modules: sorted(modules) }
}

/** The top `n` functions by self time, then the modules, then our own functions, as markdown tables. */
export function selfTimeTables (file: string, n = 20, window?: Window): string {
  const { totalMs, functions, modules } = summarize(file, window)
  const rows = (xs: SelfTime[], withWhere: boolean): string => xs.map((x) =>
    `| ${x.name} ${withWhere && x.where !== '' ? `(\`${x.where}\`)` : ''} | ${x.ms.toFixed(0)} | ${x.share.toFixed(1)} % |`).join('\n')
  const ours = functions.filter((f) => /^(src|dist)\//.test(f.where)).slice(0, 10)
  return [
    `profile: ${file}${window === undefined ? '' : ', samples taken while the load ran'} (${(totalMs / 1000).toFixed(1)} s busy; shares are of the busy time)`,
    '', '| function (self time) | ms | share |', '| --- | ---: | ---: |', rows(functions.slice(0, n), true),
    '', '| module (self time) | ms | share |', '| --- | ---: | ---: |', rows(modules.slice(0, 12), false),
    '', '| our code (src/, or its build in dist/), top functions | ms | share |', '| --- | ---: | ---: |', rows(ours, true)
  ].join('\n')
}
