import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { revisionOf, type TestApp } from '../helper.js'

/**
 * What isProblem() and refused() (test/helper.ts) check, without asserting: for tests that send many
 * refused requests and assert once on the list of what went wrong (test/support/cases.ts).
 */

/** What is wrong with `res` as the problem+json `status` / `code` at `instance`: [] when nothing. */
export function problemDiff (res: LightMyRequestResponse, status: number, code: string, instance: string): string[] {
  const wrong: string[] = []
  if (res.statusCode !== status) wrong.push(`status ${res.statusCode}, not ${status}: ${res.body.slice(0, 300)}`)
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) wrong.push(`content-type ${String(res.headers['content-type'])}`)
  let body: Record<string, any>
  try { body = res.json() } catch { return [...wrong, 'body is not JSON'] }
  if (body.code !== code) wrong.push(`code ${String(body.code)}, not ${code}`)
  if (body.status !== status) wrong.push(`body status ${String(body.status)}`)
  if (typeof body.detail !== 'string') wrong.push('no detail string')
  if (body.instance !== instance) wrong.push(`instance ${String(body.instance)}, not ${instance}`)
  if ('stack' in body) wrong.push('a stack trace')
  return wrong
}

/** The body of a response, or {} when it is not JSON. */
export function bodyOf (res: LightMyRequestResponse): Record<string, any> {
  try { return res.json() } catch { return {} }
}

/**
 * Sends a write (with the write key) that must be refused as problem+json `status` / `code` and leave the
 * revision unchanged: the body, and what was wrong ([] when nothing), as refused() checks.
 */
export async function refusal (ctx: TestApp, opts: InjectOptions, status: number, code: string): Promise<{ body: Record<string, any>, wrong: string[] }> {
  const rev = await revisionOf(ctx)
  const res = await ctx.write(opts)
  const wrong = problemDiff(res, status, code, String(opts.url).split('?')[0])
  const after = await revisionOf(ctx)
  if (after !== rev) wrong.push(`revision ${rev} → ${after}`)
  return { body: bodyOf(res), wrong }
}

/**
 * GET `path?<qs>` for each [qs, field]: each must be a 400 validation problem naming exactly that field.
 * Returns the failing ones (at most five, then their number), for one assertion.
 */
export async function badQueries (get: (url: string) => Promise<LightMyRequestResponse>, path: string, cases: Array<[qs: string, field: string]>): Promise<unknown[]> {
  const failures: unknown[] = []
  let more = 0
  for (const [qs, field] of cases) {
    const res = await get(`${path}?${qs}`)
    const wrong = problemDiff(res, 400, 'FLAGPOST_ERR_VALIDATION', path)
    const named = JSON.stringify(bodyOf(res).errors?.map((e: { field?: string }) => e.field))
    if (named !== JSON.stringify([field])) wrong.push(`names ${named}, not ${field}`)
    if (wrong.length === 0) continue
    if (failures.length < 5) failures.push({ case: qs, wrong })
    else more++
  }
  if (more > 0) failures.push(`… and ${more} more`)
  return failures
}
