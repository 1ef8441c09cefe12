import t from 'tap'
import { accessible, kept, PHONE, withUi } from './support.js'

interface ApiKey { id: string, name: string, role: string, environments: string[], prefix: string }

/**
 * The API keys page (SPEC §10, §13) in chromium: an admin creates a key and sees its secret once (with
 * a copy button), the secret works for what its role allows and never reaches the address, storage or
 * the console; keys are listed and revoked (then refused with 401), one's own key with a warning;
 * other keys are told the page is for admin keys only.
 */
await withUi(t, async (ui) => {
  await ui.api('POST', '/flags', { name: 'keys.flag' })
  const listed = async (): Promise<ApiKey[]> => (await ui.api<{ api_keys: ApiKey[] }>('GET', '/api-keys')).api_keys

  ui.test('create a key: the secret shown once, copied, working for its role; then listed', async (t) => {
    const page = await ui.open(t, { path: '/keys' })
    const messages: string[] = []
    page.on('console', (msg) => messages.push(msg.text()))
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ui.baseUrl })
    await page.locator('tr[data-key="ui-admin"]').getByTestId('this-key').waitFor()
    await accessible(t, page, 'API keys page')

    await page.getByRole('button', { name: 'New API key' }).click()
    const form = page.getByRole('dialog', { name: 'New API key' })
    await form.getByLabel('Name').fill('deploy-bot')
    await form.getByRole('combobox', { name: 'Role' }).click()
    await page.getByRole('option', { name: 'editor' }).click()
    await form.getByLabel('Environments').click()
    await page.getByRole('option', { name: 'Development' }).click()
    await page.keyboard.press('Escape')
    await accessible(t, page, 'new-key dialog')
    await form.getByRole('button', { name: 'Create key' }).click()

    const dialog = page.getByRole('dialog', { name: 'API key deploy-bot created' })
    const secret = (await dialog.getByTestId('secret').textContent()) ?? ''
    t.match(secret, /^fp_/, 'the secret is shown')
    t.match(await dialog.textContent(), /shown once/, 'with the warning that it will not be shown again')
    await accessible(t, page, 'secret dialog')
    await dialog.getByRole('button', { name: 'Copy key' }).click()
    await dialog.getByRole('button', { name: 'Copied', exact: true }).waitFor()
    t.equal(await page.evaluate('navigator.clipboard.readText()'), secret, 'the copy button copies it')

    // What its role allows: writes in development only, no key management.
    await ui.api('PUT', '/environments/development/flags/keys.flag', { enabled: true }, secret)
    t.equal((await ui.api<{ enabled: boolean }>('GET', '/environments/development/flags/keys.flag')).enabled, true, 'an editor write in its environment')
    await t.rejects(ui.api('PUT', '/environments/production/flags/keys.flag', { enabled: false }, secret), /403/, 'not in another environment')
    await t.rejects(ui.api('GET', '/api-keys', undefined, secret), /403/, 'no key management')

    await dialog.getByRole('button', { name: 'I have copied it' }).click()
    await dialog.waitFor({ state: 'detached' })
    const row = page.locator('tr[data-key="deploy-bot"]')
    await row.waitFor()
    t.equal(await row.locator('td[data-field="environments"]').textContent(), 'development')
    const made = (await listed()).find((k) => k.name === 'deploy-bot')
    t.match(made, { role: 'editor', environments: ['development'] }, 'created on the server')
    t.ok(secret.startsWith(made?.prefix ?? '-'), 'the listed prefix is the secret\'s')
    t.match(await row.textContent(), made?.prefix ?? '-', 'the prefix is listed')

    t.notOk((await page.content()).includes(secret), 'the secret is gone from the page once the dialog closes')
    t.notMatch(page.url(), secret, 'never in the address')
    const stored = await kept(page)
    t.notOk(JSON.stringify(stored).includes(secret), 'never in storage or cookies')
    t.notOk(messages.some((m) => m.includes(secret)), 'never in the console')
  })

  ui.test('a refused key is shown on the field it names, and nothing is created', async (t) => {
    const page = await ui.open(t, { path: '/keys' })
    await page.getByRole('button', { name: 'New API key' }).click()
    const form = page.getByRole('dialog', { name: 'New API key' })
    await form.getByLabel('Name').fill('an-app')
    await form.getByRole('combobox', { name: 'Role' }).click()
    await page.getByRole('option', { name: 'client' }).click()
    await form.getByRole('button', { name: 'Create key' }).click()
    await form.getByRole('alert').waitFor()
    t.match(await form.textContent(), /must name exactly one environment for a client key/)
    t.equal(await form.getByLabel('Environments').getAttribute('aria-invalid'), 'true', 'on the environments field')
    await accessible(t, page, 'new-key dialog with a refusal')
    t.notOk((await listed()).some((k) => k.name === 'an-app'), 'nothing created')
  })

  ui.test('revoke a key, confirmed: it is refused with 401 from then on', async (t) => {
    const { secret } = await ui.api<{ secret: string }>('POST', '/api-keys', { name: 'old-reader', role: 'viewer' })
    await ui.api('GET', '/flags', undefined, secret)
    const page = await ui.open(t, { path: '/keys' })
    await page.getByRole('button', { name: 'Revoke old-reader' }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke API key old-reader' })
    t.equal(await confirm.getByTestId('own-key').count(), 0, 'not the key signed in with: no warning')
    await accessible(t, page, 'revoke dialog')
    await confirm.getByRole('button', { name: 'Revoke key' }).click()
    await page.locator('tr[data-key="old-reader"]').waitFor({ state: 'detached' })
    t.notOk((await listed()).some((k) => k.name === 'old-reader'), 'gone from the list')
    await t.rejects(ui.api('GET', '/flags', undefined, secret), /401/, 'refused')
  })

  ui.test('revoking the key one is signed in with warns first, then signs out', async (t) => {
    const { secret } = await ui.api<{ secret: string }>('POST', '/api-keys', { name: 'temp-admin', role: 'admin' })
    const page = await ui.open(t, { key: secret, path: '/keys' })
    await page.getByRole('button', { name: 'Revoke temp-admin' }).click()
    const confirm = page.getByRole('dialog', { name: 'Revoke API key temp-admin' })
    t.match(await confirm.getByTestId('own-key').textContent(), /the key you are signed in with/)
    await confirm.getByRole('button', { name: 'Revoke key' }).click()
    // The dialog ("Revoke API key temp-admin") is labelled "API key" too, until the revocation is done and it closes.
    await confirm.waitFor({ state: 'detached' })
    await page.getByLabel('API key').waitFor()
    t.same((await kept(page)).session, {}, 'signed out, the key forgotten')
    await t.rejects(ui.api('GET', '/flags', undefined, secret), /401/, 'refused')
  })

  ui.test('editor and viewer keys: /ui/keys says admin keys only, and the navigation has no link', async (t) => {
    for (const role of ['editor', 'viewer'] as const) {
      const page = await ui.open(t, { key: ui.keys[role], path: '/keys' })
      await page.getByTestId('admin-only').waitFor()
      t.match(await page.getByTestId('admin-only').textContent(), new RegExp(`admin keys only\\. You are signed in with a ${role} key`))
      t.equal(await page.getByRole('link', { name: 'API keys' }).count(), 0, `${role}: no link in the navigation`)
      t.equal(await page.getByRole('button', { name: 'New API key' }).count(), 0, `${role}: no create`)
      if (role === 'viewer') await accessible(t, page, 'API keys page refused')
    }
  })

  ui.test('at 390×844 the keys page and the new-key dialog read', async (t) => {
    const page = await ui.open(t, { viewport: PHONE, path: '/keys' })
    await page.locator('tr[data-key="ui-admin"]').waitFor()
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling of the page')
    await accessible(t, page, 'API keys page on a phone')
    await page.getByRole('button', { name: 'New API key' }).click()
    await page.getByRole('dialog', { name: 'New API key' }).getByLabel('Name').waitFor()
    await accessible(t, page, 'new-key dialog on a phone')
  })
})
