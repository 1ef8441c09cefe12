import { execFile, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import { untraced } from '../support/process.js'
import { queryRows, testDatabase } from '../support/test-database.js'

/** Helpers for tests that spawn the built `flagpost` binary on a database of their own. */
// The built binary that package.json `bin` installs as `flagpost` (npm test builds first).
export const CLI = fileURLToPath(new URL('../../dist/bin/flagpost.js', import.meta.url))

export interface Result { status: number | null, stdout: string, stderr: string }

interface TestLike { teardown (fn: () => unknown): void }

/**
 * Run the binary with only the environment the test chooses: PATH and what it passes, never the
 * developer's DATABASE_URL or API_KEY.
 */
export function run (args: string[], env: Record<string, string> = {}): Result {
  // A command that left a handle open would never exit: the timeout turns that into a failure (status null).
  const res = spawnSync(...untraced(process.execPath, [CLI, ...args]), { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 })
  return { status: res.status, stdout: res.stdout, stderr: res.stderr }
}

export interface Workspace {
  /** The DATABASE_URL of this workspace: a SQLite file, or a Postgres schema on the Postgres pass. */
  url: string
  /** `flagpost …` on this workspace's database. */
  flagpost (...args: string[]): Result
  /** A container on the same database, as a server or another process would build it; closed at teardown. */
  container (opts?: { poll?: boolean, cacheRefreshMs?: number }): Promise<Container>
  /** The latest change-log revision of the database. */
  revision (): Promise<number>
  /** The change-log rows after `revision`. */
  changes (after?: number): Promise<Array<{ id: number, actor: string, action: string }>>
}

/** A database of the test's own (support/test-database.ts: SQLite file, or Postgres schema) that the CLI runs on. */
export async function workspace (t: TestLike): Promise<Workspace> {
  const { url } = await testDatabase(t, { shared: true })
  const env = { DATABASE_URL: url }
  const container = async ({ poll = false, cacheRefreshMs = 1000 }: { poll?: boolean, cacheRefreshMs?: number } = {}): Promise<Container> => {
    const c = await createContainer(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', CACHE_REFRESH_MS: String(cacheRefreshMs) }), { poll })
    t.teardown(() => c.close())
    return c
  }
  let observer: Promise<Container> | undefined
  return {
    url,
    flagpost: (...args) => run(args, env),
    container,
    async revision () {
      // One container kept open: latestRevision() reads the database each time, so it sees every process's writes.
      observer ??= container()
      return (await observer).repositories.flags.latestRevision()
    },
    changes: (after = 0) => queryRows(url, 'select id, actor, action from change_log where id > ? order by id', [after])
  }
}

/** The JSON a `--json` command printed (typed by the caller where it reads fields). */
export const json = <T = unknown>(res: Result): T => JSON.parse(res.stdout) as T

export interface CustomerJson { id: string, name: string | null, created_at: string }
export interface CustomerListJson { customers: CustomerJson[], next_cursor: string | null }
export interface FlagListJson { flags: Array<{ name: string }>, next_cursor: string | null }

/** Exit 1, `flagpost: <reason>` on stderr, nothing on stdout, and no change-log row written. */
export async function domainError (t: Test, ws: Workspace, args: string[], reason: RegExp): Promise<Result> {
  const before = await ws.revision()
  const res = ws.flagpost(...args)
  t.equal(res.status, 1, args.join(' '))
  t.match(res.stderr, new RegExp(`^flagpost: ${reason.source}`), args.join(' '))
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace')
  t.equal(res.stdout, '')
  t.equal(await ws.revision(), before, `${args.join(' ')} changed nothing`)
  return res
}

/** Exit 2 with the reason and the command's usage on stderr, and no change. */
export async function usageError (t: Test, ws: Workspace, args: string[], reason: RegExp): Promise<void> {
  const before = await ws.revision()
  const res = ws.flagpost(...args)
  t.equal(res.status, 2, args.join(' '))
  t.match(res.stderr, new RegExp(`^flagpost ${args[0]}: ${reason.source}[^\\n]*\\n\\nUsage: flagpost ${args[0]} `), args.join(' '))
  t.equal(res.stdout, '')
  t.equal(await ws.revision(), before, `${args.join(' ')} changed nothing`)
}

/** `flagpost …` on the workspace, without blocking: independent command lines run side by side. */
const spawnAsync = (ws: Workspace, args: string[]): Promise<Result> => new Promise((resolve) => {
  execFile(...untraced(process.execPath, [CLI, ...args]), { env: { PATH: process.env.PATH ?? '', DATABASE_URL: ws.url }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
    const status = err === null ? 0 : typeof err.code === 'number' ? err.code : null
    resolve({ status, stdout, stderr })
  })
})

/**
 * Command lines that must be refused, two at a time: exit 1 with `flagpost: <reason>` (a domain error)
 * or exit 2 with `flagpost <command>: <reason>` and its usage (a usage error), nothing on stdout, no
 * stack trace; and not one change-log row written by any of them.
 */
export async function refused (t: Test, ws: Workspace, cases: Array<[1 | 2, string[], RegExp]>): Promise<void> {
  const before = await ws.revision()
  const pending = [...cases]
  const worker = async (): Promise<void> => {
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
      const [code, args, reason] = next
      const res = await spawnAsync(ws, args)
      const prefix = code === 1 ? 'flagpost: ' : `flagpost ${args[0]}: `
      t.equal(res.status, code, `${args.join(' ')} exits ${code}`)
      t.match(res.stderr, new RegExp(`^${prefix}${reason.source}`), `${args.join(' ')}: ${res.stderr.split('\n')[0]}`)
      if (code === 2) t.match(res.stderr, new RegExp(`\\n\\nUsage: flagpost ${args[0]} `), `${args.join(' ')}: the usage follows`)
      t.notMatch(res.stderr, /\n\s+at /, 'no stack trace')
      t.equal(res.stdout, '')
    }
  }
  await Promise.all([worker(), worker()])
  t.equal(await ws.revision(), before, `none of ${cases.length} refused command lines wrote anything`)
}
