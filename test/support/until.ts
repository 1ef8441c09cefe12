import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `check` every `intervalMs` until it returns true; rejects once `timeoutMs` has passed without it
 * (`check` is asked once more past the deadline first), the message naming `what`. A test that must go on
 * after a timeout, or assert on it, wraps the call: `await t.resolves(until(…), 'message')`.
 */
export async function until (check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs: number, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}
