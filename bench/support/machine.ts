/** What each bench prints about the run: machine, Node, date and load, so its figures can be recorded with them. */
import { cpus, loadavg, totalmem } from 'node:os'

const loadNow = (): string => loadavg().map((l) => l.toFixed(2)).join(', ')

/** The run's first line: machine, Node, date and the load average (`uptime`) as the bench starts. */
export function printRunHeader (what: string): void {
  const cpu = cpus()
  console.log(`${what}\nmachine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} vCPUs, ${Math.round(totalmem() / 2 ** 30)} GiB; ` +
    `node ${process.version}; ${new Date().toISOString().slice(0, 16)}Z; load average at start ${loadNow()}`)
}

/** The run's last line: the load average as it ends (other work on the machine moves every figure). */
export function printRunFooter (): void {
  console.log(`load average at end ${loadNow()}\n`)
}

/**
 * The 1-minute load average sampled every 5 s from now until the returned function is called, which
 * gives its range: what else ran on the machine while the figures were taken (the bench itself counts
 * about 2: a server and the load generator).
 */
export function sampleLoad (): () => string {
  const samples = [loadavg()[0]]
  const timer = setInterval(() => samples.push(loadavg()[0]), 5000)
  timer.unref()
  return () => {
    clearInterval(timer)
    samples.push(loadavg()[0])
    return `load average ${Math.min(...samples).toFixed(2)}–${Math.max(...samples).toFixed(2)} over the run (${samples.length} samples)`
  }
}
