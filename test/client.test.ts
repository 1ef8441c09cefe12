import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { driftedFiles, generateClientSources, OPENAPI_PATH } from '../scripts/client-codegen.js'
import { createFlagpostClient, type FlagpostClient, type Problem } from '../src/client/index.js'
import { build, READ_KEY, WRITE_KEY } from './helper.js'
import { untraced } from './support/process.js'

/** A listening server on a free port (closed with the test) and its base URL. */
async function serve (t: Test, env: Record<string, string> = {}): Promise<string> {
  const ctx = await build(t, env)
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const address = ctx.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return `http://127.0.0.1:${address.port}`
}

/** Asserts a typed problem body; the parameter type is the generated `Problem` schema. */
function isProblem (t: Test, error: Problem | undefined, status: number, code: string): void {
  t.ok(error !== undefined, `an error body for ${code}`)
  t.match(error, { status, code, type: /^urn:flagpost:problem:/, title: String, detail: String, instance: String })
}

t.test('the generated client against a live server', async (t) => {
  const baseUrl = await serve(t)
  const client: FlagpostClient = createFlagpostClient({ baseUrl, apiKey: WRITE_KEY })

  t.test('flags: create, get, update with If-Match, list a page at a time, rename, delete', async (t) => {
    const created = await client.POST('/flags', {
      body: { name: 'client_flag', type: 'boolean', targeting_rules: { user_ids: ['alice'] }, tags: ['web'] }
    })
    t.equal(created.response.status, 201)
    t.equal(created.response.headers.get('location'), '/flags/client_flag')
    t.match(created.data, { name: 'client_flag', version: 1, targeting_rules: { user_ids: ['alice'], percentage: 0 } })

    const got = await client.GET('/flags/{name}', { params: { path: { name: 'client_flag' } } })
    t.equal(got.response.headers.get('etag'), '"1"')
    t.equal(got.data?.default_value, true)

    const updated = await client.PUT('/flags/{name}', {
      params: { path: { name: 'client_flag' }, header: { 'if-match': '"1"' } },
      body: { targeting_rules: { percentage: 100 } }
    })
    t.match(updated.data, { version: 2, targeting_rules: { percentage: 100, user_ids: ['alice'] } }, 'merge patch')
    const stale = await client.PUT('/flags/{name}', {
      params: { path: { name: 'client_flag' }, header: { 'if-match': '"1"' } },
      body: { enabled: false }
    })
    t.equal(stale.response.status, 412)
    isProblem(t, stale.error, 412, 'FLAGPOST_ERR_VERSION_MISMATCH')

    await client.POST('/flags', { body: { name: 'client_other', type: 'string', default_value: 'x' } })
    const first = await client.GET('/flags', { params: { query: { limit: 1 } } })
    t.equal(first.data?.flags.length, 1)
    t.type(first.data?.next_cursor, 'string')
    const second = await client.GET('/flags', { params: { query: { limit: 1, cursor: first.data?.next_cursor ?? undefined } } })
    t.strictSame([first.data?.flags[0].name, second.data?.flags[0].name], ['client_flag', 'client_other'])
    t.equal(second.data?.next_cursor, null)

    const renamed = await client.POST('/flags/{name}/rename', { params: { path: { name: 'client_other' } }, body: { new_name: 'client_renamed' } })
    t.equal(renamed.data?.name, 'client_renamed')
    t.equal(renamed.data?.bucketing_seed, 'client_other', 'the bucketing seed (its first name) is kept by the rename')
    const seeded = await client.POST('/flags', { body: { name: 'client_seeded', bucketing_seed: 'shared-seed', targeting_rules: { percentage: 50 } } })
    t.equal(seeded.data?.bucketing_seed, 'shared-seed')
    await client.DELETE('/flags/{name}', { params: { path: { name: 'client_seeded' } } })
    const deleted = await client.DELETE('/flags/{name}', { params: { path: { name: 'client_renamed' } } })
    t.equal(deleted.response.status, 204)
    t.equal((await client.GET('/flags/{name}', { params: { path: { name: 'client_renamed' } } })).response.status, 404)
  })

  t.test('evaluation: one flag by query string, several by body', async (t) => {
    await client.POST('/flags', { body: { name: 'eval_flag', type: 'number', default_value: 25, targeting_rules: { customer_ids: ['acme'] } } })
    const one = await client.GET('/evaluate/{name}', { params: { path: { name: 'eval_flag' }, query: { customer_id: 'acme' } } })
    t.match(one.data, { name: 'eval_flag', value: 25, variant: 'on', reason: 'TARGETING_MATCH', rule: 'customer_ids' })
    const bulk = await client.POST('/evaluate', { body: { context: { customer_id: 'other', country: 'DE' }, flags: ['eval_flag', 'nope'] } })
    t.match(bulk.data?.results, { eval_flag: { value: 0, variant: 'off' }, nope: { error_code: 'FLAG_NOT_FOUND' } })
  })

  t.test('errors come back as typed Problem bodies', async (t) => {
    const missing = await client.GET('/flags/{name}', { params: { path: { name: 'no_such_flag' } } })
    t.equal(missing.response.status, 404)
    t.equal(missing.data, undefined)
    isProblem(t, missing.error, 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND')
    t.equal(missing.error?.instance, '/flags/no_such_flag')

    const invalid = await client.POST('/flags', { body: { name: 'bad_value', type: 'number', default_value: 'lots' } })
    t.equal(invalid.response.status, 400)
    isProblem(t, invalid.error, 400, 'FLAGPOST_ERR_VALIDATION')
    t.match(invalid.error?.errors, [{ field: 'body.default_value', message: String }])

    const anonymous = createFlagpostClient({ baseUrl })
    const refused = await anonymous.POST('/flags', { body: { name: 'anon' } })
    isProblem(t, refused.error, 401, 'FLAGPOST_ERR_UNAUTHORIZED')
    const readOnly = createFlagpostClient({ baseUrl, apiKey: READ_KEY })
    isProblem(t, (await readOnly.DELETE('/flags/{name}', { params: { path: { name: 'eval_flag' } } })).error, 403, 'FLAGPOST_ERR_FORBIDDEN')
    t.equal((await anonymous.GET('/flags/{name}', { params: { path: { name: 'eval_flag' } } })).response.status, 200, 'reads are open by default')
  })

  t.test('customers, users and overrides', async (t) => {
    await client.POST('/flags', { body: { name: 'beta', type: 'boolean', targeting_rules: { percentage: 0 } } })
    const acme = await client.POST('/customers', { body: { id: 'acme', name: 'Acme' } })
    t.equal(acme.response.status, 201)
    t.match(acme.data, { id: 'acme', name: 'Acme', created_at: String })
    t.match((await client.POST('/customers', { body: { id: 42 } })).data, { id: '42', name: null }, 'an integer id')
    isProblem(t, (await client.POST('/customers', { body: { id: 'acme' } })).error, 409, 'FLAGPOST_ERR_CUSTOMER_EXISTS')
    t.match((await client.POST('/users', { body: { id: 'alice', customer_id: 'acme' } })).data, { id: 'alice', customer_id: 'acme' })
    t.match((await client.GET('/users/{id}', { params: { path: { id: 'alice' } } })).data, { customer_id: 'acme' })
    t.strictSame((await client.GET('/customers', {})).data?.customers.map((c) => c.id), ['42', 'acme'])
    t.strictSame((await client.GET('/users', { params: { query: { customer_id: 'acme' } } })).data?.users.map((u) => u.id), ['alice'])

    const on = await client.PUT('/flags/{name}/overrides/customers/{id}', { params: { path: { name: 'beta', id: 'acme' } }, body: { enabled: true } })
    t.match(on.data, { flag: 'beta', subject: 'customer', id: 'acme', enabled: true, variant: null })
    await client.PUT('/flags/{name}/overrides/customers/{id}', { params: { path: { name: 'beta', id: '42' } }, body: { enabled: false } })
    await client.PUT('/flags/{name}/overrides/users/{id}', { params: { path: { name: 'beta', id: 'alice' } }, body: { enabled: false } })
    isProblem(t, (await client.PUT('/flags/{name}/overrides/users/{id}', {
      params: { path: { name: 'no_such_flag', id: 'alice' } }, body: { enabled: true }
    })).error, 404, 'FLAGPOST_ERR_FLAG_NOT_FOUND')

    const evaluate = async (query: { user_id?: string, customer_id?: string }): Promise<unknown> =>
      (await client.GET('/evaluate/{name}', { params: { path: { name: 'beta' }, query } })).data
    t.match(await evaluate({ customer_id: 'acme' }), { value: true, rule: 'customer_override' })
    t.match(await evaluate({ user_id: 'alice' }), { value: false, rule: 'user_override' }, "the user's switch beats the inferred customer's")

    const overrides = await client.GET('/flags/{name}/overrides', { params: { path: { name: 'beta' }, query: { subject: 'customer' } } })
    t.strictSame(overrides.data?.overrides.map((o) => [o.id, o.enabled]), [['42', false], ['acme', true]])
    const customers = async (state: 'enabled' | 'explicitly_enabled' | 'explicitly_disabled'): Promise<string[] | undefined> =>
      (await client.GET('/flags/{name}/customers', { params: { path: { name: 'beta' }, query: { state } } })).data?.customers.map((c) => c.id)
    t.strictSame(await customers('enabled'), ['acme'])
    t.strictSame(await customers('explicitly_enabled'), ['acme'])
    t.strictSame(await customers('explicitly_disabled'), ['42'])
    t.strictSame((await client.GET('/customers/{id}/flags', { params: { path: { id: 'acme' } } })).data?.flags.map((f) => f.name),
      ['beta', 'client_flag', 'eval_flag'], 'its override, the 100 % flag and the flag targeting acme by id')

    t.equal((await client.DELETE('/flags/{name}/overrides/customers/{id}', { params: { path: { name: 'beta', id: 'acme' } } })).response.status, 204)
    isProblem(t, (await client.DELETE('/flags/{name}/overrides/customers/{id}', { params: { path: { name: 'beta', id: 'acme' } } })).error,
      404, 'FLAGPOST_ERR_OVERRIDE_NOT_FOUND')
    t.strictSame(await customers('enabled'), [])
    t.equal((await client.DELETE('/users/{id}', { params: { path: { id: 'alice' } } })).response.status, 204)
    t.equal((await client.DELETE('/customers/{id}', { params: { path: { id: '42' } } })).response.status, 204)
    t.strictSame(await customers('explicitly_disabled'), [], "a removed customer's overrides are gone")
    isProblem(t, (await client.GET('/customers/{id}', { params: { path: { id: '42' } } })).error, 404, 'FLAGPOST_ERR_CUSTOMER_NOT_FOUND')
  })

  t.test('the committed document is what the server serves', async (t) => {
    const served = await (await fetch(`${baseUrl}/openapi.json`)).json()
    t.strictSame(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')), served)
  })
})

t.test('AUTH_READS=true: the client sends the key on reads', async (t) => {
  const baseUrl = await serve(t, { AUTH_READS: 'true' })
  const anonymous = await createFlagpostClient({ baseUrl }).GET('/flags', {})
  isProblem(t, anonymous.error, 401, 'FLAGPOST_ERR_UNAUTHORIZED')
  const keyed = await createFlagpostClient({ baseUrl, apiKey: READ_KEY, headers: { 'x-request-id': 'client-test' } }).GET('/flags', {})
  t.equal(keyed.response.status, 200)
  t.strictSame(keyed.data, { flags: [], next_cursor: null })
})

t.test('drift: the committed client is what generation produces now', async (t) => {
  const fresh = await generateClientSources()
  t.strictSame(await driftedFiles({}, fresh), [], 'src/client/openapi.json and schema.ts are up to date (else: npm run generate:client)')
  t.strictSame(await driftedFiles(), [], 'the same check, generating on its own')

  // The check can fail: a stale copy (a route added since, as here a path removed) is reported.
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-client-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const staleDoc = JSON.parse(fresh.openapi) as { paths: Record<string, unknown> }
  delete staleDoc.paths['/users/{id}']
  writeFileSync(join(dir, 'openapi.json'), `${JSON.stringify(staleDoc, null, 2)}\n`)
  writeFileSync(join(dir, 'schema.ts'), fresh.schema.replace('"/users/{id}"', '"/people/{id}"'))
  const paths = { openapiPath: join(dir, 'openapi.json'), schemaPath: join(dir, 'schema.ts') }
  t.strictSame(await driftedFiles(paths, fresh), [paths.openapiPath, paths.schemaPath], 'both stale files are reported')
  writeFileSync(paths.schemaPath, fresh.schema)
  t.strictSame(await driftedFiles(paths, fresh), [paths.openapiPath], 'a stale document alone is reported')
  rmSync(paths.openapiPath)
  t.strictSame(await driftedFiles(paths, fresh), [paths.openapiPath], 'a missing file is reported')
})

t.test('the README "Generated client" example runs as written against a live server', async (t) => {
  const baseUrl = await serve(t)
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Generated client')))?.[1]
  if (block === undefined) throw new Error('README has no ts block under "## Generated client"')
  // Only the port and the import differ: a file outside this package imports the build by path.
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-client-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const entry = pathToFileURL(fileURLToPath(new URL('../dist/client/index.js', import.meta.url))).href
  writeFileSync(join(dir, 'example.mjs'), block.replaceAll('http://localhost:5000', baseUrl).replaceAll("from 'flagpost/client'", `from '${entry}'`))
  const { stdout } = await promisify(execFile)(...untraced(process.execPath, [join(dir, 'example.mjs')]), { cwd: dir, env: { PATH: process.env.PATH ?? '', KEY: WRITE_KEY } })
  const shown = [...block.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim())
  t.ok(shown.length >= 3, 'the example shows its output')
  t.strictSame(stdout.trim().split('\n'), shown)
})
