import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { UnavailableError } from '../src/errors.js'
import { build, createFlag, WRITE_KEY, type TestApp } from './helper.js'
import { componentName, documentOf, operationsOf, type Doc, type Operation } from './openapi-support.js'
import { injectAny } from './support/inject-stream.js'

/**
 * The document tells the truth about the statuses that depend on the deployment rather than on the
 * request (issue 12): each operation is sent a valid request with the key it needs, and
 *   - under AUTH_READS=true without a key, answers 401 exactly where it documents 401;
 *   - with a rate limit, once the client's budget is spent, answers 429 exactly where it documents 429;
 *   - with the database unavailable, answers 503 exactly where it documents 503.
 * Every status seen is documented (the fuzz suite checks the rest: 400, 404, 409, 412, 413, 415).
 */

const FLAG = 'probe_flag'
/** A valid body per request component: a new component needs one here, or this test says so. */
const BODIES: Record<string, unknown> = {
  FlagCreate: { name: 'probe_created' },
  FlagPatch: { enabled: true },
  RenameRequest: { new_name: 'probe_renamed' },
  BulkEvaluateRequest: {},
  OfrepEvaluationRequest: { context: { targetingKey: 'alice' } },
  OfrepBulkEvaluationRequest: { context: { targetingKey: 'alice' } },
  OverrideRequest: { enabled: true },
  CustomerCreate: { id: 'probe_customer' },
  UserCreate: { id: 'probe_user' },
  EnvironmentCreate: { key: 'probe-env' },
  EnvironmentPatch: { name: 'Probe' },
  PromoteRequest: { from: 'development', dry_run: true },
  ApiKeyCreate: { name: 'probe-key', role: 'viewer' },
  RevertRequest: { revision: 1 }
}

interface Sent { label: string, op: Operation, status: number, body: string }

/** A valid request to every operation (the write key unless `anonymous`); the status of each. */
async function sendEach (t: Test, app: FastifyInstance, doc: Doc, { anonymous = false } = {}): Promise<Sent[]> {
  const sent: Sent[] = []
  for (const [method, template, op] of operationsOf(doc)) {
    const label = `${method.toUpperCase()} ${template}`
    const url = template.replace(/\{(name|key)\}/g, FLAG).replace('{environment}', 'production')
      .replace('{id}', template.startsWith('/users') || template.includes('/users/') ? 'alice' : 'acme')
    const ref = componentName(op.requestBody?.content?.['application/json']?.schema?.$ref)
    if (ref !== undefined && !(ref in BODIES)) t.fail(`${label}: add a valid ${ref} to BODIES`)
    const res = await injectAny(app, {
      method: method.toUpperCase() as 'GET',
      url,
      headers: anonymous ? {} : { 'x-api-key': WRITE_KEY },
      ...(ref === undefined ? {} : { payload: BODIES[ref] as object })
    })
    sent.push({ label, op, status: res.statusCode, body: res.body.slice(0, 200) })
  }
  return sent
}

/** Sees `status` exactly on the operations that document it, and documents every status it sees. */
function agrees (t: Test, sent: Sent[], status: number, unrelated: Record<string, string> = {}): void {
  for (const { label, op, status: seen, body } of sent) {
    const documented = Object.keys(op.responses ?? {})
    t.ok(documented.includes(String(seen)), `${label}: ${seen} is documented (${documented.join(', ')}) ${seen >= 400 ? body : ''}`)
    if (label in unrelated) { t.not(seen, status, `${label}: ${unrelated[label]}`); continue }
    t.equal(seen === status, documented.includes(String(status)),
      `${label}: ${documented.includes(String(status)) ? 'documents' : 'does not document'} ${status}, answered ${seen}`)
  }
}

/** The seeded subjects and flag every request refers to. */
async function seed (ctx: TestApp): Promise<void> {
  await createFlag(ctx, { name: FLAG, type: 'boolean' })
  for (const [url, payload] of [['/customers', { id: 'acme' }], ['/users', { id: 'alice', customer_id: 'acme' }]] as const) {
    const res = await ctx.write({ method: 'POST', url, payload })
    if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  }
}

t.test('401 without a key under AUTH_READS=true, exactly where documented', async (t) => {
  const ctx = await build(t, { AUTH_READS: 'true' })
  const sent = await sendEach(t, ctx.app, await documentOf(ctx.app), { anonymous: true })
  agrees(t, sent, 401)
  t.ok(sent.filter((s) => s.status === 401).length >= 20, 'every API operation asks for a key')
  for (const s of sent.filter((s) => s.op.tags?.includes('health') === true)) t.strictSame(s.op.security, [], `${s.label}: security [] (public)`)
})

t.test('429 once the rate limit is spent, exactly where documented', async (t) => {
  const ctx = await build(t, { RATE_LIMIT_PER_MINUTE: '1' })
  await seed(ctx)
  t.equal((await ctx.app.inject({ url: `/evaluate/${FLAG}` })).statusCode, 200, 'the one request of the minute')
  const sent = await sendEach(t, ctx.app, await documentOf(ctx.app))
  agrees(t, sent, 429)
  t.equal(sent.filter((s) => s.status === 429).length, 8, 'the four evaluation operations are limited, unprefixed and under /environments/{environment}')
})

t.test('503 while the database is unavailable, exactly where documented', async (t) => {
  const ctx = await build(t)
  await seed(ctx)
  const doc = await documentOf(ctx.app)
  // Every call to the flag, subject, environment, key and change-log stores fails as a database that cannot serve does (repositories/unavailable.ts).
  const { flags, subjects, environments, apiKeys, changes } = ctx.container.repositories
  for (const repo of [flags, subjects, environments, apiKeys, changes] as unknown as Array<Record<string, unknown>>) {
    for (const [name, fn] of Object.entries(repo)) {
      if (typeof fn === 'function') repo[name] = async () => { throw new UnavailableError('The database is unavailable; retry shortly') }
    }
  }
  const sent = await sendEach(t, ctx.app, doc)
  agrees(t, sent, 503, { 'GET /readyz': 'its 503 is "not ready" (snapshot loading or behind); a database outage is `degraded`, 200' })
  const served = sent.filter((s) => s.status < 400).map((s) => s.label)
  t.ok(served.includes('GET /evaluate/{name}') && served.includes('POST /ofrep/v1/evaluate/flags'), `evaluation goes on from the snapshot: ${served.join(', ')}`)
})
