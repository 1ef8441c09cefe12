/**
 * The admin UI (SPEC §13): what a browser downloads and how soon the page is usable.
 * - Bundle: every file of dist/ui (what `npm run build` made), raw, gzip -9 and brotli (the service sends
 *   the build's brotli copies to browsers that accept them); the files the
 *   first page load fetches (index.html and what it links) apart from the ones loaded later.
 * - First load, in Debian's chromium (headless, a new browser context per round: cold cache), from a
 *   `node dist/bin/server.js` in the default configuration holding FLAGS flags: navigation start → the
 *   sign-in form shown, and navigation start → the flag list drawn (the key already in session
 *   storage, as after a sign-in), on the loopback and through CDP network emulation of a slow link
 *   (Lighthouse's "Slow 4G": 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up). Swagger UI (/docs), which
 *   the service served before the UI, is loaded in the same rounds as the baseline: first contentful
 *   paint of each, and the ratio.
 * - The flag page's Overrides tab (issue: "100k rows must stay fast"), on a second server whose SQLite
 *   file holds a flag with OVERRIDES user overrides and one with 10 (the flags created through the flag
 *   service, as support/dataset.ts does; users and overrides as SQL rows in one transaction, on and off
 *   mixed), both flags in the same rounds, signed in, on the loopback only, a new context per load:
 *   navigation start → the first page of overrides drawn (`/ui/flags/<name>?tab=overrides`); then
 *   "Load more" clicked → the next page drawn (the 10-override flag has one page: no button); then an
 *   id prefix typed into the search box → only matching rows shown, timed from the last keystroke, so
 *   it includes the panel's 250 ms debounce. The ratio of the medians, OVERRIDES ÷ 10.
 * Run: npm run bench:ui   (builds first; ROUNDS=7, FLAGS=100, OVERRIDES=100000 (at least 1000))
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import Database from 'better-sqlite3'
import { chromium, type Browser, type Page } from 'playwright-core'
import { loadConfig } from '../src/config.js'
import { createContainer } from '../src/container.js'
import { UI_ROOT } from '../src/routes/ui.js'
import { printRunFooter, printRunHeader } from './support/machine.js'
import { startServer, type ServerProcess } from './support/server-process.js'
import { median, spread } from './support/timing.js'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const FLAGS = Number(process.env.FLAGS ?? 100)
const OVERRIDES = Number(process.env.OVERRIDES ?? 100_000)
const KEY = 'bench-admin-key-0123456789'
/** The key in session storage before the page's scripts run, as after a sign-in. */
const SIGNED_IN = `sessionStorage.setItem('flagpost.apiKey', ${JSON.stringify(KEY)})`
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 }
const LINKS = { loopback: null, 'slow 4G': SLOW_4G } as const

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`

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

/**
 * The two flags of the Overrides tab: `count` user overrides each, the k-th (k = 1 … count) for user
 * `userId(id(k))`. The crowded one names users 1 … OVERRIDES; the sparse one ten of the same users,
 * spread over the range (step, 2 × step, … 10 × step).
 */
interface OverrideFlag { name: string, count: number, id: (k: number) => number }
const STEP = Math.floor(OVERRIDES / 10)
const CROWDED: OverrideFlag = { name: 'overrides-crowded', count: OVERRIDES, id: (k) => k }
const SPARSE: OverrideFlag = { name: 'overrides-ten', count: 10, id: (k) => k * STEP }
const userId = (i: number): string => `user-${String(i).padStart(Math.max(6, String(OVERRIDES).length), '0')}`
const rowOf = (id: string): string => `tr[data-override="user:${id}"]` // OverrideTable's rows: data-override="<subject>:<id>"
/**
 * The search: the prefix of user 7 × step without its last digit ("user-07000" at 100k), which
 * matches 10 overrides of the crowded flag (user-070000 … 070009) and 1 of the sparse one
 * (user-070000), neither of them on its first page (the list is by subject, then id).
 */
const TARGET = userId(7 * STEP)
const PREFIX = TARGET.slice(0, -1)

/**
 * A new SQLite file at `path` holding the two flags and their overrides, in the default environment
 * (production, the one the flag page shows without ?env). Migrations and the flags go through the service in this
 * process, as support/dataset.ts does; the users and overrides are rows written in one transaction
 * (100k API calls would measure fsync).
 */
async function seedOverrides (path: string): Promise<void> {
  const config = loadConfig({ DATABASE_URL: `file:${path}`, LOG_LEVEL: 'silent' })
  const environment = config.defaultEnvironment
  const container = await createContainer(config, { poll: false })
  try {
    for (const flag of [CROWDED, SPARSE]) await container.services.flags.create(environment, { name: flag.name, defaultValue: true }, { actor: 'bench' })
  } finally {
    await container.close()
  }
  const db = new Database(path)
  try {
    db.transaction(() => {
      const now = Date.now()
      const user = db.prepare('insert into users (id, customer_id, created_at) values (?, null, ?)')
      const override = db.prepare(`insert into overrides (flag_id, environment, subject, subject_id, enabled, variant, created_at, updated_at)
        values (?, ?, 'user', ?, ?, null, ?, ?)`)
      const flagId = db.prepare<[string], { id: string }>('select id from flags where name = ?')
      for (let i = 1; i <= OVERRIDES; i++) user.run(userId(i), now)
      for (const flag of [CROWDED, SPARSE]) {
        const { id } = flagId.get(flag.name)!
        // On and off mixed: two in three on in the crowded flag, every other one in the sparse.
        for (let k = 1; k <= flag.count; k++) override.run(id, environment, userId(flag.id(k)), (flag === CROWDED ? k % 3 !== 0 : k % 2 === 0) ? 1 : 0, now, now)
      }
    })()
  } finally {
    db.close()
  }
}

/**
 * Evaluate `condition` in the page at every animation frame until it holds (60 s at most); then
 * performance.now() of that frame. A loop in the page started through the DevTools protocol, not
 * Playwright's waitForFunction, which evaluates a string the page's CSP forbids (no 'unsafe-eval').
 */
async function until (page: Page, condition: string): Promise<number> {
  return await page.evaluate<number>(`new Promise((resolve, reject) => {
    const deadline = performance.now() + 60000
    const check = () => (${condition}) ? resolve(performance.now()) : performance.now() > deadline ? reject(new Error('not met in 60 s: ' + ${JSON.stringify(condition)})) : requestAnimationFrame(check)
    check()
  })`)
}

/**
 * One load of `flag`'s Overrides tab in a new context, signed in, in ms: navigation start → its first
 * row drawn (found as the flag list's row is, then performance.now()); the "Load more" click → more rows
 * in the table than the first page had (null when the flag has no second page); the last keystroke of
 * PREFIX in "Search by id" → every row shown matches it, TARGET's among them. Both from the page's own
 * click and input events (recorded in the capture phase) to the animation frame that sees the rows.
 * The search figure includes the panel's debounce: useDebouncedValue(search.trim(), 250) in
 * ui/src/components/flag/OverridesPanel.tsx, so 250 ms of it is waiting by design.
 */
async function overridesTab (browser: Browser, base: string, flag: OverrideFlag): Promise<{ firstPage: number, loadMore: number | null, search: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  try {
    const page = await context.newPage()
    await page.addInitScript(SIGNED_IN)
    await page.goto(`${base}/ui/flags/${flag.name}?tab=overrides`, { waitUntil: 'commit' })
    await page.locator(rowOf(userId(flag.id(1)))).waitFor({ timeout: 60_000 })
    const firstPage: number = await page.evaluate('performance.now()')
    await page.evaluate("for (const type of ['click', 'input']) document.addEventListener(type, () => { window['bench_' + type] = performance.now() }, { capture: true })")
    // The button is drawn with the first page (the same answer says whether there is more).
    const rows = await page.locator('tr[data-override]').count()
    const more = page.getByRole('button', { name: 'Load more' })
    let loadMore: number | null = null
    if (await more.isVisible()) {
      await more.click()
      const drawn = await until(page, `document.querySelectorAll('tr[data-override]').length > ${rows}`)
      const clicked: number = await page.evaluate('window.bench_click')
      loadMore = drawn - clicked
    } else if (rows < flag.count) {
      throw new Error(`${flag.name}: ${rows} of ${flag.count} overrides shown and no "Load more" button`)
    }
    await page.getByLabel('Search by id', { exact: true }).pressSequentially(PREFIX)
    const [prefix, target] = [JSON.stringify(`user:${PREFIX}`), JSON.stringify(rowOf(TARGET))]
    const all = "[...document.querySelectorAll('tr[data-override]')]"
    const matched = `${all}.length > 0 && ${all}.every((r) => r.getAttribute('data-override').startsWith(${prefix})) && document.querySelector(${target}) !== null`
    const shown = await until(page, matched)
    const typed: number = await page.evaluate('window.bench_input')
    return { firstPage, loadMore, search: shown - typed }
  } finally {
    await context.close()
  }
}

/** The Overrides tab of both flags in the same rounds (the order flips each round); the table and the ratio of the medians. */
async function overridesTable (browser: Browser, base: string): Promise<void> {
  const times = new Map([CROWDED, SPARSE].map((f) => [f, { firstPage: [] as number[], loadMore: [] as number[], search: [] as number[] }]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const flag of round % 2 === 0 ? [SPARSE, CROWDED] : [CROWDED, SPARSE]) {
      const t = await overridesTab(browser, base, flag)
      const row = times.get(flag)!
      row.firstPage.push(t.firstPage)
      row.search.push(t.search)
      if (t.loadMore !== null) row.loadMore.push(t.loadMore)
    }
  }
  const count = (n: number): string => n.toLocaleString('en-US')
  console.log('\n| overrides | first page drawn (ms) | search → match shown (ms) | load more → next page (ms) |')
  console.log('| --- | --- | --- | --- |')
  for (const flag of [SPARSE, CROWDED]) {
    const t = times.get(flag)!
    console.log(`| ${count(flag.count)} | ${spread(t.firstPage)} | ${spread(t.search)} | ${t.loadMore.length > 0 ? spread(t.loadMore) : '— (one page)'} |`)
  }
  const [crowded, sparse] = [times.get(CROWDED)!, times.get(SPARSE)!]
  const ratio = (a: number[], b: number[]): string => (median(a) / median(b)).toFixed(2)
  console.log(`ratio of medians ${count(OVERRIDES)} ÷ 10: first page drawn ${ratio(crowded.firstPage, sparse.firstPage)}, search → match shown ${ratio(crowded.search, sparse.search)} (load more: no second page at 10)`)
  console.log(`(each cell: min / median / max over the rounds; loopback; search "${PREFIX}", typed after the load more, matches 10 of ${count(OVERRIDES)} and 1 of 10, and includes the panel's 250 ms debounce)`)
}

async function main (): Promise<void> {
  if (!Number.isInteger(OVERRIDES) || OVERRIDES < 1000) throw new Error(`OVERRIDES must be an integer of at least 1000 (two pages, and a search prefix that picks 10): ${process.env.OVERRIDES}`)
  printRunHeader(`bench:ui — bundle, first load and the overrides tab (${ROUNDS} rounds, ${FLAGS} flags, ${OVERRIDES} overrides)`)
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
    console.log('\n| link | sign-in form shown (ms) | flag list drawn, signed in (ms) | UI first paint (ms) | Swagger UI first paint (ms) | UI / Swagger UI first paint |')
    console.log('| --- | --- | --- | --- | --- | --- |')
    for (const [name, link] of Object.entries(LINKS)) {
      const rows = { signIn: [] as number[], list: [] as number[], fcp: [] as number[], swagger: [] as number[], ratio: [] as number[] }
      for (let round = 0; round < ROUNDS; round++) {
        // Alternating, so that a slower moment of the machine falls on both.
        const swagger = await load(browser, `${base}/docs/static/index.html`, link, async (page) => { await page.locator('.swagger-ui .info').waitFor({ timeout: 60_000 }) })
        const form = await load(browser, `${base}/ui/`, link, async (page) => { await page.getByLabel('API key').waitFor({ timeout: 60_000 }) })
        const list = await load(browser, `${base}/ui/flags`, link, async (page) => { await page.locator('tr[data-flag="flag-0"]').waitFor({ timeout: 60_000 }) }, SIGNED_IN)
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
    await server.stop()
    // The overrides tab on a server of its own: the first-load figures above stay those of FLAGS flags.
    const overridesDb = join(dir, 'overrides.db')
    await seedOverrides(overridesDb)
    server = await startServer({ DATABASE_URL: `file:${overridesDb}`, API_KEY: KEY }, join(dir, 'server-overrides.log'))
    await overridesTable(browser, server.base)
  } finally {
    await browser.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  printRunFooter()
}

await main()
