/**
 * Which core does what during an HTTP bench: on this 2-core machine, the load generator (and the bench
 * process that runs or starts it) on core 0 and the server under load on core 1, so that neither takes
 * the other's time and a server's throughput is what one core of it serves — the terms of Unleash
 * Edge's "req/s on 1 CPU". Only the benches that call `pinCores` pin; PIN=0 turns it off.
 *
 * A bench keeps several servers up (three processes per target, the bare process, other sizes), and
 * an idle Flagpost process is not asleep: prom-client's event-loop-delay monitor wakes it 100 times a
 * second, its poll of the database once. Eight idle servers on the loaded server's core took 8 % of its
 * bulk throughput (median of 8 rounds, 2026-12-06, twenty-seventh session). So a load that names its
 * server (`LoadTarget.pid`) has core 1 to that server alone: the others wait on core 0
 * (`underLoad`).
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

let serverCpus: string | null = null
/** The load generator's core (taskset's list): the bench process, what it starts, and the servers not under load. */
const LOAD_CPUS = '0'
/** Where the bench's pinned servers are now, by pid: the servers' core, or the load generator's while another is loaded. */
const placed = new Map<number, string>()

/** The cores servers started from now on are pinned to (taskset's list), or null when they are not pinned. */
export const serverAffinity = (): string | null => serverCpus

/** Pin this process (every thread, and so what it starts) to core 0, and the servers it starts to core 1; says what it did. */
export function pinCores (): string {
  if (process.env.PIN === '0') return 'cores not pinned (PIN=0)'
  if (availableParallelism() < 2) return 'cores not pinned (one core)'
  try {
    execFileSync('taskset', ['-a', '-p', '-c', LOAD_CPUS, String(process.pid)], { stdio: 'ignore' })
  } catch {
    return 'cores not pinned (taskset failed)'
  }
  serverCpus = '1'
  return 'load generator on core 0, the server under load on core 1 (taskset)'
}

/** Move a server already running (every thread) to the servers' cores, when they are pinned: for servers started before `pinCores`. */
export function pinServer (pid: number): void {
  if (serverCpus === null) return
  placed.delete(pid)
  place(pid, serverCpus)
}

/** Move every thread of `pid` to `cpus` unless it is there; a server that has exited is forgotten. */
function place (pid: number, cpus: string): void {
  if (placed.get(pid) === cpus) return
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
    placed.set(pid, cpus)
  } catch {
    placed.delete(pid)
  }
}

/** A server just started on the servers' core (support/server-process.ts). */
export function startedPinned (pid: number): void {
  if (serverCpus !== null) placed.set(pid, serverCpus)
}

/** A server has exited: its pid may be another process's next. */
export const exitedServer = (pid: number): void => { placed.delete(pid) }

/**
 * The servers `pids` are about to be loaded: they get the servers' core, and every other pinned server
 * waits on the load generator's core until it is loaded itself. Nothing moves when cores are not pinned.
 */
export function underLoad (pids: readonly number[]): void {
  if (serverCpus === null) return
  for (const pid of [...placed.keys()]) if (!pids.includes(pid)) place(pid, LOAD_CPUS)
  for (const pid of pids) place(pid, serverCpus)
}
