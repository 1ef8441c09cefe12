import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { UI_ROOT } from '../../src/routes/ui.js'
import { build, WRITE_KEY, type TestApp } from '../helper.js'

/**
 * The admin UI's end-to-end harness (SPEC §13): the built UI (npm run build puts it in dist/ui;
 * FLAGPOST_UI_DIR tests another build) served by a real, listening Flagpost on SQLite, driven in
 * Debian's chromium through playwright-core. One server and one browser per test file; each page gets
 * a browser context of its own (its own session storage), so tests do not sign each other in.
 */

export const CHROMIUM = '/usr/bin/chromium'
/** The two sizes every page must work at (SPEC §13): a laptop and a phone. */
export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }
/** The bound of each wait on the page: generous for a loaded 2-core machine, never a timing assertion. */
export const WAIT_MS = 10_000

export interface Keys { admin: string, editor: string, viewer: string, client: string }

export interface UiHarness {
  ctx: TestApp
  baseUrl: string
  browser: Browser
  /** Secrets of one key per role, made through the API (the env-configured WRITE_KEY is admin too). */
  keys: Keys
  /** A request to the API as another person would make it (admin key unless given); throws unless 2xx. */
  api: <T = any>(method: string, url: string, body?: unknown, key?: string) => Promise<T>
  /** A fresh page at /ui, signed in with `key` unless null (default: the admin key). */
  open: (t: Test, opts?: { key?: string | null, viewport?: { width: number, height: number }, path?: string }) => Promise<Page>
  /** `t.test`, then: the pages it opened had no uncaught exception and no console error. */
  test: (name: string, fn: (t: Test) => Promise<void>) => void
}

/** Why this file cannot run here, or undefined: no chromium, or no built UI. Under CI both are failures. */
export function missing (): string | undefined {
  if (!existsSync(CHROMIUM)) return process.env.FLAGPOST_NO_BROWSER ?? `${CHROMIUM} is missing (apt-get install chromium)`
  if (!existsSync(join(uiDir(), 'index.html'))) return `the UI is not built in ${uiDir()} (npm run build)`
  return undefined
}

const uiDir = (): string => process.env.FLAGPOST_UI_DIR ?? UI_ROOT

/**
 * Runs `define` with a harness, or skips the file with the reason (fails it under CI, where .ci/run
 * installs chromium and npm test builds the UI, unless FLAGPOST_NO_BROWSER says why chromium is absent).
 */
export async function withUi (t: Test, define: (ui: UiHarness) => void | Promise<void>): Promise<void> {
  const reason = missing()
  if (reason !== undefined) {
    if (process.env.CI !== undefined && process.env.CI !== '' && process.env.FLAGPOST_NO_BROWSER === undefined) {
      t.fail(`${reason}: CI must run the UI tests`)
    } else {
      t.plan(0, `UI tests skipped: ${reason}`)
    }
    return
  }
  await define(await start(t))
}

async function start (t: Test): Promise<UiHarness> {
  const ctx = await build(t, { UI_DIR: uiDir(), AUTH_READS: 'true' })
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
  t.teardown(() => browser.close())

  const api = async <T>(method: string, url: string, body?: unknown, key = WRITE_KEY): Promise<T> => {
    const res = await ctx.app.inject({ method: method as 'GET', url, headers: { 'x-api-key': key }, ...(body === undefined ? {} : { payload: body as object }) })
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
    return (res.body === '' ? undefined : res.json()) as T
  }
  const keys = {} as Keys
  for (const role of ['admin', 'editor', 'viewer', 'client'] as const) {
    keys[role] = (await api<{ secret: string }>('POST', '/api-keys', { name: `ui-${role}`, role, ...(role === 'client' ? { environments: ['production'] } : {}) })).secret
  }

  const pageProblems = new WeakMap<Test, string[][]>()
  const open = async (tt: Test, opts: { key?: string | null, viewport?: { width: number, height: number }, path?: string } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport: opts.viewport ?? DESKTOP })
    tt.teardown(() => context.close())
    const page = await context.newPage()
    page.setDefaultTimeout(WAIT_MS)
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`))
    page.on('console', (msg) => {
      // A failed request is the browser's console error for a refusal the page shows in words (401, 409…).
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`)
    })
    pageProblems.get(tt)?.push(problems)
    await page.goto(`${baseUrl}/ui${opts.path ?? '/'}`)
    const key = opts.key === undefined ? keys.admin : opts.key
    if (key !== null) await signIn(page, key)
    return page
  }
  const test = (name: string, fn: (t: Test) => Promise<void>): void => {
    t.test(name, async (tt) => {
      pageProblems.set(tt, [])
      await fn(tt)
      tt.same((pageProblems.get(tt) ?? []).flat(), [], 'no uncaught exception or console error on its pages')
    })
  }
  return { ctx, baseUrl, browser, keys, api, open, test }
}

/** What the page keeps: its session storage, how many local-storage items and cookies. */
export const kept = async (page: Page): Promise<{ session: Record<string, string>, local: number, cookies: string }> =>
  await page.evaluate('({ session: Object.fromEntries(Object.entries(sessionStorage)), local: localStorage.length, cookies: document.cookie })')

/** Where an element is on the screen (its bounding box, in CSS pixels). */
export const boxOf = async (page: Page, selector: string): Promise<{ left: number, right: number, top: number, bottom: number }> =>
  await page.evaluate(`(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom } })()`)

/** Signs in on the sign-in page and waits for the navigation to appear. */
export async function signIn (page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

interface Violation { id: string, impact: string, help: string, targets: string[] }
let axeSource: string | undefined
/**
 * axe-core over the page as it is: fails `t` on every serious or critical violation (SPEC §13), naming
 * the rule and the elements. Run through the DevTools protocol, which the page's CSP does not govern.
 */
export async function accessible (t: Test, page: Page, label: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  await page.evaluate(`${axeSource}\n;undefined`)
  // Colours are judged once the page has settled, not mid-transition: a dialog fading in blends its text
  // with what is behind it (#f3d9d9 on #bb3c3c was seen once, a dialog title at #ddd on #eee), which axe
  // reports as contrast. So: wait until no finite animation or transition runs (spinners loop forever and
  // are not waited for) and none has started two frames later (Mantine starts its transitions a frame
  // after mounting). A string, evaluated in the page (the tests are compiled without the DOM's types).
  await page.evaluate(`(async () => {
    const running = () => document.getAnimations().filter((a) => a.playState === 'running' && Number.isFinite(a.effect ? a.effect.getComputedTiming().endTime : Infinity))
    const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))
    for (let i = 0; i < 50; i++) {
      await Promise.all(running().map((a) => a.finished.catch(() => undefined)))
      await frames()
      if (running().length === 0) return
    }
  })()`)
  const violations = await page.evaluate<Violation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200))
  })))`)
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  t.same(serious, [], `${label}: no serious or critical axe-core violations`)
}
