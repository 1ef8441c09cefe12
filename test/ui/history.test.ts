import t from 'tap'
import type { Page } from 'playwright-core'
import { until } from '../support/until.js'
import { accessible, PHONE, withUi } from './support.js'

/**
 * The admin UI's history (SPEC §11, §13) in chromium: the change log with who, when, what and a readable
 * diff, its filters and paging, new changes appearing while it is open, a flag's history tab with
 * "Revert to this" (and the server's refusal in words), read-only for viewers, on a phone too.
 */

interface Change { revision: number, at: string, actor: string, action: string, environment: string | null, flag: string | null }
interface ChangeList { changes: Change[], next_cursor: string | null }

/** In the page: the entries it shows, newest first, by revision. */
const SHOWN = '[...document.querySelectorAll(\'li[data-revision]\')].map((li) => Number(li.dataset.revision))'
const shown = async (page: Page): Promise<number[]> => await page.evaluate<number[]>(SHOWN)
/**
 * The entries the page shows once it shows `want` (at most 10 s): a filter's list is cleared while it
 * loads, so the old entries leaving does not mean the new ones have come. A mismatch still shows the diff,
 * and `how` says how the wait ended and at which address (a label for the assertion).
 */
async function shownAfterLoading (page: Page, want: number[]): Promise<{ entries: number[], how: string }> {
  const started = Date.now()
  const same = (entries: number[]): boolean => JSON.stringify(entries) === JSON.stringify(want)
  // Polled from here, not by page.waitForFunction: that evaluates a string again at each of its polls in the
  // page, outside the DevTools call, and the page's CSP (script-src 'self') refuses eval there.
  let entries: number[] = []
  await until(async () => same(entries = await shown(page)), 10_000, 20).catch(() => {})
  return { entries, how: `${same(entries) ? 'shown' : 'not shown within 10 s'} after ${Date.now() - started} ms, at ${new URL(page.url()).search}` }
}
const revisions = (list: ChangeList): number[] => list.changes.map((c) => c.revision)
/** One entry of the page, by revision. */
const entry = (page: Page, revision: number) => page.locator(`li[data-revision="${revision}"]`)

await withUi(t, async (ui) => {
  const latest = async (query = ''): Promise<Change> => (await ui.api<ChangeList>('GET', `/changes?limit=1${query}`)).changes[0]

  await ui.api('POST', '/flags', { name: 'checkout', description: 'The one-page checkout' })
  const created = await latest()
  await ui.api('PUT', '/flags/checkout', { targeting_rules: { percentage: 25, user_ids: ['alice', 'bob'] } })
  const targeted = await latest()
  await ui.api('PUT', '/flags/checkout', { enabled: false }, ui.keys.editor)
  const turnedOff = await latest()
  await ui.api('POST', '/flags', { name: 'banner', type: 'string', variants: { red: 'R', blue: 'B' }, default_variant: 'red', off_variant: 'blue' })
  await ui.api('PUT', '/flags/banner', { variants: { red: 'RR' } })
  const recoloured = await latest()
  await ui.api('PUT', '/environments/development/flags/checkout', { enabled: true })
  await ui.api('PUT', '/flags/checkout/overrides/users/u1', { enabled: true })
  await ui.api('POST', '/flags', { name: 'old.flag', type: 'number', default_value: 7 })
  await ui.api('DELETE', '/flags/old.flag')
  const deleted = await latest()

  ui.test('the timeline says who, when and what, with a readable diff of each update', async (t) => {
    const page = await ui.open(t, { path: '/history' })
    await entry(page, targeted.revision).waitFor()

    const percentage = entry(page, targeted.revision)
    t.match(await percentage.getByTestId('what').textContent(), /^env-key:\S+ changed targeting$/, 'who and what, in words')
    t.match(await percentage.locator('[data-field="targeting_rules.percentage"]').textContent(), /Percentage\s*100\s*→\s*to\s*25/, 'percentage 100 → 25')
    t.match(await percentage.locator('[data-field="targeting_rules.user_ids"]').getByTestId('added').textContent(), /added\s*"alice"\s*"bob"/, 'a list: the items added')
    const time = percentage.locator('time')
    t.equal(await time.getAttribute('datetime'), targeted.at, 'when, exactly, in the element')
    t.match(await time.textContent(), /just now|minute/, 'when, relative')
    t.ok(((await time.getAttribute('title')) ?? '').length > 0, 'the exact time as its title')
    t.equal(await percentage.getByRole('link', { name: 'checkout' }).getAttribute('href'), '/ui/flags/checkout?env=production', 'the flag, linked to its page in that environment')
    t.match(await percentage.textContent(), /in\s*production/)

    const off = entry(page, turnedOff.revision)
    t.equal(await off.getByTestId('what').textContent(), 'ui-editor turned off')
    t.match(await off.locator('[data-field="enabled"]').textContent(), /true\s*→\s*to\s*false/, 'enabled true → false')

    const variant = entry(page, recoloured.revision)
    t.match(await variant.locator('[data-field="variants.red"]').textContent(), /"R"\s*→\s*to\s*"RR"/, 'a variant\'s value, before → after')
    t.match(await variant.getByTestId('what').textContent(), /changed variants/)

    const creation = entry(page, created.revision)
    t.match(await creation.getByTestId('what').textContent(), /created the flag/)
    await creation.getByText(/What was created/).click()
    t.match(await creation.locator('[data-field="description"]').textContent(), /"The one-page checkout"/, 'a creation shows what was created')
    const override = page.locator('li[data-action="override.set"]')
    t.match(await override.getByTestId('what').textContent(), /set an override for user u1$/)
    t.match(await override.getByTestId('snapshot').textContent(), /On\/off\s*true/, 'an override set: its state, not again whose it is')
    const deletion = entry(page, deleted.revision)
    t.match(await deletion.getByTestId('what').textContent(), /deleted the flag$/)
    await deletion.getByText(/What was deleted/).click()
    t.match(await deletion.locator('[data-field="default_value"]').textContent(), /Value when on\s*7/, 'a deletion shows what was deleted')
    await accessible(t, page, 'history page')
  })

  ui.test('filters narrow the list: flag, environment, kind of change', async (t) => {
    const page = await ui.open(t, { path: '/history' })
    await entry(page, created.revision).waitFor()

    await page.getByLabel('Flag').fill('banner')
    await entry(page, created.revision).waitFor({ state: 'detached' })
    await page.waitForURL(/\/ui\/history\?flag=banner$/)
    const banner = await ui.api<ChangeList>('GET', '/changes?flag=banner')
    const bannerShown = await shownAfterLoading(page, revisions(banner))
    t.same(bannerShown.entries, revisions(banner), `the flag's changes, as the server lists them (${bannerShown.how})`)
    // The filters live in the address: the navigation's link to the page clears them, the field too.
    await page.getByRole('link', { name: 'History' }).click()
    await entry(page, created.revision).waitFor()
    t.equal(await page.getByLabel('Flag').inputValue(), '', 'the field follows the address')

    await page.getByRole('combobox', { name: 'Environment' }).click()
    await page.getByRole('option', { name: 'development' }).click()
    await entry(page, created.revision).waitFor({ state: 'detached' })
    const development = await ui.api<ChangeList>('GET', '/changes?environment=development')
    const developmentShown = await shownAfterLoading(page, revisions(development))
    t.same(developmentShown.entries, revisions(development), `the environment's changes (${developmentShown.how})`)
    t.ok(development.changes.length > 0)
    await page.getByRole('combobox', { name: 'Environment' }).click()
    await page.getByRole('option', { name: 'development' }).click()
    await page.waitForURL((url) => !url.searchParams.has('env'))
    t.equal(await page.getByRole('combobox', { name: 'Environment' }).inputValue(), '', 'chosen again, the environment is cleared')

    await page.getByRole('combobox', { name: 'Kind of change' }).click()
    await page.getByRole('option', { name: 'Overrides' }).click()
    await page.waitForURL(/action=override/)
    t.equal(new URL(page.url()).search, '?action=override', 'that filter alone')
    await page.locator('li[data-action="flag.create"]').first().waitFor({ state: 'detached' })
    const overrides = await ui.api<ChangeList>('GET', '/changes?action=override')
    const overridesShown = await shownAfterLoading(page, revisions(overrides))
    t.same(overridesShown.entries, revisions(overrides), `only override changes (${overridesShown.how})`)

    await page.getByLabel('Flag').fill('no such flag')
    await page.getByText('Could not load the changes').waitFor()
    t.match(await page.getByRole('alert').first().textContent(), /flag/i, 'a refused filter is said in words')
    await accessible(t, page, 'history page with filters and a refused one')
  })

  ui.test('"Load more" pages through more than a page of changes', async (t) => {
    await ui.api('POST', '/flags', { name: 'pager', type: 'number', default_value: 0 })
    for (let i = 1; i <= 24; i++) await ui.api('PUT', '/flags/pager', { default_value: i })
    const all = await ui.api<ChangeList>('GET', '/changes?flag=pager&limit=100')
    t.equal(all.changes.length, 25)
    const page = await ui.open(t, { path: '/history?flag=pager' })
    await entry(page, all.changes[0].revision).waitFor()
    t.same(await shown(page), all.changes.slice(0, 20).map((c) => c.revision), 'the first page: the newest 20')
    await page.getByRole('button', { name: 'Load more' }).click()
    await entry(page, all.changes[24].revision).waitFor()
    t.same(await shown(page), all.changes.map((c) => c.revision), 'then the rest, once each, in order')
    t.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load')
    t.match(await entry(page, all.changes[0].revision).locator('[data-field="default_value"]').textContent(), /23\s*→\s*to\s*24/)
  })

  ui.test('a change made elsewhere appears at the top without a reload; the older pages stay', async (t) => {
    const page = await ui.open(t, { path: '/history?flag=pager' })
    const before = await ui.api<ChangeList>('GET', '/changes?flag=pager&limit=100')
    await entry(page, before.changes[0].revision).waitFor()
    await page.getByRole('button', { name: 'Load more' }).click()
    await entry(page, before.changes[24].revision).waitFor()
    await page.getByTestId('live').getByText('Live').waitFor()
    const requests: string[] = []
    page.on('request', (request) => { if (request.url().includes('/changes?')) requests.push(request.url()) })

    await ui.api('PUT', '/flags/pager', { default_value: 99 }, ui.keys.editor)
    const made = await latest('&flag=pager')
    await entry(page, made.revision).waitFor()
    t.same(await shown(page), [made.revision, ...before.changes.map((c) => c.revision)], 'the new change on top, every older one still there')
    t.match(await entry(page, made.revision).getByTestId('what').textContent(), /^ui-editor changed variants$/)
    t.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'and still nothing more to load')
    t.ok(requests.length > 0, 'the first page was read again')
    t.same(requests.filter((url) => url.includes('cursor=')), [], 'the older pages were not: they cannot have changed')

    // A change another filter excludes does not appear.
    await ui.api('PUT', '/flags/banner', { enabled: false })
    const other = await latest()
    await ui.api('PUT', '/flags/pager', { default_value: 100 })
    const next = await latest()
    await entry(page, next.revision).waitFor()
    t.equal(await entry(page, other.revision).count(), 0, 'another flag\'s change is not shown under this filter')
  })

  ui.test('revert from a flag\'s history tab: confirmed, served as at that revision, recorded on top', async (t) => {
    await ui.api('POST', '/flags', { name: 'theme', type: 'string', variants: { red: 'R', blue: 'B', green: 'G' }, default_variant: 'red', off_variant: 'blue' })
    const good = await latest()
    await ui.api('PUT', '/flags/theme', { default_variant: 'green', targeting_rules: { user_ids: ['vip'], percentage: 10 } })
    await ui.api('PUT', '/flags/theme/overrides/users/u9', { enabled: false })
    await ui.api('PUT', '/flags/theme', { enabled: false })
    const page = await ui.open(t, { key: ui.keys.editor, path: '/flags/theme?env=production&tab=history' })
    await entry(page, good.revision).waitFor()
    t.equal(await page.locator('li[data-action="override.set"]').getByRole('button').count(), 0, 'an override change is not a state of the flag: no revert')

    await entry(page, good.revision).getByRole('button', { name: /^Revert to this/ }).click()
    const dialog = page.getByRole('dialog', { name: `Revert to revision ${good.revision}` })
    t.match(await dialog.textContent(), `Serve theme in production as it was at revision ${good.revision}`, 'says what will happen')
    await accessible(t, page, 'revert dialog')
    await dialog.getByRole('button', { name: 'Revert', exact: true }).click()
    await dialog.waitFor({ state: 'detached' })

    const reverted = await latest()
    t.match(reverted, { action: 'flag.revert', actor: 'ui-editor', flag: 'theme', environment: 'production' })
    await entry(page, reverted.revision).waitFor()
    t.equal((await shown(page))[0], reverted.revision, 'the revert, on top of the history')
    t.equal(await entry(page, reverted.revision).getByTestId('what').textContent(), `ui-editor reverted it to revision ${good.revision}`)
    t.match(await page.getByTestId('reverted').textContent(), `theme is served in production as it was at revision ${good.revision}`)
    const flag = await ui.api('GET', '/flags/theme')
    t.match(flag, { enabled: true, default_variant: 'red', off_variant: 'blue', targeting_rules: { user_ids: [], percentage: 100 } }, 'the server serves it as then')
    await accessible(t, page, 'flag history tab after a revert')

    // Reverting to the state it is in already writes nothing, and says so.
    await entry(page, reverted.revision).getByRole('button', { name: /^Revert to this/ }).click()
    await page.getByRole('dialog', { name: `Revert to revision ${reverted.revision}` }).getByRole('button', { name: 'Revert', exact: true }).click()
    await page.getByTestId('reverted').getByText(`theme was already served in production as at revision ${reverted.revision}: nothing changed`).waitFor()
    t.equal((await latest()).revision, reverted.revision, 'nothing recorded')
  })

  ui.test('a revert the flag no longer allows is refused in words, and nothing is written', async (t) => {
    await ui.api('POST', '/flags', { name: 'plan', type: 'string', variants: { basic: 'b', pro: 'p', plus: '+' }, default_variant: 'pro', off_variant: 'basic' })
    const proDefault = await latest()
    // Variants are shared by the environments: development stops serving `pro` too before it goes.
    await ui.api('PUT', '/flags/plan', { default_variant: 'plus' })
    await ui.api('PUT', '/environments/development/flags/plan', { default_variant: 'plus' })
    await ui.api('PUT', '/flags/plan', { variants: { pro: null } })
    const flagBefore = await ui.api('GET', '/flags/plan')
    const revisionBefore = (await latest()).revision

    const page = await ui.open(t, { path: '/flags/plan?env=production&tab=history' })
    await entry(page, proDefault.revision).getByRole('button', { name: /^Revert to this/ }).click()
    const dialog = page.getByRole('dialog', { name: `Revert to revision ${proDefault.revision}` })
    await dialog.getByRole('button', { name: 'Revert', exact: true }).click()
    const alert = dialog.getByRole('alert')
    await alert.waitFor()
    t.match(await alert.textContent(), /The flag was not reverted.*cannot be served as it was at revision \d+ with the variants it has now \(basic, plus\)/, 'the server\'s reason, in words')
    await accessible(t, page, 'revert refused')
    t.same(await ui.api('GET', '/flags/plan'), flagBefore, 'the flag is unchanged')
    t.equal((await latest()).revision, revisionBefore, 'nothing recorded')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
  })

  ui.test('a viewer reads a flag\'s history but has no revert, and is told why', async (t) => {
    const page = await ui.open(t, { key: ui.keys.viewer, path: '/flags/checkout?env=production&tab=history' })
    await entry(page, targeted.revision).waitFor()
    t.equal(await page.getByRole('button', { name: /Revert/ }).count(), 0, 'no revert')
    t.match(await page.getByTestId('read-only').textContent(), /Read-only: you are signed in with a viewer key\. Reverting needs an editor or admin key covering production/)
    t.match(await entry(page, turnedOff.revision).locator('[data-field="enabled"]').textContent(), /true\s*→\s*to\s*false/, 'the same readable diffs')
    await accessible(t, page, 'flag history, read-only')
  })

  ui.test('a page whose code cannot be loaded says so in words; the navigation and the other pages still work', async (t) => {
    const page = await ui.open(t)
    await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor()
    // The history page is a chunk of its own, fetched when first opened: here it never arrives.
    await page.route('**/ui/assets/ChangesPage-*.js', (route) => route.abort())
    await page.getByRole('link', { name: 'History' }).click()
    const failure = page.getByTestId('page-error')
    await failure.waitFor()
    t.match(await failure.textContent(), /This page could not be loaded.*Reloading fetches it again/, 'the failure in words')
    t.ok(await page.getByRole('button', { name: 'Reload' }).isVisible(), 'with a way to retry')
    await accessible(t, page, 'a page that could not be loaded')
    await page.getByRole('link', { name: 'Flags' }).click()
    await page.getByRole('heading', { name: 'Flags', exact: true }).waitFor()
    t.equal(await failure.count(), 0, 'another page is shown again')
  })

  ui.test('at 390×844 the history page and a flag\'s history tab fit the screen', async (t) => {
    const fits = async (page: Page): Promise<boolean> => await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')
    const page = await ui.open(t, { viewport: PHONE, path: '/history?flag=checkout' })
    await entry(page, targeted.revision).waitFor()
    t.ok(await fits(page), 'no sideways scrolling on the history page')
    await accessible(t, page, 'history page on a phone')
    await page.goto(`${ui.baseUrl}/ui/flags/checkout?env=production&tab=history`)
    await entry(page, targeted.revision).getByRole('button', { name: /^Revert to this/ }).click()
    const dialog = page.getByRole('dialog', { name: `Revert to revision ${targeted.revision}` })
    await dialog.getByRole('button', { name: 'Cancel' }).waitFor()
    t.ok(await fits(page), 'no sideways scrolling on the history tab, dialog open')
    const box = await dialog.boundingBox()
    t.ok(box !== null && box.x >= 0 && box.x + box.width <= PHONE.width, 'the dialog within the screen')
    await accessible(t, page, 'revert dialog on a phone')
  })
})
