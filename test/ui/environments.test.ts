import t from 'tap'
import { accessible, PHONE, withUi } from './support.js'

interface Environment { key: string, name: string, position: number }
interface FlagBody { enabled: boolean, default_variant: string, off_variant: string, targeting_rules: unknown }
const config = (f: FlagBody): FlagBody => ({ enabled: f.enabled, default_variant: f.default_variant, off_variant: f.off_variant, targeting_rules: f.targeting_rules })

/**
 * The environments page (SPEC §9, §13) in chromium: an admin creates (a refused key shown on its
 * field), renames and deletes an environment (forced, after being told what goes with it), and
 * promotes development to production, the diff first, then applied; other keys read only, with why.
 */
await withUi(t, async (ui) => {
  await ui.api('POST', '/flags', { name: 'promo.checkout', type: 'string', default_value: 'new', off_value: 'old', variants: { new: 'new', old: 'old', beta: 'beta' }, default_variant: 'new', off_variant: 'old' })
  await ui.api('POST', '/flags', { name: 'promo.untouched' })
  // Development now differs from production: on there (off in production), another variant, targeting alice and a rule, an override.
  await ui.api('PUT', '/environments/production/flags/promo.checkout', { enabled: false })
  await ui.api('PUT', '/environments/development/flags/promo.checkout', {
    enabled: true,
    default_variant: 'beta',
    targeting_rules: { user_ids: ['alice'], rules: [{ id: 'eu', description: 'EU', clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'FR'] }], serve: { variant: 'new' } }] }
  })
  await ui.api('PUT', '/environments/development/flags/promo.checkout/overrides/users/bob', { enabled: true })

  const environments = async (): Promise<Environment[]> => (await ui.api<{ environments: Environment[] }>('GET', '/environments')).environments

  ui.test('create (a refused key is shown on its field), rename and delete an environment', async (t) => {
    const page = await ui.open(t, { path: '/environments' })
    await page.locator('tr[data-environment="production"]').getByTestId('default').waitFor()
    await accessible(t, page, 'environments page')

    await page.getByRole('button', { name: 'New environment' }).click()
    let dialog = page.getByRole('dialog', { name: 'New environment' })
    await dialog.getByLabel('Key').fill('Bad Key')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.getByRole('alert').waitFor()
    t.equal(await dialog.getByLabel('Key').getAttribute('aria-invalid'), 'true', 'the key field carries the refusal')
    t.match(await dialog.textContent(), /must match pattern/, 'the server\'s message is shown')
    await accessible(t, page, 'new-environment dialog with a refusal')
    t.notOk((await environments()).some((e) => e.name === 'Bad Key' || e.key === 'bad key'), 'nothing created')

    await dialog.getByLabel('Key').fill('staging')
    await dialog.getByLabel('Display name').fill('Staging')
    await dialog.getByRole('button', { name: 'Create' }).click()
    await dialog.waitFor({ state: 'detached' })
    const row = page.locator('tr[data-environment="staging"]')
    t.equal(await row.locator('td[data-field="name"]').textContent(), 'Staging')
    t.match(await environments(), [{}, {}, { key: 'staging', name: 'Staging' }], 'created on the server, last')
    const inStaging = await ui.api<{ enabled: boolean }>('GET', '/environments/staging/flags/promo.checkout')
    t.equal(inStaging.enabled, false, 'flags are configured there, served off')

    await page.getByRole('button', { name: 'Edit staging' }).click()
    dialog = page.getByRole('dialog', { name: 'Edit environment staging' })
    await dialog.getByLabel('Display name').fill('Staging EU')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached' })
    await row.locator('td[data-field="name"]', { hasText: 'Staging EU' }).waitFor()
    t.equal((await ui.api<Environment>('GET', '/environments/staging')).name, 'Staging EU', 'renamed on the server')

    await page.getByRole('button', { name: 'Delete staging' }).click()
    dialog = page.getByRole('dialog', { name: 'Delete environment staging' })
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    await dialog.getByTestId('in-use').waitFor()
    t.match(await dialog.getByTestId('in-use').textContent(), /configures 2 flags.*every override set there/s, 'told what goes with it')
    await accessible(t, page, 'delete dialog, in use')
    t.ok((await environments()).some((e) => e.key === 'staging'), 'not deleted without force')
    await dialog.getByRole('button', { name: 'Delete with its configurations and overrides' }).click()
    await row.waitFor({ state: 'detached' })
    t.same((await environments()).map((e) => e.key).sort(), ['development', 'production'], 'deleted on the server')
    t.ok(await page.getByRole('button', { name: 'Delete production' }).isDisabled(), 'the default environment cannot be deleted')
  })

  ui.test('promote development → production: the diff shown first, then applied', async (t) => {
    const before = await ui.api<FlagBody>('GET', '/environments/production/flags/promo.checkout')
    const page = await ui.open(t, { path: '/environments' })
    const promote = page.getByTestId('promote')
    t.equal(await promote.getByRole('combobox', { name: 'From' }).inputValue(), 'Development (development)')
    t.equal(await promote.getByRole('combobox', { name: 'To' }).inputValue(), 'Production (production)')
    await promote.getByLabel('Flags').fill('promo.check')
    await page.getByRole('option', { name: 'promo.checkout' }).click()
    await page.keyboard.press('Escape')
    await promote.getByLabel('Include overrides').check()
    await promote.getByRole('button', { name: 'Preview changes' }).click()

    const card = promote.getByTestId('preview').locator('[data-flag="promo.checkout"]')
    await card.waitFor()
    const cell = async (setting: string, side: 'from' | 'to'): Promise<string | null> => await card.locator(`tr[data-setting="${setting}"] td[data-side="${side}"]`).textContent()
    t.same([await cell('Enabled (kill switch)', 'from'), await cell('Enabled (kill switch)', 'to')], ['off', 'on'], 'enabled: off → on')
    t.same([await cell('Variant when on', 'from'), await cell('Variant when on', 'to')], ['new', 'beta'])
    t.same([await cell('Targeting: Targeted users', 'from'), await cell('Targeting: Targeted users', 'to')], ['(none)', 'alice'])
    t.equal(await cell('Targeting: Rules', 'to'), 'EU: country in DE, FR → new', 'a rule in one line')
    t.equal(await card.getByTestId('overrides').textContent(), 'Overrides: 1 added, 0 removed, 0 changed')
    t.equal(await promote.locator('[data-flag="promo.untouched"]').count(), 0, 'only the picked flag')
    await accessible(t, page, 'promote preview')
    t.same(config(await ui.api<FlagBody>('GET', '/environments/production/flags/promo.checkout')), config(before), 'the dry run changed nothing')

    await promote.getByRole('button', { name: 'Apply' }).click()
    await promote.getByTestId('applied').waitFor()
    t.match(await promote.getByTestId('applied').textContent(), /1 flag promoted from development to production/)
    const dev = await ui.api<FlagBody>('GET', '/environments/development/flags/promo.checkout')
    const prod = await ui.api<FlagBody>('GET', '/environments/production/flags/promo.checkout')
    t.same(config(prod), config(dev), 'production\'s configuration now equals development\'s')
    const overrides = await ui.api<{ overrides: Array<{ id: string }> }>('GET', '/environments/production/flags/promo.checkout/overrides')
    t.same(overrides.overrides.map((o) => o.id), ['bob'], 'the override came along')
    t.equal((await ui.api<{ enabled: boolean }>('GET', '/environments/production/flags/promo.untouched')).enabled, true, 'the other flag is untouched')

    // Nothing left to promote for that flag: said in words, nothing to apply.
    await promote.getByRole('button', { name: 'Preview changes' }).click()
    await promote.getByTestId('nothing').waitFor()
    t.ok(await promote.getByRole('button', { name: 'Apply' }).isDisabled())
  })

  ui.test('editor and viewer keys: environment writes and promote disabled, with the reason', async (t) => {
    for (const role of ['editor', 'viewer'] as const) {
      const page = await ui.open(t, { key: ui.keys[role], path: '/environments' })
      await page.locator('tr[data-environment="production"]').waitFor()
      t.match(await page.getByTestId('read-only').textContent(), new RegExp(`admin keys only, and you are signed in with a ${role} key`))
      t.ok(await page.getByRole('button', { name: 'New environment' }).isDisabled(), `${role}: no create`)
      t.ok(await page.getByRole('button', { name: 'Edit development' }).isDisabled(), `${role}: no rename`)
      t.ok(await page.getByRole('button', { name: 'Delete development' }).isDisabled(), `${role}: no delete`)
      t.ok(await page.getByRole('button', { name: 'Preview changes' }).isDisabled(), `${role}: no promote`)
      if (role === 'viewer') await accessible(t, page, 'environments page, read-only')
    }
  })

  ui.test('at 390×844 the environments page and its dialogs fit and read', async (t) => {
    const page = await ui.open(t, { viewport: PHONE, path: '/environments' })
    await page.locator('tr[data-environment="production"]').waitFor()
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling of the page')
    await accessible(t, page, 'environments page on a phone')
    await page.getByRole('button', { name: 'Preview changes' }).click()
    await page.getByTestId('preview').waitFor()
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'the diff fits too')
    await page.getByRole('button', { name: 'New environment' }).click()
    await page.getByRole('dialog', { name: 'New environment' }).getByLabel('Key').waitFor()
    await accessible(t, page, 'new-environment dialog on a phone')
  })
})
