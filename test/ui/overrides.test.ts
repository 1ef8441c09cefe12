import t from 'tap'
import type { Page } from 'playwright-core'
import { accessible, boxOf, PHONE, withUi } from './support.js'

type Override = { subject: string, id: string, enabled: boolean, variant: string | null }
type OverrideList = { overrides: Override[], next_cursor: string | null }

/**
 * A flag's Overrides tab (SPEC §13, §2.3) in chromium: an editor sets, edits and clears a customer's and
 * a user's override (checked on the server), the list searches by id prefix and pages with "Load more"
 * over 250 overrides, refusals land on the field they name and write nothing, a viewer reads only.
 */
await withUi(t, async (ui) => {
  const colours = { type: 'string', variants: { blue: '#00f', green: '#0f0', grey: '#999' }, default_variant: 'blue', off_variant: 'grey' }
  await ui.api('POST', '/flags', { name: 'ov_colour', ...colours })
  await ui.api('POST', '/flags', { name: 'ov_refuse', ...colours })
  await ui.api('POST', '/flags', { name: 'ov_viewer' })
  await ui.api('PUT', '/flags/ov_viewer/overrides/customers/seen-by-viewer', { enabled: true })
  await ui.api('POST', '/flags', { name: 'ov_many' })
  // 150 customers and 100 users, straight through the service: the pages are what is tested, not the seeding.
  const subjects = ui.ctx.container.services.subjects
  const pad = (i: number): string => String(i).padStart(3, '0')
  for (let i = 0; i < 150; i++) await subjects.setOverride('production', 'ov_many', 'customer', `cust-${pad(i)}`, { enabled: i % 3 !== 0 }, { actor: 'seed' })
  for (let i = 0; i < 100; i++) await subjects.setOverride('production', 'ov_many', 'user', `user-${pad(i)}`, { enabled: i % 4 !== 0 }, { actor: 'seed' })

  const tab = (name: string, env = 'production'): string => `/flags/${name}?env=${env}&tab=overrides`
  const listed = async (name: string, query = '', env = 'production'): Promise<Override[]> =>
    (await ui.api<OverrideList>('GET', `/environments/${env}/flags/${name}/overrides?limit=1000${query}`)).overrides
      .map(({ subject, id, enabled, variant }) => ({ subject, id, enabled, variant }))
  const rows = (page: Page) => page.locator('tr[data-override]')
  const rowIds = async (page: Page): Promise<string[]> =>
    await page.evaluate<string[]>('[...document.querySelectorAll("tr[data-override]")].map((tr) => tr.getAttribute("data-override"))')
  /** Waits until the table shows exactly `n` rows (after a search or a page). */
  const showing = async (page: Page, n: number): Promise<void> => {
    await rows(page).nth(n - 1).waitFor()
    await rows(page).nth(n).waitFor({ state: 'detached' })
  }

  ui.test('set a customer\'s and a user\'s override, edit one, clear both (each confirmed); the server has exactly that', async (t) => {
    const page = await ui.open(t, { key: ui.keys.editor, path: tab('ov_colour') })
    const form = page.getByRole('form', { name: 'Set an override' })
    await page.getByText('No overrides in production.').waitFor()

    await form.getByLabel('Customer id').fill('acme')
    await form.getByRole('combobox', { name: 'Variant (optional)' }).click()
    await page.getByRole('option', { name: 'green' }).click()
    await form.getByRole('button', { name: 'Set override' }).click()
    const acme = page.locator('tr[data-override="customer:acme"]')
    await acme.waitFor()
    t.match(await acme.textContent(), /acme.*on.*green/, 'the row: customer acme, on, serving green')
    t.same(await listed('ov_colour'), [{ subject: 'customer', id: 'acme', enabled: true, variant: 'green' }])

    await form.getByRole('radio', { name: 'User' }).check()
    await form.getByRole('radio', { name: 'Off' }).check()
    t.equal(await form.getByRole('combobox', { name: 'Variant (optional)' }).inputValue(), '', 'the form starts over after a set (the subject and state stay)')
    await form.getByLabel('User id').fill('alice@example.com')
    await form.getByRole('button', { name: 'Set override' }).click()
    const alice = page.locator('tr[data-override="user:alice@example.com"]')
    await alice.waitFor()
    t.match(await alice.textContent(), /off.*grey \(off variant\)/, 'off: the off variant')
    t.match(await page.getByTestId('saved').textContent(), /user alice@example.com switched off/)
    t.same(await listed('ov_colour'), [
      { subject: 'customer', id: 'acme', enabled: true, variant: 'green' },
      { subject: 'user', id: 'alice@example.com', enabled: false, variant: null }
    ])
    t.same(await listed('ov_colour', '', 'development'), [], 'only in the environment shown')
    t.match(await ui.api('GET', '/environments/production/evaluate/ov_colour?user_id=alice@example.com'), { value: '#999', rule: 'user_override' })
    await accessible(t, page, 'overrides tab with rows')

    await page.getByRole('button', { name: 'Edit the override for user alice@example.com' }).click()
    t.equal(await form.getByLabel('User id').inputValue(), 'alice@example.com', 'Edit puts the override into the form')
    await form.getByRole('radio', { name: 'On' }).check()
    await form.getByRole('button', { name: 'Set override' }).click()
    await alice.getByText('blue (default)').waitFor()
    t.match((await listed('ov_colour', '&subject=user'))[0], { enabled: true, variant: null }, 'replaced, not added')

    await page.getByRole('button', { name: 'Clear the override for customer acme' }).click()
    const dialog = page.getByRole('dialog', { name: 'Clear the override?' })
    await dialog.waitFor()
    await accessible(t, page, 'clear confirmation')
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
    t.equal((await listed('ov_colour')).length, 2, 'cancel clears nothing')
    await page.getByRole('button', { name: 'Clear the override for customer acme' }).click()
    await dialog.getByRole('button', { name: 'Clear override' }).click()
    await acme.waitFor({ state: 'detached' })
    t.same((await listed('ov_colour')).map((o) => `${o.subject}:${o.id}`), ['user:alice@example.com'])
    await page.getByRole('button', { name: 'Clear the override for user alice@example.com' }).click()
    await dialog.getByRole('button', { name: 'Clear override' }).click()
    await page.getByText('No overrides in production.').waitFor()
    t.same(await listed('ov_colour'), [], 'both cleared on the server')
  })

  ui.test('250 overrides: pages of 100 with Load more; search by id prefix (debounced) pages within it; filters', async (t) => {
    const page = await ui.open(t, { key: ui.keys.editor, path: tab('ov_many') })
    await showing(page, 100)
    const all = (await listed('ov_many')).map((o) => `${o.subject}:${o.id}`)
    t.same(await rowIds(page), all.slice(0, 100), 'the first page, in the server\'s order')
    await page.getByRole('button', { name: 'Load more' }).click()
    await showing(page, 200)
    await page.getByRole('button', { name: 'Load more' }).click()
    await showing(page, 250)
    t.same(await rowIds(page), all, 'every override once, in order')
    t.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load')

    await page.getByLabel('Search by id').fill('cust-1')
    await showing(page, 50)
    t.same(await rowIds(page), all.filter((id) => id.startsWith('customer:cust-1')), 'ids that start with cust-1: cust-100 to cust-149')
    await page.getByLabel('Search by id').fill('cust-')
    await showing(page, 100)
    await page.getByRole('button', { name: 'Load more' }).click()
    await showing(page, 150)
    t.same(await rowIds(page), all.filter((id) => id.startsWith('customer:')), 'the cursor continues within the prefix')

    await page.getByLabel('Search by id').fill('user-0')
    await page.getByRole('combobox', { name: 'State' }).click()
    await page.getByRole('option', { name: 'Off', exact: true }).click()
    const expected = (await listed('ov_many', '&q=user-0&state=disabled')).map((o) => `${o.subject}:${o.id}`)
    t.equal(expected.length, 25, 'user-000 to user-099, every fourth off')
    await showing(page, expected.length)
    t.same(await rowIds(page), expected)
    await page.getByRole('combobox', { name: 'Subject' }).click()
    await page.getByRole('option', { name: 'Customers', exact: true }).click()
    await page.getByText('No override matches.').waitFor()
    await page.getByLabel('Search by id').fill('%')
    await page.getByText('No override matches.').waitFor()
    t.equal(await rows(page).count(), 0, '% is no wildcard')
    await accessible(t, page, 'overrides filtered to nothing')
  })

  ui.test('refusals: a bad id and a variant the flag no longer has are shown on their field, and nothing is written', async (t) => {
    const page = await ui.open(t, { key: ui.keys.editor, path: tab('ov_refuse') })
    const form = page.getByRole('form', { name: 'Set an override' })
    await page.getByText('No overrides in production.').waitFor()
    await form.getByLabel('Customer id').fill('not an id!')
    await form.getByRole('button', { name: 'Set override' }).click()
    await form.getByRole('alert').waitFor()
    t.equal(await form.getByLabel('Customer id').getAttribute('aria-invalid'), 'true', 'the id field carries the refusal')
    t.match(await form.textContent(), /must be 1 to 256 characters: letters, digits/, 'the rule, in words')
    await accessible(t, page, 'a refused id')

    await form.getByLabel('Customer id').fill('globex')
    await form.getByRole('combobox', { name: 'Variant (optional)' }).click()
    await page.getByRole('option', { name: 'green' }).click()
    await ui.api('PUT', '/flags/ov_refuse', { variants: { green: null } }) // someone else removes it meanwhile
    await form.getByRole('button', { name: 'Set override' }).click()
    await form.getByText(/not one of/).first().waitFor()
    t.equal(await form.getByRole('combobox', { name: 'Variant (optional)' }).getAttribute('aria-invalid'), 'true', 'the variant field carries the refusal')
    t.same(await listed('ov_refuse'), [], 'no override written')
    const customers = await ui.api<{ customers: Array<{ id: string }> }>('GET', '/customers?limit=1000')
    t.same(customers.customers.filter((c) => c.id === 'globex' || c.id === 'not an id!'), [], 'nobody registered')
  })

  ui.test('a viewer reads the overrides, with the form disabled and the reason', async (t) => {
    const page = await ui.open(t, { key: ui.keys.viewer, path: tab('ov_viewer') })
    await page.locator('tr[data-override="customer:seen-by-viewer"]').waitFor()
    t.match(await page.getByTestId('read-only').textContent(), /Read-only: you are signed in with a viewer key/)
    const form = page.getByRole('form', { name: 'Set an override' })
    t.ok(await form.getByRole('button', { name: 'Set override' }).isDisabled(), 'Set is disabled')
    t.ok(await form.getByLabel('Customer id').isDisabled(), 'so are the inputs')
    t.equal(await page.getByRole('button', { name: /Clear the override/ }).count(), 0, 'no Clear')
    t.equal(await page.getByRole('button', { name: /Edit the override/ }).count(), 0, 'no Edit')
    await accessible(t, page, 'overrides as a viewer')
  })

  ui.test('at 390×844 the tab fits the screen and the table scrolls inside it', async (t) => {
    const page = await ui.open(t, { key: ui.keys.editor, viewport: PHONE, path: tab('ov_many') })
    await showing(page, 100)
    t.ok((await boxOf(page, 'form[aria-label="Set an override"]')).right <= PHONE.width, 'the form fits')
    t.ok((await boxOf(page, 'button[aria-label="Clear the override for customer cust-000"]')).left >= 0, 'the actions are reachable')
    t.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling of the page')
    await accessible(t, page, 'overrides at phone size')
  })
})
