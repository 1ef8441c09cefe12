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
