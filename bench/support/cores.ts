/**
 * Which core does what during an HTTP bench: on this 2-core machine, the load generator (and the bench
 * process that runs or starts it) on core 0 and the server under load on core 1, so that neither takes
 * the other's time and a server's throughput is what one core of it serves — the terms of Unleash
 * Edge's "req/s on 1 CPU". Only the benches that call `pinCores` pin; PIN=0 turns it off.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

let serverCpus: string | null = null

/** The cores servers started from now on are pinned to (taskset's list), or null when they are not pinned. */
export const serverAffinity = (): string | null => serverCpus

/** Pin this process (every thread, and so what it starts) to core 0, and the servers it starts to core 1; says what it did. */
export function pinCores (): string {
  if (process.env.PIN === '0') return 'cores not pinned (PIN=0)'
  if (availableParallelism() < 2) return 'cores not pinned (one core)'
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  } catch {
    return 'cores not pinned (taskset failed)'
  }
  serverCpus = '1'
  return 'load generator on core 0, the server under load on core 1 (taskset)'
}

/** Move a server already running (every thread) to the servers' cores, when they are pinned: for servers started before `pinCores`. */
export function pinServer (pid: number): void {
  if (serverCpus !== null) execFileSync('taskset', ['-a', '-p', '-c', serverCpus, String(pid)], { stdio: 'ignore' })
}
