import t from 'tap'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { build, WRITE_KEY } from './helper.js'
import { componentName, documentOf, operationsOf, type Doc } from './openapi-support.js'

/**
 * Every example in the OpenAPI document is valid against the schema it illustrates (issue 12):
 * schema `examples`/`example`, and parameter and media-type `example`/`examples` (Example Objects'
 * `value`) against their `schema`. Swagger UI's "Try it out" sends these, and so do mock servers.
 */

interface Found { at: string, value: unknown, schemaAt: string }

const escape = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1')

/** Every example in the document, with the JSON pointer of the schema it must satisfy. */
function examplesIn (value: unknown, at = '', found: Found[] = []): Found[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => examplesIn(v, `${at}/${i}`, found))
    return found
  }
  if (value === null || typeof value !== 'object') return found
  const node = value as Record<string, unknown>
  // A parameter, header or media type: its examples illustrate its `schema`.
  const holder = 'schema' in node && typeof node.schema === 'object'
  const schemaAt = holder ? `${at}/schema` : at
  if ('example' in node) found.push({ at: `${at}/example`, value: node.example, schemaAt })
  if (Array.isArray(node.examples)) {
    node.examples.forEach((v, i) => found.push({ at: `${at}/examples/${i}`, value: v, schemaAt }))
  } else if (holder && node.examples !== null && typeof node.examples === 'object') {
    for (const [name, example] of Object.entries(node.examples as Record<string, { value?: unknown }>)) {
      found.push({ at: `${at}/examples/${escape(name)}`, value: example.value, schemaAt })
    }
  }
  for (const [key, v] of Object.entries(node)) {
    // An Example Object's value is data, not more of the document.
    if (key === 'example' || key === 'examples' || key === 'enum' || key === 'const' || key === 'default') continue
    examplesIn(v, `${at}/${escape(key)}`, found)
  }
  return found
}

/** Each example checked against its schema: [pointer, Ajv's complaint] for those that fail. */
function invalidExamples (doc: Doc): { checked: number, invalid: Array<[string, string]> } {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema(doc as object, 'openapi.json')
  const invalid: Array<[string, string]> = []
  const found = examplesIn(doc)
  for (const { at, value, schemaAt } of found) {
    const validate = ajv.compile({ $ref: `openapi.json#${schemaAt}` })
    if (!validate(value)) invalid.push([at, ajv.errorsText(validate.errors)])
  }
  return { checked: found.length, invalid }
}

t.test('every example in the document validates against its schema', async (t) => {
  const { app } = await build(t)
  const doc = await documentOf(app)
  const { checked, invalid } = invalidExamples(doc)
  t.ok(checked >= 10, `${checked} examples checked`)
  t.strictSame(invalid, [], 'no invalid example')

  t.test('the check can fail: a wrong example is reported where it is', async (t) => {
    const bad = structuredClone(doc) as Doc & { components: { schemas: Record<string, { examples?: unknown[] }> } }
    bad.components.schemas.FlagCreate.examples = [{ name: 'has space', type: 'boolean' }]
    const param = Object.values(bad.paths['/customers/{id}'])[0].parameters?.[0] as { examples?: Record<string, { value: unknown }> }
    param.examples = { bad: { value: '../etc' } }
    const result = invalidExamples(bad)
    t.strictSame(result.invalid.map(([at]) => at).sort(), [
      '/components/schemas/FlagCreate/examples/0',
      `/paths/~1customers~1{id}/${Object.keys(bad.paths['/customers/{id}'])[0]}/parameters/0/examples/bad`
    ])
  })
})

t.test('the request-body examples are accepted by the API as they stand ("Try it out")', async (t) => {
  const ctx = await build(t)
  const doc = await documentOf(ctx.app)
  const schemas = doc.components.schemas as Record<string, { examples?: unknown[] }>
  const create = schemas.FlagCreate.examples?.[0] as { name: string } | undefined
  if (create === undefined) throw new Error('FlagCreate has no example')
  // The flag every other example's path refers to: the one POST /flags creates from its example.
  const path = (template: string): string => template.replace(/\{(name|key)\}/g, create.name).replace('{id}', 'acme').replace('{environment}', 'production')
  let sent = 0
  // createFlag first: the other operations need its flag.
  const ops = operationsOf(doc).sort(([, , a], [, , b]) => Number(b.operationId === 'createFlag') - Number(a.operationId === 'createFlag'))
  for (const [method, template, op] of ops) {
    const name = componentName(op.requestBody?.content?.['application/json']?.schema?.$ref)
    for (const example of (name === undefined ? [] : schemas[name]?.examples) ?? []) {
      // The same example under /environments/{environment}: the flag createFlag made goes first (a name is one flag in every environment).
      if (op.operationId === 'createFlagInEnvironment') await ctx.app.inject({ method: 'DELETE', url: path('/flags/{name}'), headers: { 'x-api-key': WRITE_KEY } })
      const res = await ctx.app.inject({ method: method.toUpperCase() as 'POST', url: path(template), headers: { 'x-api-key': WRITE_KEY }, payload: example as object })
      t.ok(res.statusCode >= 200 && res.statusCode < 300, `${op.operationId} with the ${name} example: ${res.statusCode} ${res.body.slice(0, 300)}`)
      sent++
    }
  }
  t.ok(sent >= 2, `${sent} request-body examples sent (FlagCreate and FlagPatch at least)`)
})
