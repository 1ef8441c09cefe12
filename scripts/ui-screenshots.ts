/**
 * `npm run screenshots`: the README's pictures of the admin UI (docs/ui/*.png), taken in Debian's
 * chromium from a `node dist/bin/server.js` on a fresh SQLite file seeded through the public API with a
 * small, realistic set of flags. Run after `npm run build`; rerun when the pages change.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Page } from 'playwright-core'
import { startServer } from '../bench/support/server-process.js'

const OUT = fileURLToPath(new URL('../docs/ui/', import.meta.url))
const KEY = 'screenshots-admin-key-0123456789'

async function seed (base: string): Promise<void> {
  const call = async (method: string, path: string, body?: unknown): Promise<void> => {
    const res = await fetch(`${base}${path}`, { method, headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  }
  await call('POST', '/flags', { name: 'checkout.one_page', description: 'The one-page checkout', tags: ['checkout', 'web'] })
  await call('POST', '/flags', {
    name: 'search.ranking',
    type: 'string',
    description: 'Which ranking the search uses',
    variants: { bm25: 'bm25', vector: 'vector', hybrid: 'hybrid' },
    default_variant: 'bm25',
    off_variant: 'bm25',
    tags: ['search']
  })
  await call('PUT', '/flags/search.ranking', {
    targeting_rules: {
      user_ids: ['qa-1', 'qa-2'],
      rules: [
        { id: 'beta-testers', clauses: [{ attribute: 'plan', operator: 'in', values: ['beta', 'enterprise'] }], serve: { variant: 'hybrid' } },
        { id: 'new-apps', clauses: [{ attribute: 'app_version', operator: 'semver_gte', values: ['4.2.0'] }], serve: { rollout: { vector: 50, bm25: 50 } } }
      ]
    }
  })
  await call('POST', '/flags', { name: 'pricing.banner', type: 'json', default_value: { text: 'Spring sale', discount: 20 }, off_value: {}, tags: ['marketing'] })
  await call('POST', '/flags', { name: 'api.rate_limit', type: 'number', default_value: 100, off_value: 50, tags: ['platform'] })
  await call('PUT', '/flags/checkout.one_page', { targeting_rules: { percentage: 25 } })
  await call('PUT', '/environments/development/flags/checkout.one_page', { enabled: true })
  await call('PUT', '/flags/checkout.one_page/overrides/customers/acme', { enabled: true })
  await call('PUT', '/flags/checkout.one_page/overrides/users/u-1042', { enabled: false })
  await call('POST', '/environments', { key: 'staging', name: 'Staging' })
}

async function shoot (page: Page, name: string, ready: () => Promise<unknown>): Promise<void> {
  await ready()
  await page.waitForLoadState('networkidle').catch(() => {})
  await page.screenshot({ path: join(OUT, `${name}.png`) })
  process.stdout.write(`docs/ui/${name}.png\n`)
}

const dir = mkdtempSync(join(tmpdir(), 'flagpost-screenshots-'))
const server = await startServer({ DATABASE_URL: `file:${join(dir, 'flagpost.db')}`, API_KEY: KEY, LOG_LEVEL: 'warn' }, join(dir, 'server.log'))
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
try {
  mkdirSync(OUT, { recursive: true })
  await seed(server.base)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  await context.addInitScript(`sessionStorage.setItem('flagpost.apiKey', ${JSON.stringify(KEY)})`)
  const page = await context.newPage()
  const at = async (path: string): Promise<void> => { await page.goto(`${server.base}/ui${path}`) }
  await at('/flags')
  await shoot(page, 'flags', () => page.locator('tr[data-flag="search.ranking"]').waitFor())
  await at('/flags/search.ranking?env=production&tab=targeting')
  await shoot(page, 'targeting', () => page.getByRole('tab', { name: 'Targeting' }).waitFor())
  await at('/flags/search.ranking?env=production&tab=why')
  await page.getByLabel('User id').fill('qa-1')
  await page.getByRole('button', { name: 'Evaluate' }).click()
  await shoot(page, 'why', () => page.getByText('TARGETING_MATCH').or(page.getByText('DEFAULT')).or(page.getByText('SPLIT')).first().waitFor())
  await at('/flags/checkout.one_page?env=production&tab=overrides')
  await shoot(page, 'overrides', () => page.getByRole('tab', { name: 'Overrides' }).waitFor())
  await at('/history')
  await shoot(page, 'history', () => page.getByRole('heading', { name: 'History' }).waitFor())
  await at('/environments')
  await shoot(page, 'environments', () => page.getByRole('heading', { name: 'Environments' }).waitFor())
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } })
  await phone.addInitScript(`sessionStorage.setItem('flagpost.apiKey', ${JSON.stringify(KEY)})`)
  const small = await phone.newPage()
  await small.goto(`${server.base}/ui/flags`)
  await shoot(small, 'flags-phone', () => small.locator('tr[data-flag="search.ranking"]').waitFor())
} finally {
  await browser.close()
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
}
