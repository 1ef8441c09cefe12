import t, { type Test } from 'tap'
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build as bundle } from 'esbuild'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build, createFlag, READ_KEY, WRITE_KEY, type TestApp } from '../helper.js'
import { until } from '../support/until.js'

/**
 * A page on another origin, in Debian's chromium, using @openfeature/web-sdk with
 * @openfeature/ofrep-web-provider against a listening Flagpost with CORS_ORIGINS: what CORS must
 * make possible (and impossible) for a real browser, preflights and all. test/routes/cors.test.ts
 * has the header-level rules; test/clients/ofrep-web-sdk.test.ts the provider in Node, without CORS.
 *
 * The page is served by a node:http server of its own (another port: another origin), loading the two
 * packages bundled for the browser by esbuild when the test starts. Reads need a key (AUTH_READS), so
 * every request carries X-API-Key and the browser must preflight it.
 */

const CHROMIUM = '/usr/bin/chromium'
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** Bound of every wait for the page; the whole file takes a few seconds. */
const WAIT_MS = 5000
const POLL_MS = 100

/** What the page can do, on `window.flagpost` (bundled with the SDK and the provider). */
const HARNESS = `
import { ClientProviderEvents, OpenFeature } from '@openfeature/web-sdk'
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider'

const events = []
OpenFeature.addHandler(ClientProviderEvents.ConfigurationChanged, (d) => events.push({ type: 'changed', flags: d?.flagsChanged ?? [] }))
OpenFeature.addHandler(ClientProviderEvents.Error, (d) => events.push({ type: 'error', message: String(d?.message) }))

const details = (d) => ({ value: d.value, variant: d.variant, reason: d.reason, ...(d.errorCode ? { errorCode: d.errorCode } : {}) })

window.flagpost = {
  events,
  async start ({ baseUrl, apiKey, context, pollInterval, changeDetection = 'polling' }) {
    await OpenFeature.setContext(context)
    let error
    try {
      // No persisted cache: every context is evaluated by the server, as the tests expect. Polling
      // unless a test asks for the event stream the bulk evaluation advertises (the provider's default).
      await OpenFeature.setProviderAndWait(new OFREPWebProvider({ baseUrl, pollInterval, changeDetection, cacheMode: 'disabled', headers: [['X-API-Key', apiKey]] }))
    } catch (err) { error = String(err?.message ?? err) }
    return { status: OpenFeature.getClient().providerStatus, ...(error ? { error } : {}) }
  },
  setContext: (context) => OpenFeature.setContext(context),
  boolean: (key, fallback) => details(OpenFeature.getClient().getBooleanDetails(key, fallback)),
  string: (key, fallback) => details(OpenFeature.getClient().getStringDetails(key, fallback)),
  /** fetch() from the page: what the page gets to see (the headers it may read), or the browser's refusal. */
  async request (url, init) {
    try {
      const res = await fetch(url, init)
      return { status: res.status, etag: res.headers.get('etag'), body: await res.text() }
    } catch (err) { return { refused: String(err?.message ?? err) } }
  }
}
`

interface Details { value: unknown, variant?: string, reason?: string, errorCode?: string }
interface PageResponse { status?: number, etag?: string | null, body?: string, refused?: string }
interface Seen { origin: string, method: string, url: string, status: number, etag?: string, ifNoneMatch?: string, allowOrigin?: string }
interface Api { ctx: TestApp, baseUrl: string, seen: Seen[], streams: string[] }
interface Setup { browser: Browser, page: string, other: string, api: Api }

/** What the harness puts on the page's window; only ever called inside page.evaluate. */
declare const flagpost: {
  events: Array<{ type: string, flags?: string[], message?: string }>
  start: (opts: { baseUrl: string, apiKey: string, context: Record<string, unknown>, pollInterval: number, changeDetection?: 'sse' | 'polling' }) => Promise<{ status: string, error?: string }>
  setContext: (context: Record<string, unknown>) => Promise<void>
  boolean: (key: string, fallback: boolean) => Details
  string: (key: string, fallback: string) => Details
  request: (url: string, init: RequestInit) => Promise<PageResponse>
}

if (!existsSync(CHROMIUM)) {
  const reason = process.env.FLAGPOST_NO_BROWSER ?? `${CHROMIUM} is missing (apt-get install chromium)`
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.FLAGPOST_NO_BROWSER === undefined) {
    t.fail(`${reason}: CI must run the browser test (.ci/run installs chromium, or sets FLAGPOST_NO_BROWSER to why it could not)`)
  } else {
    t.plan(0, `browser test skipped: ${reason}`)
  }
} else {
  const { outputFiles } = await bundle({
    stdin: { contents: HARNESS, resolveDir: ROOT, loader: 'js', sourcefile: 'harness.js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent'
  })
  const script = outputFiles[0].text
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
  })
  t.teardown(() => browser.close())
  // One page origin CORS_ORIGINS lists, one it does not, and one Flagpost for both (each test its own
  // browser context): a build and listen per test would double the file's time.
  const page = await pageOrigin(t, script)
  const other = await pageOrigin(t, script)
  const shared = await api(t, page)
  await seed(shared.ctx)
  defineTests({ browser, page, other, api: shared })
}

/** A server for the page (its own port: its own origin). Returns the origin. */
async function pageOrigin (t: Test, script: string): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/harness.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title><script src="/harness.js"></script>')
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Flagpost listening on a port of its own, recording every request it answers. */
async function api (t: Test, corsOrigins: string): Promise<Api> {
  const ctx = await build(t, { CORS_ORIGINS: corsOrigins, AUTH_READS: 'true' })
  const seen: Seen[] = []
  // Event streams the browser opened (hijacked responses have no onResponse: recorded as they arrive).
  const streams: string[] = []
  ctx.app.addHook('onRequest', async (request) => { if (request.url.includes('/event-stream')) streams.push(request.url) })
  // What the browser sent (the requests with an Origin), not the test's own setup through app.inject.
  ctx.app.addHook('onResponse', async (request, reply) => {
    const origin = request.headers.origin
    if (origin === undefined) return
    const ifNoneMatch = request.headers['if-none-match']
    const allowOrigin = reply.getHeader('access-control-allow-origin')
    const etag = reply.getHeader('etag')
    seen.push({
      origin,
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ...(typeof etag === 'string' ? { etag } : {}),
      ...(typeof ifNoneMatch === 'string' ? { ifNoneMatch } : {}),
      ...(typeof allowOrigin === 'string' ? { allowOrigin } : {})
    })
  })
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  return { ctx, baseUrl: `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`, seen, streams }
}

/** A fresh browser context (no shared cache, storage or preflight cache) with the page loaded from `origin`. */
async function openPage (t: Test, browser: Browser, origin: string): Promise<Page> {
  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => typeof flagpost !== 'undefined', undefined, { timeout: WAIT_MS })
  return page
}

/** Waits until the page has seen ConfigurationChanged for `flag`, at most WAIT_MS. */
async function changedInPage (page: Page, flag: string): Promise<void> {
  try {
    await page.waitForFunction((key) => flagpost.events.some((e) => e.type === 'changed' && e.flags?.includes(key) === true), flag, { timeout: WAIT_MS })
  } catch {
    throw new Error(`the page saw no ConfigurationChanged for ${flag} within ${WAIT_MS} ms: ${JSON.stringify(await page.evaluate(() => flagpost.events))}`)
  }
}

/**
 * A boolean flag on for alice only, a string flag whose value follows the country attribute, one whose
 * value follows the nested attribute user.plan, and one for the page to write.
 */
async function seed (ctx: TestApp): Promise<void> {
  await createFlag(ctx, { name: 'new-checkout', targeting_rules: { user_ids: ['alice'] } })
  await createFlag(ctx, {
    name: 'greeting',
    type: 'string',
    variants: { en: 'Hello', de: 'Hallo' },
    default_variant: 'en',
    off_variant: 'en',
    targeting_rules: { rules: [{ clauses: [{ attribute: 'country', operator: 'eq', values: ['DE'] }], serve: { variant: 'de' } }] }
  })
  await createFlag(ctx, {
    name: 'plan-gate',
    type: 'string',
    variants: { pro: 'pro-ui', basic: 'basic-ui' },
    default_variant: 'basic',
    off_variant: 'basic',
    targeting_rules: { rules: [{ clauses: [{ attribute: 'user.plan', operator: 'eq', values: ['pro'] }], serve: { variant: 'pro' } }] }
  })
  await createFlag(ctx, { name: 'to-write', targeting_rules: { user_ids: ['alice'] } })
}

const BULK = '/ofrep/v1/evaluate/flags'
const bulkPolls = (seen: Seen[]): Seen[] => seen.filter((s) => s.method === 'POST' && s.url === BULK)

function defineTests ({ browser, page: origin, other, api: shared }: Setup): void {
  /** The shared Flagpost, its record of what browsers sent emptied for this test. */
  const fresh = (): Api => { shared.seen.length = 0; shared.streams.length = 0; return shared }

  t.test('the provider becomes READY and the page reads real values that follow its context', async (t) => {
    const { baseUrl, seen } = fresh()
    const page = await openPage(t, browser, origin)

    const started = await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'alice', country: 'DE' }, pollInterval: 0 })
    t.strictSame(started, { status: 'READY' }, 'setProviderAndWait resolved')
    t.match(await page.evaluate(() => flagpost.boolean('new-checkout', false)), { value: true, variant: 'on', reason: 'TARGETING_MATCH' })
    t.match(await page.evaluate(() => flagpost.string('greeting', 'fallback')), { value: 'Hallo', variant: 'de', reason: 'TARGETING_MATCH' })

    await page.evaluate(() => flagpost.setContext({ targetingKey: 'bob', country: 'FR' }))
    t.match(await page.evaluate(() => flagpost.boolean('new-checkout', true)), { value: false, reason: 'DEFAULT' }, 'bob is not alice')
    t.match(await page.evaluate(() => flagpost.string('greeting', 'fallback')), { value: 'Hello', variant: 'en' })

    t.strictSame(bulkPolls(seen).map((s) => [s.status, s.allowOrigin]), [[200, origin], [200, origin]], 'one bulk evaluation per context')
    // The JSON body and X-API-Key need a preflight; Access-Control-Max-Age spares the second request one.
    t.strictSame(seen.filter((s) => s.method === 'OPTIONS').map((s) => [s.url, s.status, s.allowOrigin]), [[BULK, 204, origin]], 'one preflight, granted')
  })

  t.test('polling: the browser sends If-None-Match (it could read the ETag) and gets 304s', async (t) => {
    const { baseUrl, seen } = fresh()
    const page = await openPage(t, browser, origin)
    const inPage: number[] = []
    page.on('response', (res) => { if (res.request().method() === 'POST' && res.url() === `${baseUrl}${BULK}`) inPage.push(res.status()) })

    t.match(await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'alice' }, pollInterval: POLL_MS }), { status: 'READY' })
    await until(() => inPage.filter((s) => s === 304).length >= 3, WAIT_MS, 20, 'three polls answered 304 in the page')
    const [first, ...polls] = bulkPolls(seen)
    t.match(first, { status: 200, etag: /^"[^"]+"$/ }, 'the first request: 200 with an ETag')
    t.notOk('ifNoneMatch' in first, 'and no If-None-Match yet')
    t.ok(polls.length >= 3 && polls.every((s) => s.status === 304 && s.ifNoneMatch === first.etag),
      `every poll sent back the ETag ${String(first.etag)} and got 304: ${JSON.stringify(polls.map((s) => [s.status, s.ifNoneMatch]))}`)
    t.ok([first, ...polls].every((s) => s.allowOrigin === origin), 'each one readable by the page')
    t.equal(inPage[0], 200)
    t.ok(inPage.slice(1).every((s) => s === 304), 'the page saw the 304s as such')
    // Chromium does not reuse a cached preflight for a conditional request (If-None-Match makes it
    // no-store): every poll is preflighted, and each preflight must be granted.
    const preflights = seen.filter((s) => s.method === 'OPTIONS')
    t.ok(preflights.length >= 1 && preflights.every((s) => s.status === 204 && s.allowOrigin === origin), `${preflights.length} preflight(s), all granted`)
    t.match(await page.evaluate(() => flagpost.boolean('new-checkout', false)), { value: true })
  })

  t.test('a write from the page (PUT with If-Match and the write key) reaches the page by the next poll', async (t) => {
    const { baseUrl, seen } = fresh()
    const page = await openPage(t, browser, origin)
    t.match(await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'alice' }, pollInterval: POLL_MS }), { status: 'READY' })
    t.match(await page.evaluate(() => flagpost.boolean('to-write', false)), { value: true })

    const read = await page.evaluate((url) => flagpost.request(url, { headers: { 'X-API-Key': 'READ' } }), `${baseUrl}/flags/to-write`)
    t.equal(read.status, 401, 'a wrong key: the page can read the 401 (no opaque network error)')
    const flag = await page.evaluate(([url, key]) => flagpost.request(url, { headers: { 'X-API-Key': key } }), [`${baseUrl}/flags/to-write`, READ_KEY])
    t.equal(flag.status, 200)
    t.equal(flag.etag, '"1"', 'the page can read the ETag (exposed)')

    const put = await page.evaluate(([url, key, etag]) => flagpost.request(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': etag, 'x-api-key': key },
      body: JSON.stringify({ enabled: false })
    }), [`${baseUrl}/flags/to-write`, WRITE_KEY, String(flag.etag)])
    t.equal(put.status, 200, `PUT from the page: ${put.refused ?? put.body ?? ''}`)
    t.equal(put.etag, '"2"', 'the new version, readable')
    t.ok(seen.some((s) => s.method === 'OPTIONS' && s.url === '/flags/to-write' && s.allowOrigin === origin), 'the PUT was preflighted and allowed')

    const written = Date.now()
    await changedInPage(page, 'to-write')
    t.ok(Date.now() - written < WAIT_MS, `ConfigurationChanged ${Date.now() - written} ms after the write`)
    t.match(await page.evaluate(() => flagpost.boolean('to-write', true)), { value: false, reason: 'DISABLED' }, 'the page reads the new value')
  })

  t.test('a page on an origin not in CORS_ORIGINS gets nothing: provider error, fallback values, no write', async (t) => {
    const { ctx, baseUrl, seen: all } = fresh()
    const page = await openPage(t, browser, other)
    // This page's requests only: a poll the previous test's page sent as it closed can still arrive.
    const seen = (): Seen[] => all.filter((s) => s.origin === other)

    const started = await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'alice' }, pollInterval: 0 })
    t.not(started.status, 'READY', `the provider did not get ready: ${JSON.stringify(started)}`)
    t.ok(started.error, 'setProviderAndWait rejected')
    t.match(await page.evaluate(() => flagpost.boolean('new-checkout', false)), { value: false, reason: 'ERROR' }, 'the fallback value')
    t.match(await page.evaluate(() => flagpost.string('greeting', 'fallback')), { value: 'fallback', reason: 'ERROR' })

    const put = await page.evaluate(([url, key]) => flagpost.request(url, {
      method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ enabled: false })
    }), [`${baseUrl}/flags/new-checkout`, WRITE_KEY])
    t.ok(put.refused, `the browser refused the write: ${JSON.stringify(put)}`)
    t.strictSame(seen().filter((s) => s.method !== 'OPTIONS'), [], 'only preflights reached the server: no evaluation, no write')
    t.ok(seen().length > 0 && seen().every((s) => s.allowOrigin === undefined), 'and none of them granted the origin')
    t.match((await ctx.app.inject({ method: 'GET', url: '/flags/new-checkout', headers: { 'x-api-key': READ_KEY } })).json(), { enabled: true }, 'the flag is unchanged')
  })

  t.test('* opens evaluation to any page, and still refuses its writes', async (t) => {
    // A Flagpost of its own: CORS_ORIGINS=* alone.
    const { ctx, baseUrl, seen } = await api(t, '*')
    await seed(ctx)
    const page = await openPage(t, browser, other)
    t.match(await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'alice', country: 'DE' }, pollInterval: 0 }), { status: 'READY' })
    t.match(await page.evaluate(() => flagpost.string('greeting', 'fallback')), { value: 'Hallo' })

    const put = await page.evaluate(([url, key]) => flagpost.request(url, {
      method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ enabled: false })
    }), [`${baseUrl}/flags/new-checkout`, WRITE_KEY])
    t.ok(put.refused, `the browser refused the write: ${JSON.stringify(put)}`)
    t.notOk(seen.some((s) => s.method === 'PUT'), 'the PUT never reached the server (its preflight granted nothing)')
    const read = await page.evaluate(([url, key]) => flagpost.request(url, { headers: { 'x-api-key': key } }), [`${baseUrl}/flags/new-checkout`, READ_KEY])
    t.ok(read.refused, 'nor can it read the flag definitions')
  })

  t.test('nested context: {user: {plan}} from the page matches a rule on user.plan', async (t) => {
    const { baseUrl } = fresh()
    const page = await openPage(t, browser, origin)
    const started = await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'u1', user: { plan: 'pro' } }, pollInterval: 0 })
    t.strictSame(started, { status: 'READY' }, 'the nested context is accepted')
    t.match(await page.evaluate(() => flagpost.string('plan-gate', 'fallback')), { value: 'pro-ui', variant: 'pro', reason: 'TARGETING_MATCH' })
    await page.evaluate(() => flagpost.setContext({ targetingKey: 'u1', user: { plan: 'free' } }))
    t.match(await page.evaluate(() => flagpost.string('plan-gate', 'fallback')), { value: 'basic-ui', variant: 'basic' })
  })

  t.test('with the event stream the bulk evaluation advertises, a change reaches the page at once, not by a poll', async (t) => {
    const { ctx, baseUrl, seen, streams } = fresh()
    // A flag of its own (the earlier tests switch to-write around).
    await createFlag(ctx, { name: 'streamed', targeting_rules: { user_ids: ['alice'] } })
    t.teardown(() => ctx.write({ method: 'DELETE', url: '/flags/streamed' }))
    const page = await openPage(t, browser, origin)
    // No polling at all: only the stream can bring the change.
    t.match(await page.evaluate((opts) => flagpost.start(opts), { baseUrl, apiKey: READ_KEY, context: { targetingKey: 'bob' }, pollInterval: 0, changeDetection: 'sse' as const }), { status: 'READY' })
    t.match(await page.evaluate(() => flagpost.boolean('streamed', true)), { value: false }, 'bob is not targeted yet')
    await until(() => streams.length > 0, WAIT_MS, 20, 'the page to open the event stream')
    t.ok(streams.every((url) => url.includes('token=') && !url.includes(READ_KEY)), 'the stream URL carries a token, never the key')

    const written = await ctx.write({ method: 'PUT', url: '/flags/streamed', payload: { targeting_rules: { user_ids: ['alice', 'bob'] } } })
    t.equal(written.statusCode, 200)
    await changedInPage(page, 'streamed')
    t.match(await page.evaluate(() => flagpost.boolean('streamed', false)), { value: true, reason: 'TARGETING_MATCH' }, 'the page serves the new value')
    t.equal(bulkPolls(seen).length, 1, 'one plain bulk evaluation (the first): no polls')
    const refetches = seen.filter((s) => s.method === 'POST' && s.url.startsWith(`${BULK}?`))
    t.ok(refetches.length >= 1 && refetches.every((s) => /flagConfigEtag=%22\d+%22/.test(s.url) && s.status === 200 && s.allowOrigin === origin),
      `re-fetched because of the event, with its etag: ${JSON.stringify(seen.map((s) => [s.method, s.url.slice(0, 80), s.status]))}`)
  })
}
