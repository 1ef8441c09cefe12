import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { createClient } from '@hey-api/openapi-ts'
import { generate as orval } from 'orval'
import { build, WRITE_KEY } from './helper.js'
import { documentOf } from './openapi-support.js'

/**
 * Clients generated from the served document by two generators the project does not ship (issue 12)
 * compile under `tsc --strict`: @hey-api/openapi-ts and orval 7, both as fetch clients (their runtime
 * is generated beside them: no dependency to install). Their base URL is the document's `servers`
 * (`/`, the host that served it), never the document's own file name, and every path is root-relative.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const run = promisify(execFile)

/** Every .ts file under a folder. */
const tsFiles = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f))

/** tsc --strict --noEmit over a generated client; the compiler's output when it fails. */
async function compile (dir: string): Promise<string> {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      types: [],
      skipLibCheck: false,
      isolatedModules: true
    },
    include: ['**/*.ts']
  }))
  try {
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: dir })
    return ''
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string, stderr?: string }
    return `${stdout ?? ''}${stderr ?? ''}` || String(err)
  }
}

t.test('hey-api and orval generate clients that compile under tsc --strict', async (t) => {
  const ctx = await build(t)
  const doc = await documentOf(ctx.app)
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-generators-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const input = join(dir, 'openapi.json')
  writeFileSync(input, JSON.stringify(doc, null, 2))

  await Promise.all([
    t.test('@hey-api/openapi-ts (fetch client)', async (t) => {
      const out = join(dir, 'hey-api')
      await createClient({ input, output: out, plugins: ['@hey-api/client-fetch'], logs: { level: 'silent' } })
      t.ok(tsFiles(out).length > 3, 'generated')
      t.equal(await compile(out), '', 'compiles under --strict')

      const types = readFileSync(join(out, 'types.gen.ts'), 'utf8')
      const baseUrl = /export type ClientOptions = \{\s*baseUrl: ([^;]+);/.exec(types)?.[1]
      t.ok(baseUrl !== undefined, `ClientOptions.baseUrl: ${baseUrl}`)
      t.notMatch(baseUrl, /\.json|openapi/, 'the base URL is not the document\'s file')
      t.notMatch(readFileSync(join(out, 'client.gen.ts'), 'utf8'), /createConfig<[^>]*>\(\{[^}]*baseUrl/, 'no made-up default base URL')
      // Named schemas come out as their own types.
      for (const name of ['Flag', 'FlagCreate', 'TargetingRulesInput', 'Rule', 'RuleServe', 'Problem', 'NextCursor']) {
        t.match(types, new RegExp(`export type ${name} = `), `type ${name}`)
      }

      // The generated SDK works against a live server once told where it is.
      await ctx.app.listen({ port: 0, host: '127.0.0.1' })
      const address = ctx.app.server.address()
      if (address === null || typeof address === 'string') throw new Error('no port')
      writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }))
      const sdk = await import(pathToFileURL(join(out, 'index.ts')).href) as Record<string, (o: object) => Promise<{ data?: any, error?: any, response: Response }>>
      const { client } = await import(pathToFileURL(join(out, 'client.gen.ts')).href) as { client: { setConfig (c: object): void } }
      client.setConfig({ baseUrl: `http://127.0.0.1:${address.port}`, headers: { 'x-api-key': WRITE_KEY } })
      const created = await sdk.createFlag({ body: { name: 'hey_api_flag', type: 'boolean' } })
      t.equal(created.response.status, 201)
      t.match(created.data, { name: 'hey_api_flag', version: 1 })
      const missing = await sdk.getFlag({ path: { name: 'no_such_flag' } })
      t.match(missing.error, { status: 404, code: 'FLAGPOST_ERR_FLAG_NOT_FOUND' }, 'errors come back as Problem bodies')
    }),

    t.test('orval 7 (fetch client)', async (t) => {
      const out = join(dir, 'orval')
      await orval({
        input: { target: input },
        output: { target: join(out, 'flagpost.ts'), schemas: join(out, 'model'), client: 'fetch', mode: 'split', baseUrl: { getBaseUrlFromSpecification: true } }
      }, dir)
      t.ok(tsFiles(out).length > 3, 'generated')
      t.equal(await compile(out), '', 'compiles under --strict')

      const code = readFileSync(join(out, 'flagpost.ts'), 'utf8')
      const urls = [...code.matchAll(/return `([^`]*)`/g)].map((m) => m[1]).filter((u) => !u.includes('?'))
      t.ok(urls.length >= 20, `${urls.length} URL builders`)
      for (const url of urls) t.match(url, /^\/[a-z]/, `root-relative path: ${url}`)
      t.ok(urls.includes('/flags'), 'GET /flags is /flags')
      t.notOk(code.includes('openapi.json'), 'the document\'s file name is nowhere in the client')
      // No model is named after the path that leads to it (FlagCreateTargetingRulesAnyOfUserIdsAnyOfItem…):
      // every union and nested object a client handles is a named component.
      const named = new Set(Object.keys((doc as { components: { schemas: object } }).components.schemas).map((n) => n[0].toLowerCase() + n.slice(1)))
      const models = readdirSync(join(out, 'model')).map((f) => f.replace(/\.ts$/, ''))
      const madeUp = models.filter((m) => !named.has(m) && /AnyOf|OneOf|AllOf|Item$/.test(m))
      t.strictSame(madeUp, [], 'no model is named after its path')
    })
  ])
})
