/**
 * The admin UI (SPEC §13): what a browser downloads and how soon the page is usable.
 * - Bundle: every file of dist/ui (what `npm run build` made), raw, gzip -9 and brotli (the service sends
 *   the build's brotli copies to browsers that accept them); the files the
 *   first page load fetches (index.html and what it links) apart from the ones loaded later.
 * - First load, in Debian's chromium (headless, a new browser context per round: cold cache), from a
 *   `node dist/server.js` in the default configuration holding FLAGS flags: navigation start → the
 *   sign-in form shown, and navigation start → the flag list drawn (the key already in session
 *   storage, as after a sign-in), on the loopback and through CDP network emulation of a slow link
 *   (Lighthouse's "Slow 4G": 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up). Swagger UI (/docs), which
 *   the service served before the UI, is loaded in the same rounds as the baseline: first contentful
 *   paint of each, and the ratio.
 * Run: npm run bench:ui   (builds first; ROUNDS=7, FLAGS=100)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { chromium, type Browser, type Page } from 'playwright-core'
import { UI_ROOT } from '../src/routes/ui.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { startServer, type ServerProcess } from './support/server-process.js'
import { median } from './support/timing.js'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const FLAGS = Number(process.env.FLAGS ?? 100)
const KEY = 'bench-admin-key-0123456789'
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 }
const LINKS = { loopback: null, 'slow 4G': SLOW_4G } as const

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)} / ${median(xs).toFixed(0)} / ${Math.max(...xs).toFixed(0)}`

function bundle (): void {
  const index = readFileSync(join(UI_ROOT, 'index.html'), 'utf8')
  const linked = new Set([...index.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((m) => m[1]))
  const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => statSync(join(dir, name)).isDirectory() ? files(join(dir, name)).map((f) => `${name}/${f}`) : [name])
  console.log('\n| file | loaded | raw | gzip -9 | brotli |\n| --- | --- | --- | --- | --- |')
  const totals = { first: [0, 0, 0], later: [0, 0, 0] }
  // The build's .br/.gz copies are what the sizes below compute: listed once, as the file they compress.
  for (const file of files(UI_ROOT).filter((f) => !/\.(br|gz)$/.test(f)).sort()) {
    const body = readFileSync(join(UI_ROOT, file))
    const sizes = [body.length, gzipSync(body, { level: 9 }).length, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length]
    const first = file === 'index.html' || linked.has(file)
    sizes.forEach((s, i) => { totals[first ? 'first' : 'later'][i] += s })
    console.log(`| ${file} | ${first ? 'first load' : 'later'} | ${kb(sizes[0])} | ${kb(sizes[1])} | ${kb(sizes[2])} |`)
  }
  console.log(`| **first load, total** | | ${totals.first.map(kb).join(' | ')} |`)
  console.log(`| loaded later (other pages), total | | ${totals.later.map(kb).join(' | ')} |`)
}

/** Navigation start → `ready` (a locator shown), and the first contentful paint, in ms. */
async function load (browser: Browser, url: string, link: typeof SLOW_4G | null, ready: (page: Page) => Promise<void>, init?: string): Promise<{ ready: number, fcp: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  try {
    const page = await context.newPage()
    if (init !== undefined) await page.addInitScript(init)
    if (link !== null) {
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.emulateNetworkConditions', link)
    }
    await page.goto(url, { waitUntil: 'commit' })
    await ready(page)
    const shown: number = await page.evaluate('performance.now()')
    const fcp: number = await page.evaluate("new Promise((resolve) => new PerformanceObserver((l) => resolve(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true }))")
    return { ready: shown, fcp }
  } finally {
    await context.close()
  }
}

async function main (): Promise<void> {
  printRunHeader(`bench:ui — bundle and first load (${ROUNDS} rounds, ${FLAGS} flags)`)
  bundle()
  const dir = mkdtempSync(join(tmpdir(), 'flagpost-bench-ui-'))
  let server: ServerProcess | undefined
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  try {
    server = await startServer({ DATABASE_URL: `file:${join(dir, 'flagpost.db')}`, API_KEY: KEY }, join(dir, 'server.log'))
    for (let i = 0; i < FLAGS; i++) {
      const res = await fetch(`${server.base}/flags`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ name: `flag-${i}`, tags: [`team-${i % 5}`] }) })
      if (res.status !== 201) throw new Error(`seeding flag-${i}: ${res.status}`)
    }
    const base = server.base
    const signedIn = `sessionStorage.setItem('flagpost.apiKey', ${JSON.stringify(KEY)})`
    console.log('\n| link | sign-in form shown (ms) | flag list drawn, signed in (ms) | UI first paint (ms) | Swagger UI first paint (ms) | UI / Swagger UI first paint |')
    console.log('| --- | --- | --- | --- | --- | --- |')
    for (const [name, link] of Object.entries(LINKS)) {
      const rows = { signIn: [] as number[], list: [] as number[], fcp: [] as number[], swagger: [] as number[], ratio: [] as number[] }
      for (let round = 0; round < ROUNDS; round++) {
        // Alternating, so that a slower moment of the machine falls on both.
        const swagger = await load(browser, `${base}/docs/static/index.html`, link, async (page) => { await page.locator('.swagger-ui .info').waitFor({ timeout: 60_000 }) })
        const form = await load(browser, `${base}/ui/`, link, async (page) => { await page.getByLabel('API key').waitFor({ timeout: 60_000 }) })
        const list = await load(browser, `${base}/ui/flags`, link, async (page) => { await page.locator('tr[data-flag="flag-0"]').waitFor({ timeout: 60_000 }) }, signedIn)
        rows.signIn.push(form.ready)
        rows.list.push(list.ready)
        rows.fcp.push(form.fcp)
        rows.swagger.push(swagger.fcp)
        rows.ratio.push(form.fcp / swagger.fcp)
      }
      const r = rows.ratio
      console.log(`| ${name} | ${spread(rows.signIn)} | ${spread(rows.list)} | ${spread(rows.fcp)} | ${spread(rows.swagger)} | ${Math.min(...r).toFixed(2)} / ${median(r).toFixed(2)} / ${Math.max(...r).toFixed(2)} |`)
    }
    console.log('(each cell: min / median / max over the rounds)')
  } finally {
    await browser.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  printRunFooter()
}

await main()
