import type { Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { createContainer, type Container } from '../../src/container.js'
import { createFlagpost, isFlagpostError, type Flagpost, type FlagpostOptions } from '../../src/index.js'

/** Helpers for the library suites (test/library-*.test.ts): instances and observers closed at teardown. */

/** Open a Flagpost, closed when the test ends. */
export async function open (t: Test, options: FlagpostOptions): Promise<Flagpost> {
  const flagpost = await createFlagpost(options)
  t.teardown(() => flagpost.close())
  return flagpost
}

/** A container on the same database (no poll), to read what was written; closed at teardown. */
export async function observer (t: Test, url: string): Promise<Container> {
  const container = await createContainer(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }), { poll: false })
  t.teardown(() => container.close())
  return container
}

/** Rejects (or throws) with a Flagpost error carrying this code. */
export async function rejectsWith (t: Test, call: () => unknown, code: string, message: string): Promise<void> {
  try {
    await call()
    t.fail(`${message}: expected ${code}, but it succeeded`)
  } catch (err) {
    t.ok(isFlagpostError(err), `${message}: a Flagpost error`)
    t.equal((err as { code?: string }).code, code, `${message}: ${(err as Error).message}`)
  }
}
