/**
 * CPU time of a process or of one thread, from /proc (Linux; null elsewhere). A server's CPU time
 * per request is what its throughput is made of when it has a core to itself, and unlike req/s it
 * hardly moves when other work on the machine takes the cores away.
 */
import { readFileSync } from 'node:fs'

// utime and stime in /proc/.../stat count clock ticks: 100 per second on Linux (getconf CLK_TCK).
const TICK_MS = 10

function statCpuMs (path: string): number | null {
  try {
    const stat = readFileSync(path, 'utf8')
    // After "pid (comm) ", fields start at state (field 3): utime is field 14, stime field 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch { return null }
}

/** User + system CPU of a whole process (every thread), in ms. */
export const processCpuMs = (pid: number): number | null => statCpuMs(`/proc/${pid}/stat`)

/**
 * User + system CPU of a process's main thread alone (not its worker, GC or I/O threads), in ms:
 * with a core to itself, roughly the wall time of what that thread did. Default: this process.
 */
export const mainThreadCpuMs = (pid = process.pid): number | null => statCpuMs(`/proc/${pid}/task/${pid}/stat`)
