import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { Validator } from '@seriousme/openapi-schema-validator'
import type { LightMyRequestResponse } from 'fastify'
import { parse } from 'yaml'
import { build, createFlag, READ_KEY, WRITE_KEY, type TestApp } from '../helper.js'
import { bulkTail, ofrepBulkAnswer, ofrepBulkBody } from '../../src/routes/ofrep-mapping.js'
import { compileFlag } from '../../src/engine/evaluate.js'
import type { EvaluationContext, FlagDefinition } from '../../src/engine/types.js'
import { FlagUnservableError } from '../../src/errors.js'
import { flagDefinition, targeting } from '../support/flag-definition.js'
import { bulkPlanOf, choose, type BulkPlan } from '../../src/services/bulk-plan.js'

/**
 * OFREP (POST /ofrep/v1/evaluate/flags[/{key}]) through app.inject. Every body is checked against
 * the protocol's own schemas, read from ../shared/reference/ofrep/openapi.yaml (never copied here).
 */

const SPEC = new URL('../../../shared/reference/ofrep/openapi.yaml', import.meta.url)
const FLAG = (key: string): string => `/ofrep/v1/evaluate/flags/${key}`
const BULK = '/ofrep/v1/evaluate/flags'

type Json = Record<string, any>
type Component = 'evaluationSuccess' | 'serverEvaluationSuccess' | 'evaluationFailure' | 'flagNotFound' |
  'bulkEvaluationSuccess' | 'bulkEvaluationFailure' | 'generalErrorResponse'

/**
 * The spec's component schemas, compiled with Ajv (OpenAPI 3.1 = JSON Schema 2020-12), with these
 * deliberate widenings, each a place where the spec contradicts itself or the OpenFeature clients:
 * - `reason` also allows DEFAULT (flagd and the OpenFeature gherkin suites use it; README).
 * - evaluationSuccess's `oneOf` over value types can never hold for a response with a value:
 *   `codeDefaultFlag` (`type: object`, no constraint) matches every body and an integer is also a
 *   float. So codeDefaultFlag means what its description says (no `value`), and the branches are `anyOf`.
 * - objectFlag also allows arrays and null: Flagpost json flags hold any JSON (their off value
 *   defaults to null), as OpenFeature's object type (JsonValue) does; OFREP names only objects.
 * - a bulk item may be a flagNotFound, as in the spec's own bulk example.
 */
function loadSpec (): ((name: Component, body: unknown) => string | null) | null {
  if (!existsSync(SPEC)) return null
  const doc = parse(readFileSync(SPEC, 'utf8')) as Json
  const schemas = doc.components.schemas as Json
  schemas.evaluationSuccess.allOf[0].properties.reason.enum.push('DEFAULT')
  schemas.codeDefaultFlag.not = { required: ['value'] }
  schemas.evaluationSuccess.allOf[1] = { anyOf: schemas.evaluationSuccess.allOf[1].oneOf }
  schemas.objectFlag.properties.value.type = ['object', 'array', 'null']
  schemas.bulkEvaluationSuccess.properties.flags.items.oneOf.push({ $ref: '#/components/schemas/flagNotFound' })

  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema(doc, 'ofrep.yaml')
  const compiled = new Map<Component, ValidateFunction>()
  return (name, body) => {
    let validate = compiled.get(name)
    if (validate === undefined) compiled.set(name, validate = ajv.compile({ $ref: `ofrep.yaml#/components/schemas/${name}` }))
    return validate(body) ? null : ajv.errorsText(validate.errors)
  }
}

const spec = loadSpec()

// Without ../shared (someone's fresh clone) the behaviour is still tested, only not against the spec; in CI it must be there.
const ABSENT = `${SPEC.pathname} is absent (a clone without ../shared): OFREP schema checks skipped`
if (spec === null) {
  if (process.env.CI) t.fail(`${SPEC.pathname} is missing: in CI the reference files must be present`)
  else t.skip(ABSENT, () => {})
}

/** The body conforms to the spec's component (when the spec is present). Returns the parsed body. */
function conforms (t: Test, res: LightMyRequestResponse, component: Component): Json {
  t.match(res.headers['content-type'], /^application\/json/, 'application/json')
  const body = res.json() as Json
  if (spec !== null) {
    const problem = spec(component, body)
    t.equal(problem, null, `conforms to ${component}${problem === null ? '' : `: ${problem} in ${res.body}`}`)
  }
  if (component !== 'bulkEvaluationSuccess') return body
  // Every bulk answer advertises its event stream (ADR-0008; test/routes/streams.test.ts follows it): checked here, compared without.
  const { eventStreams, ...rest } = body as Record<string, Json>
  t.match(eventStreams, [{ type: 'sse', endpoint: { requestUri: /^(\/environments\/[^/]+)?\/ofrep\/v1\/event-stream\?token=[\w.-]+$/ }, inactivityDelaySec: 120 }], 'advertises its event stream')
  return rest
}

const evaluate = (ctx: TestApp, key: string, context: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: FLAG(key), headers, payload: { context } as Json })
const bulk = (ctx: TestApp, context: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: BULK, headers, payload: { context } as Json })
const raw = (ctx: TestApp, url: string, payload: string, contentType = 'application/json') =>
  ctx.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload })

/** A 200 for one flag, conforming; returns the body. */
async function success (t: Test, ctx: TestApp, key: string, context: unknown): Promise<Json> {
  const res = await evaluate(ctx, key, context)
  t.equal(res.statusCode, 200, `200: ${res.body}`)
  return conforms(t, res, 'serverEvaluationSuccess')
}

/** A user id in (or out of) a flag's percentage split, found by asking the API. */
async function splitUser (ctx: TestApp, key: string, value: unknown): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const body = (await evaluate(ctx, key, { targetingKey: `user-${i}` })).json()
    if (body.value === value) return `user-${i}`
  }
  throw new Error(`no user gets ${String(value)} from ${key}`)
}

t.test('POST /ofrep/v1/evaluate/flags/{key}', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'static_flag', default_value: true, metadata: { owner: 'checkout-team', ticket: 42, critical: true } })
  await createFlag(ctx, { name: 'beta', targeting_rules: { user_ids: ['alice'], customer_ids: ['acme'] } })
  await createFlag(ctx, { name: 'beta_default_on', targeting_rules: { user_ids: ['alice'], percentage: 100 } })
  await createFlag(ctx, {
    name: 'eu_pro',
    targeting_rules: {
      rules: [{
        id: 'eu-pro',
        clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'FR'] }, { attribute: 'seats', operator: 'gte', values: [10] },
          { attribute: 'trial', operator: 'eq', values: [false] }],
        serve: { variant: 'on' }
      }]
    }
  })
  await createFlag(ctx, { name: 'half', targeting_rules: { percentage: 50 } })
  await createFlag(ctx, { name: 'killed', enabled: false, default_value: true, targeting_rules: { user_ids: ['alice'] } })
  await createFlag(ctx, { name: 'theme.color-v2', type: 'string', variants: { blue: '#00f', green: '#0f0' }, default_variant: 'blue', off_variant: 'green' })
  await createFlag(ctx, { name: 'max_items', type: 'number', default_value: 25 })
  await createFlag(ctx, { name: 'ratio', type: 'number', default_value: 0.25 })
  await createFlag(ctx, { name: 'layout', type: 'json', default_value: { columns: 3, sidebar: { side: 'left' }, tags: ['a'] } })
  await createFlag(ctx, { name: 'sizes', type: 'json', default_value: [1, 2, 3] })
  await createFlag(ctx, { name: 'json_off', type: 'json', enabled: false, default_value: { on: true } })

  t.test('STATIC: no targeting, served to everyone, with the flag metadata', async (t) => {
    const body = await success(t, ctx, 'static_flag', { targetingKey: 'anyone', country: 'DE' })
    t.strictSame(body, { key: 'static_flag', value: true, reason: 'STATIC', variant: 'on', metadata: { owner: 'checkout-team', ticket: 42, critical: true } })
    // An empty context is fine: nothing here needs a targeting key.
    t.strictSame((await success(t, ctx, 'static_flag', {})).value, true)
  })

  t.test('TARGETING_MATCH: targetingKey is the user_id; other attributes pass through (customer_id)', async (t) => {
    t.strictSame(await success(t, ctx, 'beta', { targetingKey: 'alice' }),
      { key: 'beta', value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: {} })
    t.strictSame(await success(t, ctx, 'beta', { targetingKey: 'zed', customer_id: 'acme', plan: 'pro', seats: 12, trial: false }),
      { key: 'beta', value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: {} })
    // Rules see every other attribute with its JSON type.
    t.strictSame(await success(t, ctx, 'eu_pro', { targetingKey: 'zed', country: 'DE', seats: 12, trial: false }),
      { key: 'eu_pro', value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: {} })
    t.equal((await success(t, ctx, 'eu_pro', { targetingKey: 'zed', country: 'DE', seats: 9, trial: false })).reason, 'DEFAULT')
    t.equal((await success(t, ctx, 'eu_pro', { targetingKey: 'zed', country: 'DE', seats: 12, trial: null })).reason, 'DEFAULT', 'null is unset')
    // user_id itself works too, and a null attribute is simply unset.
    t.equal((await success(t, ctx, 'beta', { user_id: 'alice', customer_id: null })).reason, 'TARGETING_MATCH')
  })

  t.test('DEFAULT: the fallthrough, off at 0 % and on at 100 %', async (t) => {
    t.strictSame(await success(t, ctx, 'beta', { targetingKey: 'bob' }),
      { key: 'beta', value: false, reason: 'DEFAULT', variant: 'off', metadata: {} })
    t.strictSame(await success(t, ctx, 'beta_default_on', { targetingKey: 'bob' }),
      { key: 'beta_default_on', value: true, reason: 'DEFAULT', variant: 'on', metadata: {} })
    // No targeting key for a split: the off variant, DEFAULT (not TARGETING_KEY_MISSING).
    t.strictSame(await success(t, ctx, 'half', {}), { key: 'half', value: false, reason: 'DEFAULT', variant: 'off', metadata: {} })
  })

  t.test('SPLIT: bucketed by targetingKey, stable per user', async (t) => {
    const inside = await splitUser(ctx, 'half', true)
    const outside = await splitUser(ctx, 'half', false)
    t.strictSame(await success(t, ctx, 'half', { targetingKey: inside }), { key: 'half', value: true, reason: 'SPLIT', variant: 'on', metadata: {} })
    t.strictSame(await success(t, ctx, 'half', { targetingKey: outside }), { key: 'half', value: false, reason: 'SPLIT', variant: 'off', metadata: {} })
    t.equal((await success(t, ctx, 'half', { targetingKey: inside })).value, true, 'same user, same bucket')
  })

  t.test('DISABLED: the kill switch beats targeting', async (t) => {
    t.strictSame(await success(t, ctx, 'killed', { targetingKey: 'alice' }),
      { key: 'killed', value: false, reason: 'DISABLED', variant: 'off', metadata: {} })
  })

  t.test('values of every type: boolean, string, number, json', async (t) => {
    t.strictSame(await success(t, ctx, 'theme.color-v2', { targetingKey: 'u' }),
      { key: 'theme.color-v2', value: '#00f', reason: 'STATIC', variant: 'blue', metadata: {} })
    t.strictSame((await success(t, ctx, 'max_items', {})).value, 25)
    t.strictSame((await success(t, ctx, 'ratio', {})).value, 0.25)
    t.strictSame((await success(t, ctx, 'layout', {})).value, { columns: 3, sidebar: { side: 'left' }, tags: ['a'] })
    t.strictSame((await success(t, ctx, 'sizes', {})).value, [1, 2, 3])
    // A json flag's default off value is null: still sent as `value` (never left out).
    const off = await success(t, ctx, 'json_off', {})
    t.ok('value' in off)
    t.strictSame(off, { key: 'json_off', value: null, reason: 'DISABLED', variant: 'off', metadata: {} })
  })

  t.test('404 FLAG_NOT_FOUND with the key', async (t) => {
    for (const key of ['nope', 'no.such-flag_1', '%20spaced%20', 'a'.repeat(200)]) {
      const res = await evaluate(ctx, key, { targetingKey: 'alice' })
      t.equal(res.statusCode, 404, res.body)
      const body = conforms(t, res, 'flagNotFound')
      t.equal(body.key, decodeURIComponent(key))
      t.equal(body.errorCode, 'FLAG_NOT_FOUND')
      t.type(body.errorDetails, 'string')
    }
  })

  t.test('400: OFREP bodies with key and errorCode, never problem+json', async (t) => {
    const cases: Array<[string, () => Promise<LightMyRequestResponse>, string, RegExp]> = [
      ['invalid JSON', () => raw(ctx, FLAG('beta'), '{"context": {'), 'PARSE_ERROR', /JSON/],
      ['an empty JSON body', () => raw(ctx, FLAG('beta'), ''), 'PARSE_ERROR', /empty/i],
      ['text/plain', () => raw(ctx, FLAG('beta'), 'context', 'text/plain'), 'PARSE_ERROR', /media type/i],
      ['a body that is not an object', () => raw(ctx, FLAG('beta'), '[{"context": {}}]'), 'INVALID_CONTEXT', /JSON object/],
      ['a null body', () => raw(ctx, FLAG('beta'), 'null'), 'INVALID_CONTEXT', /JSON object/],
      ['no context', () => raw(ctx, FLAG('beta'), '{}'), 'INVALID_CONTEXT', /context is required/],
      ['a context that is a string', () => evaluate(ctx, 'beta', 'alice'), 'INVALID_CONTEXT', /context must be a JSON object/],
      ['a context that is an array', () => evaluate(ctx, 'beta', ['alice']), 'INVALID_CONTEXT', /context must be a JSON object/],
      ['a context nested too deeply', () => evaluate(ctx, 'beta', { targetingKey: 'alice', a: { b: { c: { d: { e: { f: { g: { h: { i: { j: 1 } } } } } } } } } }), 'INVALID_CONTEXT', /context\.a\.b\.c\.d\.e\.f\.g\.h\.i: nests deeper than 8 levels/],
      ['a bad attribute name', () => evaluate(ctx, 'beta', { 'not a name': 1 }), 'INVALID_CONTEXT', /not a valid attribute name/],
      ['a too long attribute', () => evaluate(ctx, 'beta', { targetingKey: 'x'.repeat(2000) }), 'INVALID_CONTEXT', /context\.targetingKey/]
    ]
    for (const [what, send, errorCode, details] of cases) {
      const res = await send()
      t.equal(res.statusCode, 400, `${what}: ${res.body}`)
      const body = conforms(t, res, 'evaluationFailure')
      t.match(body, { key: 'beta', errorCode, errorDetails: details }, what)
    }
    // Even for a flag that does not exist, a bad body is a 400 (the body is read first).
    const res = await raw(ctx, FLAG('nope'), 'nope')
    t.equal(res.statusCode, 400)
    t.match(conforms(t, res, 'evaluationFailure'), { key: 'nope', errorCode: 'PARSE_ERROR' })
  })

  t.test('a body over the size limit is a 400 PARSE_ERROR', async (t) => {
    const res = await raw(ctx, FLAG('beta'), JSON.stringify({ context: { targetingKey: 'a', pad: 'x'.repeat(300 * 1024) } }))
    t.equal(res.statusCode, 400)
    t.match(conforms(t, res, 'evaluationFailure'), { key: 'beta', errorCode: 'PARSE_ERROR', errorDetails: /too large/ })
  })
})

t.test('POST /ofrep/v1/evaluate/flags (bulk)', async (t) => {
  const ctx = await build(t)

  t.test('no flags at all: an empty list', async (t) => {
    const res = await bulk(ctx, {})
    t.equal(res.statusCode, 200)
    t.strictSame(conforms(t, res, 'bulkEvaluationSuccess'), { flags: [] })
    t.match(res.headers.etag, /^"[A-Za-z0-9_-]+"$/)
  })

  await createFlag(ctx, { name: 'zeta', type: 'string', default_value: 'z', metadata: { owner: 'web' } })
  await createFlag(ctx, { name: 'beta', targeting_rules: { user_ids: ['alice'] } })
  await createFlag(ctx, { name: 'killed', enabled: false })
  await createFlag(ctx, { name: '10', type: 'number', default_value: 10 })
  await createFlag(ctx, { name: 'layout', type: 'json', default_value: { columns: 3 } })

  t.test('every flag for the context, ordered by key', async (t) => {
    const res = await bulk(ctx, { targetingKey: 'alice', country: 'DE' })
    t.equal(res.statusCode, 200)
    t.strictSame(conforms(t, res, 'bulkEvaluationSuccess'), {
      flags: [
        { key: '10', value: 10, reason: 'STATIC', variant: 'on', metadata: {} },
        { key: 'beta', value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: {} },
        { key: 'killed', value: false, reason: 'DISABLED', variant: 'off', metadata: {} },
        { key: 'layout', value: { columns: 3 }, reason: 'STATIC', variant: 'on', metadata: {} },
        { key: 'zeta', value: 'z', reason: 'STATIC', variant: 'on', metadata: { owner: 'web' } }
      ]
    })
    const bob = await bulk(ctx, { targetingKey: 'bob' })
    t.match(conforms(t, bob, 'bulkEvaluationSuccess').flags[1], { key: 'beta', value: false, reason: 'DEFAULT' })
  })

  t.test('400: bulkEvaluationFailure bodies', async (t) => {
    const cases: Array<[string, () => Promise<LightMyRequestResponse>, string, RegExp]> = [
      ['invalid JSON', () => raw(ctx, BULK, '{"context"'), 'PARSE_ERROR', /JSON/],
      ['a body that is not an object', () => raw(ctx, BULK, '"alice"'), 'INVALID_CONTEXT', /JSON object/],
      ['no context', () => raw(ctx, BULK, '{"flags": ["beta"]}'), 'INVALID_CONTEXT', /context is required/],
      ['a context that is not an object', () => bulk(ctx, 42), 'INVALID_CONTEXT', /context must be a JSON object/],
      ['a context over the attribute limit', () => bulk(ctx, { targetingKey: 'alice', account: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) }), 'INVALID_CONTEXT', /more than 64 attributes/]
    ]
    for (const [what, send, errorCode, details] of cases) {
      const res = await send()
      t.equal(res.statusCode, 400, `${what}: ${res.body}`)
      t.match(conforms(t, res, 'bulkEvaluationFailure'), { errorCode, errorDetails: details }, what)
      t.notOk(res.headers.etag, 'no ETag on an error')
    }
  })
})

t.test('bulk ETag and If-None-Match', async (t) => {
  const ctx = await build(t)
  await createFlag(ctx, { name: 'enterprise', targeting_rules: { customer_ids: ['acme'] } })
  await createFlag(ctx, { name: 'banner', type: 'string', default_value: 'hello' })

  const first = await bulk(ctx, { targetingKey: 'bob' })
  const etag = first.headers.etag as string
  t.match(etag, /^"[A-Za-z0-9_-]{43}"$/, 'a strong ETag')

  t.test('the same result has the same ETag; If-None-Match → 304 with no body', async (t) => {
    t.equal((await bulk(ctx, { targetingKey: 'bob' })).headers.etag, etag)
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*', etag.slice(1, -1)]) {
      const res = await bulk(ctx, { targetingKey: 'bob' }, { 'if-none-match': ifNoneMatch })
      t.equal(res.statusCode, 304, `If-None-Match: ${ifNoneMatch}`)
      t.equal(res.body, '')
      t.equal(res.headers.etag, etag, 'a 304 repeats the ETag')
      t.notOk(res.headers['content-type'])
    }
    const stale = await bulk(ctx, { targetingKey: 'bob' }, { 'if-none-match': '"something-else"' })
    t.equal(stale.statusCode, 200)
    conforms(t, stale, 'bulkEvaluationSuccess')
  })

  t.test('context: a different result is a different ETag; the same result is the same ETag', async (t) => {
    // What the web provider does: it re-sends the last ETag when attributes other than targetingKey change.
    const acme = await bulk(ctx, { targetingKey: 'bob', customer_id: 'acme' }, { 'if-none-match': etag })
    t.equal(acme.statusCode, 200, 'customer_id changes what enterprise serves')
    t.not(acme.headers.etag, etag)
    t.match(conforms(t, acme, 'bulkEvaluationSuccess').flags[1], { key: 'enterprise', value: true, reason: 'TARGETING_MATCH' })
    const irrelevant = await bulk(ctx, { targetingKey: 'bob', plan: 'free' }, { 'if-none-match': etag })
    t.equal(irrelevant.statusCode, 304, 'an attribute no flag uses changes nothing')
    const anotherUser = await bulk(ctx, { targetingKey: 'carol' }, { 'if-none-match': etag })
    t.equal(anotherUser.statusCode, 304, 'the ETag is over the result, not over who asked')
  })

  t.test('a flag change is a new ETag; a change that serves the same is not', async (t) => {
    const described = await ctx.write({ method: 'PUT', url: '/flags/banner', payload: { description: 'top of the page' } })
    t.equal(described.statusCode, 200)
    t.equal((await bulk(ctx, { targetingKey: 'bob' }, { 'if-none-match': etag })).statusCode, 304, 'a description is not served')

    const changed = await ctx.write({ method: 'PUT', url: '/flags/banner', payload: { default_value: 'goodbye' } })
    t.equal(changed.statusCode, 200)
    const res = await bulk(ctx, { targetingKey: 'bob' }, { 'if-none-match': etag })
    t.equal(res.statusCode, 200)
    t.not(res.headers.etag, etag)
    t.match(conforms(t, res, 'bulkEvaluationSuccess').flags[0], { key: 'banner', value: 'goodbye' })

    await ctx.write({ method: 'PUT', url: '/flags/banner', payload: { metadata: { owner: 'web' } } })
    const withMetadata = await bulk(ctx, { targetingKey: 'bob' }, { 'if-none-match': res.headers.etag as string })
    t.equal(withMetadata.statusCode, 200, 'metadata is part of the result')

    const created = await createFlag(ctx, { name: 'new_flag' })
    t.ok(created)
    const withNew = await bulk(ctx, { targetingKey: 'bob' }, { 'if-none-match': withMetadata.headers.etag as string })
    t.equal(withNew.statusCode, 200, 'a new flag changes the result')
    t.equal(conforms(t, withNew, 'bulkEvaluationSuccess').flags.length, 3)
  })

  t.test('the same flags give the same ETag on another instance, whatever order they were written in', async (t) => {
    const a = await build(t)
    const b = await build(t)
    for (const name of ['one', 'two', 'three']) await createFlag(a, { name })
    for (const name of ['three', 'one', 'two']) await createFlag(b, { name })
    t.equal((await bulk(a, { targetingKey: 'x' })).headers.etag, (await bulk(b, { targetingKey: 'x' })).headers.etag)
  })
})

t.test('500: an unexpected failure is GENERAL, without internals', async (t) => {
  // Fault injection: no input reaches this path, so the service is made to throw to prove nothing leaks.
  const ctx = await build(t)
  const service = ctx.container.services.flags
  const { evaluate: realEvaluate, answerAll: realAnswerAll } = service
  t.teardown(() => { service.evaluate = realEvaluate; service.answerAll = realAnswerAll })
  service.evaluate = () => { throw new Error('snapshot exploded at /srv/secret/path') }
  service.answerAll = () => { throw new TypeError('cannot read properties of undefined') }

  const one = await evaluate(ctx, 'anything', { targetingKey: 'alice' })
  t.equal(one.statusCode, 500)
  t.strictSame(conforms(t, one, 'generalErrorResponse'), { key: 'anything', errorCode: 'GENERAL', errorDetails: 'An unexpected error occurred' })
  const all = await bulk(ctx, { targetingKey: 'alice' })
  t.equal(all.statusCode, 500)
  t.strictSame(conforms(t, all, 'generalErrorResponse'), { errorCode: 'GENERAL', errorDetails: 'An unexpected error occurred' })
  t.notMatch(one.body + all.body, /secret|undefined|stack/)
})

t.test('auth: open by default, a read key under AUTH_READS=true', async (t) => {
  t.test('AUTH_READS unset: no key needed', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'f' })
    t.equal((await evaluate(ctx, 'f', {})).statusCode, 200)
    t.equal((await bulk(ctx, {})).statusCode, 200)
  })

  t.test('AUTH_READS=true', async (t) => {
    const ctx = await build(t, { AUTH_READS: 'true' })
    await createFlag(ctx, { name: 'f' })
    for (const [what, send] of [
      ['one flag', (headers: Record<string, string>) => evaluate(ctx, 'f', {}, headers)],
      ['bulk', (headers: Record<string, string>) => bulk(ctx, {}, headers)]
    ] as const) {
      const wrong: Array<Record<string, string>> = [{}, { 'x-api-key': 'not-a-key-0123456789' }, { authorization: 'Bearer nope' }]
      for (const headers of wrong) {
        const res = await send(headers)
        // OFREP defines no 401 body; it stays the API's problem+json, with the scheme named.
        t.equal(res.statusCode, 401, `${what} ${JSON.stringify(headers)}`)
        t.match(res.headers['content-type'], /^application\/problem\+json/)
        t.equal(res.json().code, 'FLAGPOST_ERR_UNAUTHORIZED')
        t.equal(res.headers['www-authenticate'], 'Bearer realm="flagpost"')
      }
      const right: Array<Record<string, string>> = [{ 'x-api-key': READ_KEY }, { authorization: `Bearer ${READ_KEY}` }, { 'x-api-key': WRITE_KEY }]
      for (const headers of right) {
        const res = await send(headers)
        t.equal(res.statusCode, 200, `${what} with a key: ${res.body}`)
        conforms(t, res, what === 'bulk' ? 'bulkEvaluationSuccess' : 'serverEvaluationSuccess')
      }
    }
    // An unknown flag with a valid key is still the OFREP 404; without a key, 401 comes first.
    t.equal((await evaluate(ctx, 'nope', {}, { 'x-api-key': READ_KEY })).statusCode, 404)
    t.equal((await evaluate(ctx, 'nope', {})).statusCode, 401)
  })
})

t.test('rate limiting: RATE_LIMIT_PER_MINUTE per client IP over every evaluation route', async (t) => {
  t.test('off by default', async (t) => {
    const ctx = await build(t)
    await createFlag(ctx, { name: 'f' })
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) statuses.push((await evaluate(ctx, 'f', {})).statusCode)
    t.strictSame(statuses, Array(10).fill(200), 'ten evaluations in a row, none limited')
    t.notOk((await evaluate(ctx, 'f', {})).headers['retry-after'])
  })

  t.test('RATE_LIMIT_PER_MINUTE=3', async (t) => {
    const ctx = await build(t, { RATE_LIMIT_PER_MINUTE: '3' })
    await createFlag(ctx, { name: 'f' })
    t.equal((await evaluate(ctx, 'f', {})).statusCode, 200)
    t.equal((await bulk(ctx, {})).statusCode, 200)
    t.equal((await ctx.app.inject({ url: '/evaluate/f' })).statusCode, 200)

    for (const res of [await evaluate(ctx, 'f', {}), await bulk(ctx, {})]) {
      t.equal(res.statusCode, 429, res.body)
      const seconds = Number(res.headers['retry-after'])
      t.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After in seconds: ${String(res.headers['retry-after'])}`)
      t.match(conforms(t, res, 'generalErrorResponse'), { errorDetails: /Rate limit exceeded/ })
    }
    // The original evaluation routes share the budget and answer problem+json.
    for (const res of [await ctx.app.inject({ url: '/evaluate/f' }), await ctx.app.inject({ method: 'POST', url: '/evaluate', payload: {} })]) {
      t.equal(res.statusCode, 429)
      t.match(res.headers['content-type'], /^application\/problem\+json/)
      t.match(res.json(), { status: 429, code: 'FLAGPOST_ERR_RATE_LIMITED', title: 'Too Many Requests' })
      t.ok(Number(res.headers['retry-after']) >= 1)
    }
    // Other routes are not limited; another client has its own budget.
    t.equal((await ctx.app.inject({ url: '/flags/f' })).statusCode, 200)
    t.equal((await ctx.app.inject({ url: '/healthz' })).statusCode, 200)
    const other = await ctx.app.inject({ method: 'POST', url: FLAG('f'), remoteAddress: '10.0.0.2', payload: { context: {} } })
    t.equal(other.statusCode, 200)
  })
})

t.test('the OpenAPI document describes both OFREP operations as the spec does', async (t) => {
  const ctx = await build(t)
  const doc = (await ctx.app.inject({ url: '/openapi.json' })).json() as Json
  const result = await new Validator().validate(structuredClone(doc))
  t.equal(result.valid, true, JSON.stringify(result.errors))

  const single = doc.paths['/ofrep/v1/evaluate/flags/{key}']?.post
  const many = doc.paths['/ofrep/v1/evaluate/flags']?.post
  t.match(single, { operationId: 'ofrepEvaluateFlag', tags: ['ofrep'], security: [{}, { apiKey: [] }, { bearer: [] }] })
  t.match(many, { operationId: 'ofrepEvaluateFlagsBulk', tags: ['ofrep'], security: [{}, { apiKey: [] }, { bearer: [] }] })
  t.ok(doc.tags.some((tag: Json) => tag.name === 'ofrep'), 'the ofrep tag is declared')

  const schemaOf = (op: Json, status: string): unknown => op.responses[status]?.content?.['application/json']?.schema?.$ref
  t.equal(single.requestBody.content['application/json'].schema.$ref, '#/components/schemas/OfrepEvaluationRequest')
  t.equal(many.requestBody.content['application/json'].schema.$ref, '#/components/schemas/OfrepBulkEvaluationRequest')
  t.equal(schemaOf(single, '200'), '#/components/schemas/OfrepEvaluationSuccess')
  t.equal(schemaOf(single, '400'), '#/components/schemas/OfrepEvaluationFailure')
  t.equal(schemaOf(single, '404'), '#/components/schemas/OfrepFlagNotFound')
  t.equal(schemaOf(many, '200'), '#/components/schemas/OfrepBulkEvaluationSuccess')
  t.equal(schemaOf(many, '400'), '#/components/schemas/OfrepBulkEvaluationFailure')
  t.equal(schemaOf(many, '429'), '#/components/schemas/OfrepGeneralError')
  t.ok(many.responses['200'].headers?.etag, 'the bulk 200 documents its ETag')
  t.notOk(many.responses['304'].content, 'a 304 has no body')
  t.ok(single.responses['429'].headers?.['retry-after'] && many.responses['429'].headers?.['retry-after'], '429 documents Retry-After')
  t.ok(many.parameters.some((p: Json) => p.in === 'header' && p.name === 'if-none-match'), 'If-None-Match is documented')
  for (const name of ['OfrepContext', 'OfrepEvaluationSuccess', 'OfrepEvaluationFailure', 'OfrepFlagNotFound', 'OfrepBulkEvaluationSuccess',
    'OfrepBulkEvaluationFailure', 'OfrepGeneralError', 'OfrepMetadata']) {
    t.ok(Object.hasOwn(doc.components.schemas, name), `components.schemas.${name}`)
  }

  if (spec === null) return
  t.test('every status the OFREP spec lists is declared', async (t) => {
    const ofrep = parse(readFileSync(SPEC, 'utf8')) as Json
    for (const [path, op] of [['/ofrep/v1/evaluate/flags/{key}', single], ['/ofrep/v1/evaluate/flags', many]] as const) {
      const expected = Object.keys(ofrep.paths[path].post.responses).sort()
      t.strictSame(Object.keys(op.responses).sort(), expected, path)
    }
  })
})

/** The bulk plan of these flags (ordered by name, as a snapshot lists them) and each flag's entry for `context`. */
function answered (definitions: FlagDefinition[], context: EvaluationContext): { plan: BulkPlan, chosen: number[] } {
  const plan = bulkPlanOf(definitions.map((d) => compileFlag(d)))
  return { plan, chosen: choose(plan, context, 0) }
}

t.test('ofrepBulkAnswer closed with a tail: the same entries and ETag, and closed again for another tail', async (t) => {
  const { plan, chosen } = answered([
    flagDefinition('a'),
    flagDefinition('b', { type: 'string', variants: { x: 'x', y: 'y' }, default_variant: 'x', off_variant: 'y', version: 2, metadata: { team: 'é' }, targeting_rules: targeting({ percentage: 0, rollout: { x: 50, y: 50 } }) })
  ], { user_id: 'u1' })
  const bare = ofrepBulkAnswer(plan, chosen)
  const closed = ofrepBulkAnswer(plan, chosen, bulkTail(',"eventStreams":[]}'))
  t.strictSame(JSON.parse(`${bare.body.toString()}}`).flags.map((f: { key: string, metadata: unknown }) => [f.key, f.metadata]), [['a', {}], ['b', { team: 'é' }]], 'both flags, in order')
  t.equal(closed.body.toString(), `${bare.body.toString()},"eventStreams":[]}`, 'the tail follows the flags')
  t.equal(closed.etag, bare.etag, 'the tail is not part of the ETag')
  t.equal(closed.flagsBytes, bare.body.length, 'flagsBytes ends at the flags')
  const made = closed.body
  t.equal(ofrepBulkBody(closed, bulkTail(',"eventStreams":[]}')), made, 'the same tail: the body as made, not copied')
  t.same(JSON.parse(ofrepBulkBody(closed, bulkTail(',"eventStreams":[{"type":"sse"}]}')).toString()), { ...JSON.parse(made.toString()), eventStreams: [{ type: 'sse' }] }, 'another tail: closed again')
})

t.test('ofrepBulkAnswer: the ETag is SHA-256 of the first 8 bytes of each entry\'s own SHA-256, in order', async (t) => {
  // The derivation is pinned (not only "the same result, the same tag"): instances of two versions behind
  // one load balancer must still agree, so a 304 from one answers the other's tag.
  const { plan, chosen } = answered(Array.from({ length: 8 }, (_, i) => flagDefinition(`f${i}`, { version: i, metadata: { i }, targeting_rules: targeting({ percentage: 50 }) })), { user_id: 'u1' })
  const { body, etag } = ofrepBulkAnswer(plan, chosen)
  const flags = (JSON.parse(`${body.toString()}}`) as { flags: Array<{ reason: string }> }).flags
  t.equal(flags.length, 8)
  t.ok(flags.every((entry) => entry.reason === 'SPLIT'), 'every flag evaluated')
  const heads = flags.map((entry) => createHash('sha256').update(JSON.stringify(entry)).digest().subarray(0, 8))
  t.ok(heads.some((head) => head.readUInt32LE(0) >= 2 ** 31 || head.readUInt32LE(4) >= 2 ** 31), 'a digest word with its top bit set is among them')
  t.equal(etag, `"${createHash('sha256').update(Buffer.concat(heads)).digest('base64url')}"`)
})

t.test('ofrepBulkAnswer: a flag that cannot be served stays inside flags with its key and errorCode', async (t) => {
  // A row an older version wrote (metadata holding null) cannot be served; bulk evaluation reports it in place.
  const { plan, chosen } = answered([
    flagDefinition('beta', { metadata: { owner: 'web' }, targeting_rules: targeting({ user_ids: ['u1'], percentage: 0 }) }),
    flagDefinition('broken', { metadata: { x: null } as unknown as FlagDefinition['metadata'] })
  ], { user_id: 'u1' })
  const { body } = ofrepBulkAnswer(plan, chosen)
  t.strictSame(JSON.parse(`${body.toString()}}`).flags, [
    { key: 'beta', value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: { owner: 'web' } },
    { key: 'broken', errorCode: 'GENERAL', errorDetails: new FlagUnservableError('broken').message }
  ])
})
