import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { SCHEMAS } from '../src/schemas/registry.js'
import { build } from './helper.js'
import { differs, failing } from './support/cases.js'

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  security?: Array<Record<string, string[]>>
  responses?: Record<string, { description?: string, content?: Record<string, { schema?: { $ref?: string } }> }>
}
type Doc = {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>, securitySchemes: Record<string, unknown> }
}

/** Evaluation routes (POST included) take an optional key: Flagpost's own and OFREP's. */
const isEvaluation = (op: Operation): boolean => op.tags?.includes('evaluation') === true || op.tags?.includes('ofrep') === true
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])
const PROBLEM_REF = '#/components/schemas/Problem'

/** [method, path, operation] for every operation in the document. */
const operationsOf = (doc: Doc): Array<[string, string, Operation]> =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([method]) => METHODS.has(method)).map(([method, op]): [string, string, Operation] => [method, path, op]))

/** Every `$ref` anywhere in a JSON value. */
function refsIn (value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found)
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.push(v)
      else refsIn(v, found)
    }
  }
  return found
}

t.test('GET /openapi.json', async (t) => {
  const ctx = await build(t)
  const res = await ctx.app.inject({ url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as Doc
  const operations = operationsOf(doc)
  const label = (method: string, path: string): string => `${method.toUpperCase()} ${path}`

  t.test('is a valid OpenAPI 3.x document', async (t) => {
    t.match(doc.openapi, /^3\.[01]\.\d+$/)
    const result = await new Validator().validate(structuredClone(doc) as Record<string, unknown>)
    if (!result.valid) t.comment(JSON.stringify(result.errors, null, 2))
    t.equal(result.valid, true)
  })

  t.test('servers: the root of the host that served the document, and a license', async (t) => {
    // Root-relative: Swagger UI and same-origin clients call the host they loaded the document from;
    // generated clients take their base URL from the caller, never the document's file name.
    t.strictSame((doc as { servers?: Array<{ url: string }> }).servers?.map((s) => s.url), ['/'])
    t.match((doc as { info?: unknown }).info, { license: { name: 'MIT', identifier: 'MIT' } })
  })

  t.test('GET /evaluate/{name} documents arbitrary query attributes, and they are evaluated', async (t) => {
    const [, , op] = operations.find(([m, p]) => m === 'get' && p === '/evaluate/{name}')!
    const params = (op as { parameters: Array<Record<string, any>> }).parameters
    t.match(params.find((p) => p.name === 'attributes'), {
      in: 'query', style: 'form', explode: true, schema: { type: 'object', additionalProperties: { type: 'string' } }
    })
    // What the exploded object serializes to (country=DE&user.plan=pro) is what the route reads.
    await ctx.write({
      method: 'POST',
      url: '/flags',
      payload: { name: 'by_attr', targeting_rules: { rules: [{ clauses: [{ attribute: 'user.plan', operator: 'eq', values: ['pro'] }, { attribute: 'country', operator: 'eq', values: ['DE'] }], serve: { variant: 'on' } }] } }
    })
    const query = new URLSearchParams({ user_id: 'alice', country: 'DE', 'user.plan': 'pro' })
    t.match((await ctx.app.inject({ url: `/evaluate/by_attr?${query.toString()}` })).json(), { value: true, reason: 'TARGETING_MATCH' })
  })

  t.test('health probes are public: security []', async (t) => {
    const probes = operations.filter(([, , op]) => op.tags?.includes('health') === true)
    t.equal(probes.length, 2)
    for (const [method, path, op] of probes) t.strictSame(op.security, [], `${label(method, path)}: no key, whatever AUTH_READS says`)
  })

  t.test('has the operations of SPEC §3 built so far', async (t) => {
    const present = new Set(operations.map(([m, p]) => label(m, p)))
    for (const op of ['POST /flags', 'GET /flags', 'GET /flags/{name}', 'PUT /flags/{name}', 'DELETE /flags/{name}',
      'POST /flags/{name}/rename', 'GET /evaluate/{name}', 'POST /evaluate', 'GET /healthz', 'GET /readyz']) {
      t.ok(present.has(op), `${op} is documented`)
    }
    t.notOk(present.has('GET /openapi.json'), 'the document does not describe itself')
    t.notOk([...present].some((op) => op.includes('/docs')), 'Swagger UI routes are hidden')
  })

  t.test('every operation has a unique operationId, tags and a summary', async (t) => {
    const ids = operations.map(([, , op]) => op.operationId)
    const declared = new Set(((doc as unknown as { tags?: Array<{ name: string }> }).tags ?? []).map((tag) => tag.name))
    t.same(failing(operations, ([method, path, op]) => differs(label(method, path), {
      operationId: /^[a-z][A-Za-z0-9]+$/.test(String(op.operationId)),
      tags: Array.isArray(op.tags) && op.tags.length > 0,
      summary: typeof op.summary === 'string' && op.summary.length > 0,
      undeclaredTags: (op.tags ?? []).filter((tag) => !declared.has(tag))
    }, { operationId: true, tags: true, summary: true, undeclaredTags: [] })), [], `each of ${operations.length} operations: a camelCase operationId, tags declared at the top level, a summary`)
    t.equal(new Set(ids).size, ids.length, `operationIds are unique: ${ids.join(', ')}`)
  })

  t.test('every operation that takes input declares a 4xx response', async (t) => {
    // /healthz and /readyz take no input at all: nothing they could answer with a 4xx.
    const withInput = operations.filter(([, , op]) => op.tags?.includes('health') !== true)
    t.same(failing(withInput, ([method, path, op]) => {
      const codes = Object.keys(op.responses ?? {})
      return differs(`${label(method, path)} (${codes.join(', ')})`, [codes.some((c) => /^4\d\d$/.test(c)), codes.some((c) => /^2\d\d$/.test(c))], [true, true])
    }), [], `each of ${withInput.length} operations declares a 4xx and a 2xx`)
  })

  t.test('write operations require apiKey or bearer and declare 401 and 403', async (t) => {
    const writes = operations.filter(([method, , op]) => ['post', 'put', 'delete', 'patch'].includes(method) && !isEvaluation(op))
    t.ok(writes.length >= 4, `${writes.length} write operations`)
    t.same(failing(writes, ([method, path, op]) => differs(label(method, path),
      { security: op.security, declares401: op.responses?.['401'] !== undefined, declares403: op.responses?.['403'] !== undefined },
      { security: [{ apiKey: [] }, { bearer: [] }], declares401: true, declares403: true })), [], 'each requires a key (no anonymous alternative) and declares 401 and 403')
  })

  t.test('read and evaluate operations take an optional key and declare 401 (AUTH_READS)', async (t) => {
    // The API keys are never listed without an admin key, whatever AUTH_READS says.
    const reads = operations.filter(([method, , op]) => op.tags?.includes('health') !== true && op.tags?.includes('api-keys') !== true &&
      (method === 'get' || isEvaluation(op)))
    t.ok(reads.length >= 4)
    t.same(failing(reads, ([method, path, op]) => differs(label(method, path),
      { security: op.security, declares401: op.responses?.['401'] !== undefined },
      { security: [{}, { apiKey: [] }, { bearer: [] }], declares401: true })), [], `each of ${reads.length}: anonymous or a key, and 401 declared`)
    for (const [method, path, op] of operations.filter(([, , op]) => op.tags?.includes('health') === true)) {
      t.ok(op.security === undefined || JSON.stringify(op.security) === '[{}]' || JSON.stringify(op.security) === '[]', `${label(method, path)} is open`)
    }
  })

  t.test('error responses are application/problem+json referring to Problem', async (t) => {
    let checked = 0
    const failures: unknown[] = []
    for (const [method, path, op] of operations) {
      for (const [code, response] of Object.entries(op.responses ?? {})) {
        if (!/^[45]\d\d$/.test(code)) continue
        // Readiness answers 503 with its own health body: the checks are the point.
        if (path === '/readyz' && code === '503') continue
        // OFREP answers with its own error bodies (SPEC §3), checked in test/routes/ofrep.test.ts; 401/403 stay problem+json.
        if (op.tags?.includes('ofrep') === true && code !== '401' && code !== '403') continue
        const name = `${label(method, path)} ${code}`
        const wrong = differs(name,
          { media: Object.keys(response.content ?? {}), schema: response.content?.['application/problem+json']?.schema?.$ref, described: typeof response.description === 'string' && response.description.length > 0 },
          { media: ['application/problem+json'], schema: PROBLEM_REF, described: true })
        if (wrong !== undefined) failures.push(wrong)
        checked++
      }
    }
    t.ok(checked >= 30, `${checked} error responses checked`)
    t.same(failures.slice(0, 5), [], `each is application/problem+json only, refers to Problem and has a description (${failures.length} not)`)
  })

  t.test('components: the named schemas, both security schemes, every $ref resolves', async (t) => {
    const schemas = doc.components.schemas
    for (const name of ['Flag', 'FlagList', 'FlagCreate', 'FlagPatch', 'EvaluationResult', 'Problem']) {
      t.ok(Object.hasOwn(schemas, name), `components.schemas.${name}`)
    }
    t.match(schemas.Problem, { type: 'object', required: ['type', 'title', 'status', 'detail', 'code', 'instance'] })
    t.match(schemas.EvaluationResult, { type: 'object', properties: { name: {}, value: {}, variant: {}, reason: {}, type: {}, version: {} } })
    t.match(doc.components.securitySchemes, {
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      bearer: { type: 'http', scheme: 'bearer' }
    })
    const refs = refsIn(doc)
    t.ok(refs.length > 0)
    t.same([...new Set(refs)].filter((ref) => {
      const match = /^#\/components\/schemas\/([A-Za-z0-9_.-]+)$/.exec(ref)
      return !(match !== null && Object.hasOwn(schemas, match[1]))
    }), [], `every one of ${new Set(refs).size} $refs resolves to a component`)
    t.notOk(Object.keys(schemas).some((k) => /^def-\d+$/.test(k)), 'no anonymous def-N components')
  })

  t.test('request bodies of the write and bulk routes are named components', async (t) => {
    const bodyRef = (method: string, path: string): unknown =>
      (doc.paths[path]?.[method] as { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } } | undefined)
        ?.requestBody?.content?.['application/json']?.schema?.$ref
    t.equal(bodyRef('post', '/flags'), '#/components/schemas/FlagCreate')
    t.equal(bodyRef('put', '/flags/{name}'), '#/components/schemas/FlagPatch')
    t.equal(bodyRef('post', '/evaluate'), '#/components/schemas/BulkEvaluateRequest')
    const ok = (method: string, path: string, code: string): unknown =>
      doc.paths[path]?.[method]?.responses?.[code]?.content?.['application/json']?.schema?.$ref
    t.equal(ok('get', '/flags', '200'), '#/components/schemas/FlagList')
    t.equal(ok('get', '/flags/{name}', '200'), '#/components/schemas/Flag')
    t.equal(ok('get', '/evaluate/{name}', '200'), '#/components/schemas/EvaluationResult')
  })
})

t.test('GET /docs serves the Swagger UI', async (t) => {
  const ctx = await build(t)
  let res = await ctx.app.inject({ url: '/docs' })
  for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 3; hops++) {
    const location = res.headers.location
    if (typeof location !== 'string') break
    res = await ctx.app.inject({ url: new URL(location, 'http://localhost/docs/').pathname })
  }
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /<html/i)
  t.match(res.body, /swagger/i)
})

t.test('the components are the schema registry: each $id once, every one in the document, none besides', async (t) => {
  const ids = SCHEMAS.map((s) => (s as { $id?: string }).$id)
  t.strictSame(ids.filter((id, i) => typeof id !== 'string' || ids.indexOf(id) !== i), [], 'each registered schema has its own $id')
  const { app } = await build(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as Doc
  t.strictSame(Object.keys(doc.components.schemas).sort(), [...ids].sort(), 'the document\'s components are exactly the registry')
})
