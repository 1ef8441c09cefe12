import t from 'tap'
import { accessible, boxOf, PHONE, withUi } from './support.js'

interface Customer { id: string, name: string | null }
interface User { id: string, customer_id: string | null }

/**
 * The customers and users pages (SPEC §2.3, §13) in chromium: created and deleted from the page (a
 * refused id shown on its field), a customer's flags per environment, users filtered by customer,
 * "Load more" past the first page, and read-only with the reason for a viewer.
 */
await withUi(t, async (ui) => {
  await ui.api('POST', '/flags', { name: 'cust.beta', targeting_rules: { percentage: 0 } })
  await ui.api('POST', '/flags', { name: 'cust.everyone' })
  await ui.api('POST', '/customers', { id: 'acme', name: 'Acme Corp' })
  await ui.api('PUT', '/flags/cust.beta/overrides/customers/acme', { enabled: true })
  await ui.api('POST', '/users', { id: 'alice', customer_id: 'acme' })
  await ui.api('POST', '/users', { id: 'zed' })

  const customers = async (): Promise<Customer[]> => (await ui.api<{ customers: Customer[] }>('GET', '/customers?limit=1000')).customers
  const users = async (): Promise<User[]> => (await ui.api<{ users: User[] }>('GET', '/users?limit=1000')).users

  ui.test('create and delete a customer; a refused id is shown on its field and nothing is created', async (t) => {
    const page = await ui.open(t, { path: '/customers' })
    await page.locator('tr[data-customer="acme"]').waitFor()
    await accessible(t, page, 'customers page')

    await page.getByRole('button', { name: 'New customer' }).click()
    const dialog = page.getByRole('dialog', { name: 'New customer' })
    await dialog.getByLabel('Id').fill('no spaces')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.getByRole('alert').waitFor()
    t.equal(await dialog.getByLabel('Id').getAttribute('aria-invalid'), 'true', 'the id field carries the refusal')
    await accessible(t, page, 'new-customer dialog with a refusal')
    t.notOk((await customers()).some((c) => c.id === 'no spaces'), 'nothing created')

    await dialog.getByLabel('Id').fill('acme')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.getByText('already exists').first().waitFor()
    t.equal(await dialog.getByLabel('Id').getAttribute('aria-invalid'), 'true', 'a taken id is refused on the field too')

    await dialog.getByLabel('Id').fill('globex')
    await dialog.getByLabel('Name').fill('Globex')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.waitFor({ state: 'detached' })
    await page.locator('tr[data-customer="globex"]', { hasText: 'Globex' }).waitFor()
    t.match(await customers(), [{ id: 'acme' }, { id: 'globex', name: 'Globex' }], 'created on the server')

    await ui.api('POST', '/users', { id: 'gus', customer_id: 'globex' })
    await ui.api('PUT', '/flags/cust.beta/overrides/customers/globex', { enabled: true })
    await page.getByRole('button', { name: 'Delete globex' }).click()
    const confirm = page.getByRole('dialog', { name: 'Delete customer globex' })
    t.match(await confirm.textContent(), /overrides, in every environment, are deleted too\. Its users stay/, 'told what goes and what stays')
    await accessible(t, page, 'delete-customer dialog')
    await confirm.getByRole('button', { name: 'Delete customer' }).click()
    await page.locator('tr[data-customer="globex"]').waitFor({ state: 'detached' })
    t.notOk((await customers()).some((c) => c.id === 'globex'), 'deleted on the server')
    t.match((await users()).find((u) => u.id === 'gus'), { customer_id: null }, 'its user stays, without a customer')
    const overrides = await ui.api<{ overrides: Array<{ id: string }> }>('GET', '/flags/cust.beta/overrides')
    t.same(overrides.overrides.map((o) => o.id), ['acme'], 'its override went too')
  })

  ui.test('a customer\'s flags in each environment, and a way to its users', async (t) => {
    const page = await ui.open(t, { path: '/customers' })
    await page.getByRole('button', { name: 'Flags of acme' }).click()
    const drawer = page.getByRole('dialog', { name: 'Customer acme' })
    await drawer.locator('tr[data-flag="cust.beta"]').waitFor()
    t.match(await drawer.locator('tr[data-flag="cust.beta"]').textContent(), /on: true.*Customer override/)
    t.match(await drawer.locator('tr[data-flag="cust.everyone"]').textContent(), /Everyone \(fallthrough\)/)
    const served = await ui.api<{ flags: Array<{ name: string }> }>('GET', '/customers/acme/flags')
    t.same(served.flags.map((f) => f.name), ['cust.beta', 'cust.everyone'], 'what the API says')
    await accessible(t, page, 'customer drawer')

    await drawer.getByRole('combobox', { name: 'Environment' }).click()
    await page.getByRole('option', { name: 'Development' }).click()
    await drawer.getByTestId('no-flags').waitFor()
    t.match(await drawer.getByTestId('no-flags').textContent(), /No flag is on for this customer in development/)

    await drawer.getByRole('link', { name: 'Users of this customer' }).click()
    await page.waitForURL(/\/ui\/users\?customer=acme$/)
    await page.locator('tr[data-user="alice"]').waitFor()
    t.equal(await page.locator('tr[data-user]').count(), 1, 'only acme\'s users')
    t.equal(await page.getByLabel('Customer', { exact: true }).inputValue(), 'acme')
  })

  ui.test('create and delete a user of a customer; users filtered by customer', async (t) => {
    const page = await ui.open(t, { path: '/users' })
    await page.locator('tr[data-user="zed"]').waitFor()
    await accessible(t, page, 'users page')
    await page.getByRole('button', { name: 'New user' }).click()
    const dialog = page.getByRole('dialog', { name: 'New user' })
    await dialog.getByLabel('Id').fill('bob')
    await dialog.getByLabel('Customer').fill('initech')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.waitFor({ state: 'detached' })
    await page.locator('tr[data-user="bob"]', { hasText: 'initech' }).waitFor()
    t.match((await users()).find((u) => u.id === 'bob'), { customer_id: 'initech' }, 'created on the server')
    t.ok((await customers()).some((c) => c.id === 'initech'), 'its unknown customer registered too')

    await page.getByLabel('Customer', { exact: true }).fill('initech')
    await page.waitForURL(/customer=initech$/)
    await page.locator('tr[data-user="zed"]').waitFor({ state: 'detached' })
    t.equal(await page.locator('tr[data-user]').count(), 1, 'filtered by customer')

    await page.getByRole('button', { name: 'Delete bob' }).click()
    const confirm = page.getByRole('dialog', { name: 'Delete user bob' })
    await confirm.getByRole('button', { name: 'Delete user' }).click()
    await page.getByTestId('empty').waitFor()
    t.match(await page.getByTestId('empty').textContent(), 'No users of customer initech.')
    t.notOk((await users()).some((u) => u.id === 'bob'), 'deleted on the server')
  })

  ui.test('more than one page of customers: "Load more" brings the rest', async (t) => {
    for (let i = 0; i < 60; i++) await ui.api('POST', '/customers', { id: `bulk-${String(i).padStart(3, '0')}` })
    const total = (await customers()).length
    t.ok(total > 60, `${total} customers`)
    const page = await ui.open(t, { path: '/customers' })
    const rows = page.locator('tr[data-customer]')
    await rows.first().waitFor()
    t.equal(await rows.count(), 50, 'one page')
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.locator(`tr[data-customer="${(await customers()).at(-1)?.id ?? ''}"]`).waitFor()
    t.equal(await rows.count(), total, 'every customer')
    t.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load')
  })

  ui.test('a viewer reads customers and users, writes disabled with the reason', async (t) => {
    const page = await ui.open(t, { key: ui.keys.viewer, path: '/customers' })
    await page.locator('tr[data-customer="acme"]').waitFor()
    t.ok(await page.getByRole('button', { name: 'New customer' }).isDisabled())
    t.ok(await page.getByRole('button', { name: 'Delete acme' }).isDisabled())
    t.match(await page.getByTestId('read-only').textContent(), /Read-only: you are signed in with a viewer key/)
    await page.getByRole('button', { name: 'Flags of acme' }).click()
    await page.getByRole('dialog', { name: 'Customer acme' }).locator('tr[data-flag="cust.beta"]').waitFor()
    await page.goto(`${ui.baseUrl}/ui/users`)
    await page.locator('tr[data-user="zed"]').waitFor()
    t.ok(await page.getByRole('button', { name: 'New user' }).isDisabled())
    t.ok(await page.getByRole('button', { name: 'Delete zed' }).isDisabled())
    t.match(await page.getByTestId('read-only').textContent(), /Read-only/)
  })

  ui.test('at 390×844 the customers and users pages, the drawer and the dialogs read', async (t) => {
    const page = await ui.open(t, { viewport: PHONE, path: '/customers' })
    await page.locator('tr[data-customer="acme"]').waitFor()
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling of the page')
    await accessible(t, page, 'customers page on a phone')
    await page.getByRole('button', { name: 'Flags of acme' }).click()
    const drawer = page.getByRole('dialog', { name: 'Customer acme' })
    await drawer.locator('tr[data-flag="cust.beta"]').waitFor()
    const box = await boxOf(page, '.mantine-Drawer-content')
    t.ok(box.left >= 0 && box.right <= PHONE.width, 'the drawer fits the screen')
    await accessible(t, page, 'customer drawer on a phone')
    await page.goto(`${ui.baseUrl}/ui/users`)
    await page.locator('tr[data-user="zed"]').waitFor()
    await page.getByRole('button', { name: 'New user' }).click()
    await page.getByRole('dialog', { name: 'New user' }).getByLabel('Id').waitFor()
    await accessible(t, page, 'new-user dialog on a phone')
  })
})
