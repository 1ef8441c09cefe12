import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { createContainer, type Container } from '../src/container.js'
import { testDatabase } from './support/test-database.js'

export const WRITE_KEY = 'test-write-key-0123456789'
export const READ_KEY = 'test-read-key-0123456789'

interface TestLike { teardown (fn: () => unknown): void }

export interface TestApp {
  app: FastifyInstance
  container: Container
  config: Config
  /** app.inject with the write key already set (pass headers to override). */
  write (opts: InjectOptions): Promise<LightMyRequestResponse>
}

// The database of each test app: see support/test-database.ts (the pass's dialect, cleaned up at teardown).
export { testDatabase, testDialect } from './support/test-database.js'

/**
 * A fresh app with a write key and a read key, closed when the test ends: on in-memory SQLite, on
 * a private Postgres schema under FLAGPOST_TEST_DB=postgres, or on `env.DATABASE_URL` when given.
 * Reads no other environment. `planFromFlags` is the container's (services/flag-service.ts).
 */
export async function build (t: TestLike, env: Record<string, string> = {}, { planFromFlags }: { planFromFlags?: number } = {}): Promise<TestApp> {
  const url = env.DATABASE_URL ?? (await testDatabase(t)).url
  const config = loadConfig({ DATABASE_URL: url, API_KEY: WRITE_KEY, READ_API_KEY: READ_KEY, LOG_LEVEL: 'silent', ...env })
  const container = await createContainer(config, { planFromFlags })
  t.teardown(() => container.close())
  const app = await buildApp(container)
  t.teardown(() => app.close())
  return {
    app,
    container,
    config,
    write: (opts) => app.inject({ ...opts, headers: { 'x-api-key': WRITE_KEY, ...(opts.headers ?? {}) } })
  }
}

/** Create a flag through the API and return its body; fails loudly if the API refuses. */
export async function createFlag (ctx: TestApp, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await ctx.write({ method: 'POST', url: '/flags', payload: body })
  if (res.statusCode !== 201) throw new Error(`createFlag ${String(body.name)}: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** The number of change-log rows (the current revision). */
export const revisionOf = (ctx: TestApp): Promise<number> => ctx.container.repositories.flags.latestRevision()

/** An error response: problem+json with the stable code, and nothing internal. Returns the body. */
export function isProblem (t: Test, res: LightMyRequestResponse, status: number, code: string, instance: string): Record<string, any> {
  t.equal(res.statusCode, status, `status ${status}: ${res.body}`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.code, code)
  t.equal(body.status, status)
  t.type(body.detail, 'string')
  t.equal(body.instance, instance)
  t.notOk('stack' in body, 'no stack trace')
  return body
}

/** A write that must succeed with `status` and add exactly one revision. */
export async function wrote (t: Test, ctx: TestApp, opts: InjectOptions, status: number): Promise<LightMyRequestResponse> {
  const rev = await revisionOf(ctx)
  const res = await ctx.write(opts)
  t.equal(res.statusCode, status, `${String(opts.method)} ${String(opts.url)}: ${res.body.slice(0, 300)}`)
  t.equal(await revisionOf(ctx), rev + 1, `${String(opts.method)} ${String(opts.url)} adds one revision`)
  return res
}

/** A write that must fail as problem+json with `status` and `code` and leave the revision unchanged. */
export async function refused (t: Test, ctx: TestApp, opts: InjectOptions, status: number, code: string, label = ''): Promise<Record<string, any>> {
  const rev = await revisionOf(ctx)
  const res = await ctx.write(opts)
  const body = isProblem(t, res, status, code, String(opts.url).split('?')[0])
  t.equal(await revisionOf(ctx), rev, `${label || `${String(opts.method)} ${String(opts.url)}`}: no revision`)
  return body
}
