import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib'
import t from 'tap'
import { build, isProblem } from '../helper.js'

// The admin UI's static files at /ui (SPEC §13, src/routes/ui.ts), over a stand-in build: index.html for
// every page path the app routes itself, hashed assets cached for good, index.html never, security headers
// on every answer, a clear 503 when the UI is not built, and nothing of it in the OpenAPI document.

const INDEX = '<!doctype html><title>Flagpost</title><script type="module" src="/ui/assets/app-1a2b3c.js"></script>'

async function uiBuild (t: Parameters<typeof build>[0]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flagpost-ui-'))
  t.teardown(async () => { const { rm } = await import('node:fs/promises'); await rm(dir, { recursive: true, force: true }) })
  await mkdir(join(dir, 'assets'))
  await writeFile(join(dir, 'index.html'), INDEX)
  await writeFile(join(dir, 'assets', 'app-1a2b3c.js'), 'console.log("flagpost")')
  await writeFile(join(dir, 'assets', 'app-1a2b3c.js.br'), brotliCompressSync('console.log("flagpost")'))
  return dir
}

t.test('index.html at /ui/ and at every page path; /ui redirects; assets are immutable, the page never cached', async (t) => {
  const ctx = await build(t, { UI_DIR: await uiBuild(t) })
  const root = await ctx.app.inject({ method: 'GET', url: '/ui' })
  t.equal(root.statusCode, 308)
  t.equal(root.headers.location, '/ui/')
  for (const url of ['/ui/', '/ui/flags', '/ui/flags/checkout.new_flow', '/ui/flags/ui.bool', '/ui/flags/v2.json', '/ui/flags/a%20b?env=development', '/ui/keys']) {
    const res = await ctx.app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
    t.equal(res.body, INDEX, `${url}: the app's page`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.equal(res.headers['cache-control'], 'no-cache', `${url}: revalidated, so a new build shows on the next load`)
    t.match(res.headers['content-security-policy'], /default-src 'self'.*frame-ancestors 'none'/)
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['referrer-policy'], 'no-referrer')
  }
  const asset = await ctx.app.inject({ method: 'GET', url: '/ui/assets/app-1a2b3c.js' })
  t.equal(asset.statusCode, 200)
  t.match(asset.headers['content-type'], /javascript/)
  t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.equal((await ctx.app.inject({ method: 'HEAD', url: '/ui/flags' })).statusCode, 200)
  // The build's brotli copy, to a browser that takes it; the file itself to one that does not.
  const br = await ctx.app.inject({ method: 'GET', url: '/ui/assets/app-1a2b3c.js', headers: { 'accept-encoding': 'gzip, deflate, br' } })
  t.equal(br.headers['content-encoding'], 'br')
  t.match(br.headers.vary, /accept-encoding/i)
  t.equal(brotliDecompressSync(br.rawPayload).toString(), 'console.log("flagpost")')
  const plain = await ctx.app.inject({ method: 'GET', url: '/ui/assets/app-1a2b3c.js', headers: { 'accept-encoding': 'identity' } })
  t.equal(plain.headers['content-encoding'], undefined)
  t.equal(plain.body, 'console.log("flagpost")')
})

t.test('a missing file, a traversal, another method: problem+json 4xx, never index.html or a file outside', async (t) => {
  const ctx = await build(t, { UI_DIR: await uiBuild(t) })
  isProblem(t, await ctx.app.inject({ method: 'GET', url: '/ui/assets/gone-000000.js' }), 404, 'FLAGPOST_ERR_NOT_FOUND', '/ui/assets/gone-000000.js')
  for (const url of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/assets/..%2f..%2fpackage.json']) {
    const res = await ctx.app.inject({ method: 'GET', url })
    t.not(res.statusCode, 500, url)
    t.notMatch(res.body, '"name": "flagpost"', `${url}: nothing outside the build`)
  }
  const post = await ctx.app.inject({ method: 'POST', url: '/ui/flags', payload: {} })
  t.ok(post.statusCode === 404 || post.statusCode === 405, `POST: ${post.statusCode}`)
  t.match(post.headers['content-type'], /^application\/problem\+json/)
})

t.test('an unbuilt UI is a 503 that says how to build it; the API is unaffected', async (t) => {
  const ctx = await build(t, { UI_DIR: join(tmpdir(), 'flagpost-ui-never-built') })
  for (const url of ['/ui/', '/ui/flags']) {
    const body = isProblem(t, await ctx.app.inject({ method: 'GET', url }), 503, 'FLAGPOST_ERR_UNAVAILABLE', url)
    t.match(body.detail, /npm run build/)
  }
  t.equal((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})

t.test('the UI is not part of the API document', async (t) => {
  const ctx = await build(t, { UI_DIR: await uiBuild(t) })
  const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.same(Object.keys(doc.paths).filter((p) => p.startsWith('/ui')), [])
})
