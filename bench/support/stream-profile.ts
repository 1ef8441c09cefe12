/**
 * Where bench:streams' server time goes, from `node --cpu-prof` profiles of its two scale servers
 * (`PROFILE=1`): the fan-out of the streams server by function, and the busy main-thread µs per
 * request of GET /evaluate with the streams open against without, with the functions that grew most.
 * Windows are in µs of CLOCK_MONOTONIC, the clock V8 stamps samples with (support/cpu-profile.ts).
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { summarize, type Window } from './cpu-profile.js'

/** The largest .cpuprofile in `dir`: the main thread's (workers write small ones, if any). */
function mainProfile (dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}: did the server exit cleanly?`)
  return join(dir, files[0])
}

const row = (name: string, where: string, a: string, b?: string, c?: string): string =>
  `| ${name}${where === '' ? '' : ` (\`${where}\`)`} | ${a} |${b === undefined ? '' : ` ${b} |`}${c === undefined ? '' : ` ${c} |`}`

/** Markdown: the fan-out's top functions; then µs per request with and without streams, and what grew. */
export function streamProfileReport ({ streamsDir, quietDir, fanout, streamsRounds, quietRounds, streamsRequests, quietRequests, top = 12 }: {
  streamsDir: string
  quietDir: string
  fanout: Window
  streamsRounds: Window[]
  quietRounds: Window[]
  streamsRequests: number
  quietRequests: number
  top?: number
}): string {
  const streams = mainProfile(streamsDir)
  const quiet = mainProfile(quietDir)
  const fan = summarize(streams, fanout)
  const out = [`profile of the fan-out (streams server, main thread; ${(fan.totalMs / 1000).toFixed(2)} s busy in the fan-out window)`, '',
    '| function (self time) | ms | share |', '| --- | ---: | ---: |',
    ...fan.functions.slice(0, top).map((f) => row(f.name, f.where, f.ms.toFixed(0), `${f.share.toFixed(1)} %`)),
    '', '| module (self time) | ms | share |', '| --- | ---: | ---: |',
    ...fan.modules.slice(0, 8).map((m) => row(m.name, '', m.ms.toFixed(0), `${m.share.toFixed(1)} %`))]

  const a = summarize(streams, streamsRounds)
  const b = summarize(quiet, quietRounds)
  const perReq = (ms: number, n: number): number => (1000 * ms) / n
  const byKey = (fs: typeof a.functions): Map<string, number> => new Map(fs.map((f) => [`${f.name}@${f.where}`, f.ms]))
  const bMap = byKey(b.functions)
  const aMap = byKey(a.functions)
  const keys = new Set([...aMap.keys(), ...bMap.keys()])
  const grown = [...keys].map((k) => ({ k, with: perReq(aMap.get(k) ?? 0, streamsRequests), without: perReq(bMap.get(k) ?? 0, quietRequests) }))
    .sort((x, y) => (y.with - y.without) - (x.with - x.without)).slice(0, top)
  out.push('', '| GET /evaluate, main thread | requests | busy µs / request |', '| --- | ---: | ---: |',
    `| with the streams open | ${streamsRequests.toLocaleString('en-US')} | ${perReq(a.totalMs, streamsRequests).toFixed(1)} |`,
    `| without | ${quietRequests.toLocaleString('en-US')} | ${perReq(b.totalMs, quietRequests).toFixed(1)} |`,
    '', '| function (self time), most grown | without µs / req | with streams µs / req | difference |', '| --- | ---: | ---: | ---: |',
    ...grown.map((g) => { const at = g.k.indexOf('@'); return row(g.k.slice(0, at), g.k.slice(at + 1), g.without.toFixed(2), g.with.toFixed(2), `${g.with >= g.without ? '+' : ''}${(g.with - g.without).toFixed(2)}`) }))
  return out.join('\n')
}
