import t from 'tap'
import { accessible, boxOf, kept, PHONE, withUi } from './support.js'

/**
 * The admin UI's sign-in and flag list (SPEC §13) in chromium: the key stays in session storage, the
 * UI follows the key's role, the list searches, filters by tag and shows each environment's state, and a
 * flag of each type is created from the page (with the server's refusals shown on the field they name).
 */
await withUi(t, async (ui) => {
  await ui.api('POST', '/flags', { name: 'checkout.new_flow', description: 'The one-page checkout', tags: ['checkout', 'web'] })
  await ui.api('POST', '/flags', { name: 'search.ranking', type: 'string', default_value: 'bm25', off_value: 'classic', tags: ['search'] })
  await ui.api('PUT', '/environments/development/flags/search.ranking', { enabled: true })

  ui.test('sign-in: the key goes to session storage only, survives a reload, and sign-out forgets it', async (t) => {
    const page = await ui.open(t, { key: null })
    await accessible(t, page, 'sign-in page')
    await page.getByLabel('API key').fill(ui.keys.editor)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Sign out' }).waitFor()
    t.equal(await page.getByTestId('signed-in-as').textContent(), 'ui-editor · editor')
    t.notMatch(page.url(), ui.keys.editor, 'never in the URL')
    const stored = await kept(page)
    t.same(stored.session, { 'flagpost.apiKey': ui.keys.editor }, 'the key, in session storage')
    t.same([stored.local, stored.cookies], [0, ''], 'nothing in local storage or cookies')
    await page.reload()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API key').waitFor()
    t.same((await kept(page)).session, {}, 'forgotten')
  })

  ui.test('sign-in refusals are shown in words: a client key, a wrong key', async (t) => {
    const page = await ui.open(t, { key: null })
    await page.getByLabel('API key').fill(ui.keys.client)
    await page.getByRole('button', { name: 'Sign in' }).click()
    t.match(await page.getByRole('alert').textContent(), /client key: it can only evaluate flags/)
    await page.getByLabel('API key').fill('fp_admin_not-a-real-key-at-all-0000000000000000')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByText('This API key is not valid').waitFor()
    t.same((await kept(page)).session, {}, 'nothing kept')
  })

  ui.test('the list: each flag\'s state in every environment, search, tag filter', async (t) => {
    const page = await ui.open(t)
    const row = (name: string) => page.locator(`tr[data-flag="${name}"]`)
    await row('search.ranking').waitFor()
    t.equal(await row('checkout.new_flow').locator('td[data-env="production"]').textContent(), 'on')
    t.equal(await row('checkout.new_flow').locator('td[data-env="development"]').textContent(), 'off')
    t.equal(await row('search.ranking').locator('td[data-env="development"]').textContent(), 'on')
    await accessible(t, page, 'flag list')

    await page.getByLabel('Search').fill('one-page')
    await row('search.ranking').waitFor({ state: 'detached' })
    await row('checkout.new_flow').waitFor()
    t.equal(await page.locator('tr[data-flag]').count(), 1, 'search matches the description')
    await page.getByLabel('Search').fill('')
    await row('search.ranking').waitFor()
    await page.getByRole('combobox', { name: 'Tag' }).click()
    await page.getByRole('option', { name: 'search' }).click()
    await row('checkout.new_flow').waitFor({ state: 'detached' })
    await row('search.ranking').waitFor()
    t.equal(await page.locator('tr[data-flag]').count(), 1, 'filtered by tag')
  })

  ui.test('create a flag of each type; a refused name is shown on its field and nothing is created', async (t) => {
    const page = await ui.open(t)
    const create = async (name: string, type: string, on?: string, off?: string): Promise<void> => {
      await page.goto(`${ui.baseUrl}/ui/flags`)
      await page.getByRole('button', { name: 'New flag' }).click()
      const dialog = page.getByRole('dialog', { name: 'New flag' })
      await dialog.getByLabel('Name').fill(name)
      await dialog.getByText(type, { exact: true }).click()
      if (on !== undefined) await dialog.getByLabel('Value when on').fill(on)
      if (off !== undefined) await dialog.getByLabel('Value when off').fill(off)
      await dialog.getByRole('button', { name: 'Create' }).click()
    }
    await create('ui.bool', 'boolean')
    await page.waitForURL(/\/ui\/flags\/ui\.bool$/)
    await create('ui.string', 'string', 'blue', 'grey')
    await page.waitForURL(/\/ui\/flags\/ui\.string$/)
    await create('ui.number', 'number', '12.5', '0')
    await page.waitForURL(/\/ui\/flags\/ui\.number$/)
    await create('ui.json', 'json', '{"limit": 3}', '{}')
    await page.waitForURL(/\/ui\/flags\/ui\.json$/)
    const made = await Promise.all(['ui.bool', 'ui.string', 'ui.number', 'ui.json'].map((n) => ui.api<{ type: string, default_value: unknown }>('GET', `/flags/${n}`)))
    t.same(made.map((f) => [f.type, f.default_value]), [['boolean', true], ['string', 'blue'], ['number', 12.5], ['json', { limit: 3 }]])

    await create('no spaces allowed', 'boolean')
    const dialog = page.getByRole('dialog', { name: 'New flag' })
    await dialog.getByRole('alert').waitFor()
    t.match(await dialog.getByLabel('Name').getAttribute('aria-invalid'), 'true', 'the name field carries the refusal')
    await accessible(t, page, 'new-flag dialog with an error')
    const list = await ui.api<{ flags: Array<{ name: string }> }>('GET', '/flags?q=spaces')
    t.same(list.flags, [], 'nothing created')
  })

  ui.test('a viewer gets a read-only list, with the reason', async (t) => {
    const page = await ui.open(t, { key: ui.keys.viewer })
    await page.locator('tr[data-flag]').first().waitFor()
    t.ok(await page.getByRole('button', { name: 'New flag' }).isDisabled())
    t.match(await page.getByTestId('read-only').textContent(), /Read-only: you are signed in with a viewer key/)
    t.equal(await page.getByRole('link', { name: 'API keys' }).count(), 0, 'no admin pages in the navigation')
  })

  ui.test('at 390×844 the navigation is a menu and the list still reads', async (t) => {
    const page = await ui.open(t, { viewport: PHONE })
    await page.locator('tr[data-flag="search.ranking"]').waitFor()
    t.ok((await boxOf(page, 'nav a[href="/ui/history"]')).right <= 0, 'navigation off-screen')
    await page.getByRole('button', { name: 'Navigation' }).click()
    await page.getByRole('link', { name: 'History' }).click()
    await page.waitForURL(/\/ui\/history$/)
    await accessible(t, page, 'phone layout')
  })

  ui.test('live: a change someone else makes shows on the open list without a reload', async (t) => {
    const page = await ui.open(t)
    await page.getByTestId('live').getByText('Live').waitFor()
    const cell = page.locator('tr[data-flag="checkout.new_flow"] td[data-env="development"]')
    await cell.getByText('off', { exact: true }).waitFor() // each environment's column loads on its own
    await page.evaluate('window.__notReloaded = true')
    await ui.api('PUT', '/environments/development/flags/checkout.new_flow', { enabled: true }, ui.keys.editor)
    await cell.getByText('on', { exact: true }).waitFor()
    t.equal(await page.evaluate('window.__notReloaded'), true, 'the same page, not reloaded')
    await ui.api('POST', '/flags', { name: 'made.elsewhere' })
    await page.locator('tr[data-flag="made.elsewhere"]').waitFor()
    t.pass('a flag created elsewhere appears')
  })

  ui.test('keyboard only: sign in, open the new-flag dialog, create, and Escape closes a dialog', async (t) => {
    const page = await ui.open(t, { key: null })
    // The key field has the focus once the page has drawn it (typing earlier, on a loaded machine, went nowhere).
    await page.getByLabel('API key').waitFor()
    // A locator, not page.waitForFunction on a string, which the page's CSP refuses to eval after its first poll.
    await page.locator('input:focus').waitFor()
    await page.keyboard.type(ui.keys.editor)
    await page.keyboard.press('Enter')
    const create = page.getByRole('button', { name: 'New flag' })
    await create.waitFor()
    for (let i = 0; i < 40 && await page.evaluate('document.activeElement?.textContent') !== 'New flag'; i++) await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    await page.getByRole('dialog', { name: 'New flag' }).waitFor()
    await page.keyboard.type('typed.by.keyboard') // the name field has the focus
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/ui\/flags\/typed\.by\.keyboard/)
    t.equal((await ui.api<{ name: string }>('GET', '/flags/typed.by.keyboard')).name, 'typed.by.keyboard')
    await page.goto(`${ui.baseUrl}/ui/flags`)
    await create.click()
    await page.getByRole('dialog', { name: 'New flag' }).waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('dialog', { name: 'New flag' }).waitFor({ state: 'detached' })
    t.pass('Escape closed the dialog')
  })
})
