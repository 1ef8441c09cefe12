import t from 'tap'
import { lazySerializers } from '../src/serialization.js'
import { createValidatorCompiler } from '../src/validation.js'

/**
 * The schema compilers the app gives Fastify build nothing while routes are registered (the cold
 * start), only on a route's first use, and then behave as when built at start-up.
 * - Response serializers (src/serialization.ts): fields outside the schema left out, shared schemas by
 *   reference, a schema shared by many routes and statuses built once.
 * - Validators (src/validation.ts): coercion of text parts, the input rule before the schema.
 */

const SHARED = { $id: 'Shared', type: 'object', properties: { code: { type: 'string' } } }
const route = (schema: unknown, url = '/x', httpStatus = '200'): { schema: unknown, method: string, url: string, httpStatus: string } =>
  ({ schema, method: 'GET', url, httpStatus })

t.test('serializes like fast-json-stringify: only the schema\'s fields, shared schemas by $ref', async (t) => {
  const compile = lazySerializers()({ Shared: SHARED }, {})
  const serialize = compile(route({ type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' }, inner: { $ref: 'Shared#' } } }))
  t.equal(serialize({ name: 'a"b', n: 2, secret: 'x', inner: { code: 'c', extra: 1 } }), '{"name":"a\\"b","n":2,"inner":{"code":"c"}}')
  t.equal(serialize({ name: 'again' }), '{"name":"again"}', 'the built serializer is kept for the next answer')
})

t.test('nothing is built until the route first answers', async (t) => {
  const compile = lazySerializers()({}, {})
  // Fastify's default compiler refuses this schema while the routes are registered.
  let serialize: ((doc: unknown) => string) | undefined
  t.doesNotThrow(() => { serialize = compile(route({ type: 'no-such-type' })) }, 'registering builds nothing')
  t.throws(() => serialize!({}), 'the first answer builds it')
})

t.test('a schema shared by routes and statuses is built once', async (t) => {
  let reads = 0
  const problem = { type: 'object', properties: { title: { type: 'string' } } }
  const counted = new Proxy(problem, { get (target, key, receiver) { reads++; return Reflect.get(target, key, receiver) } })
  const compile = lazySerializers()({}, {})
  const first = compile(route(counted, '/a', '404'))
  t.equal(reads, 0, 'not read while registering')
  t.equal(first({ title: 'Not Found', detail: 'x' }), '{"title":"Not Found"}')
  const afterFirst = reads
  t.ok(afterFirst > 0, 'read once to build it')
  const second = compile(route(counted, '/b', '409'))
  t.equal(second({ title: 'Conflict' }), '{"title":"Conflict"}')
  t.equal(reads, afterFirst, 'the second route reuses what the first built')
})

const validatorFor = (schema: object, httpPart: string): ((data: unknown) => boolean) & { errors?: Array<{ keyword: string, instancePath: string }> | null } =>
  createValidatorCompiler()({ schema, httpPart, method: 'POST', url: '/x' }) as never

t.test('a validator is compiled on its first call, not when its route is registered', async (t) => {
  let validate: ((data: unknown) => boolean) | undefined
  // Ajv refuses this schema when it compiles it.
  t.doesNotThrow(() => { validate = validatorFor({ type: 'no-such-type' }, 'body') }, 'registering compiles nothing')
  t.throws(() => validate!({}), 'the first call compiles it')
})

t.test('validators coerce text parts, never bodies, and apply the input rule first except to headers', async (t) => {
  const schema = { type: 'object', properties: { n: { type: 'integer' }, s: { type: 'string' } } }
  const query: Record<string, unknown> = { n: '10' }
  const inQuery = validatorFor(schema, 'querystring')
  t.equal(inQuery(query), true)
  t.equal(query.n, 10, 'the query string is coerced')
  const body = validatorFor(schema, 'body')
  t.equal(body({ n: '10' }), false, 'a body is not')
  t.same(body.errors?.map((e) => [e.keyword, e.instancePath]), [['type', '/n']])
  t.equal(body({ s: 'a\u0000b' }), false, 'NUL is refused by the input rule')
  t.same(body.errors?.map((e) => [e.keyword, e.instancePath]), [['storable', '/s']])
  t.equal(body({ n: 1, s: 'ok' }), true)
  t.equal(body.errors, null, 'a pass clears the last errors')
  t.equal(validatorFor(schema, 'headers')({ s: 'a\u0000b' }), true, 'headers skip the rule: the HTTP parser refuses what it guards against')
})

t.test('each Ajv instance is made when a validator of its parts first runs', async (t) => {
  const made: unknown[] = []
  const { Ajv } = await import('ajv')
  class CountedAjv extends Ajv { constructor (options: ConstructorParameters<typeof Ajv>[0]) { super(options); made.push(options?.coerceTypes) } }
  const { createValidatorCompiler: mocked } = await t.mockImport<typeof import('../src/validation.js')>('../src/validation.js', { ajv: { Ajv: CountedAjv } })
  const compile = mocked()
  const schema = { type: 'object', properties: { n: { type: 'integer' } } }
  const [body, query, params] = ['body', 'querystring', 'params'].map((httpPart) => compile({ schema, httpPart, method: 'POST', url: '/x' }) as (data: unknown) => boolean)
  t.same(made, [], 'none while routes are registered')
  t.equal(body({ n: 1 }), true)
  t.same(made, [false], 'the first body: the instance that does not coerce')
  t.equal(query({ n: '1' }), true)
  t.equal(params({ n: '2' }), true)
  t.equal(body({ n: 3 }), true)
  t.same(made, [false, 'array'], 'the first text part: the coercing one; then no more')
})
