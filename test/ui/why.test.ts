import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { accessible, PHONE, withUi } from './support.js'

type Attr = [name: string, type: 'string' | 'number' | 'boolean', value: string]
interface Typed { user?: string, customer?: string, attrs?: Attr[] }
interface Result { value: unknown, variant: string, reason: string, rule: string }

/**
 * A flag's Why? tab (SPEC §13, §2.4) in chromium: a context typed in the page is evaluated and explained.
 * One test per step of the evaluation (kill switch, user override, customer override, user ids, customer
 * ids, a rule, a percentage split, the fallthrough), each compared with what the API answers for the same
 * context; the JSON editor; refusals in words; a viewer; axe; a phone.
 */
await withUi(t, async (ui) => {
  const colours = { type: 'string', variants: { blue: '#00f', green: '#0f0', grey: '#999' }, default_variant: 'blue', off_variant: 'grey' }
  await ui.api('POST', '/flags', { name: 'why_kill' })
  await ui.api('PUT', '/environments/production/flags/why_kill', { enabled: false })
  await ui.api('POST', '/flags', { name: 'why_over', ...colours, targeting_rules: { percentage: 0 } })
  await ui.api('PUT', '/flags/why_over/overrides/users/u-over', { enabled: true, variant: 'green' })
  await ui.api('PUT', '/flags/why_over/overrides/customers/c-over', { enabled: false })
  await ui.api('POST', '/users', { id: 'u-member', customer_id: 'c-over' })
  await ui.api('POST', '/flags', { name: 'why_ids', targeting_rules: { user_ids: ['u-listed', 'u-other'], customer_ids: ['c-listed'], percentage: 0 } })
  await ui.api('POST', '/flags', {
    name: 'why_rule',
    ...colours,
    targeting_rules: {
      percentage: 0,
      rules: [
        { id: 'beta', clauses: [{ attribute: 'beta', operator: 'eq', values: [true] }], serve: { variant: 'blue' } },
        {
          id: 'eu',
          description: 'EU adults',
          clauses: [{ attribute: 'country', operator: 'in', values: ['DE', 'FR'] }, { attribute: 'age', operator: 'gte', values: [18] }],
          serve: { variant: 'green' }
        }
      ]
    }
  })
  await ui.api('POST', '/flags', { name: 'why_split', targeting_rules: { percentage: 50 } })
  await ui.api('POST', '/flags', { name: 'why_static', type: 'number', default_value: 12.5, off_value: 0 })

  const tab = (name: string): string => `/flags/${name}?env=production&tab=why`
  /** Types the context into the page as a person would, then Evaluate. */
  const type = async (page: Page, typed: Typed): Promise<void> => {
    if (typed.user !== undefined) await page.getByLabel('User id').fill(typed.user)
    if (typed.customer !== undefined) await page.getByLabel('Customer id').fill(typed.customer)
    for (const [i, [name, kind, value]] of (typed.attrs ?? []).entries()) {
      const n = i + 1
      await page.getByRole('button', { name: 'Add attribute' }).click()
      await page.getByRole('combobox', { name: `Attribute ${n} name` }).fill(name)
      await page.keyboard.press('Tab')
      if (kind !== 'string') {
        await page.getByRole('combobox', { name: `Attribute ${n} type` }).click()
        await page.getByRole('option', { name: kind, exact: true }).click()
      }
      if (kind === 'boolean') {
        await page.getByRole('combobox', { name: `Attribute ${n} value` }).click()
        await page.getByRole('option', { name: value, exact: true }).click()
      } else {
        await page.getByLabel(`Attribute ${n} value`).fill(value)
      }
    }
    await page.getByRole('button', { name: 'Evaluate' }).click()
  }
  const contextOf = (typed: Typed): Record<string, unknown> => ({
    ...(typed.user === undefined ? {} : { user_id: typed.user }),
    ...(typed.customer === undefined ? {} : { customer_id: typed.customer }),
    ...Object.fromEntries((typed.attrs ?? []).map(([name, kind, value]) => [name, kind === 'number' ? Number(value) : kind === 'boolean' ? value === 'true' : value]))
  })
  /** What the page shows once the step `rule` has decided. */
  const shown = async (page: Page, rule: string): Promise<{ value: string, variant: string, reason: string, rule: string, sentence: string }> => {
    await page.locator('[data-testid="why-step"]', { hasText: new RegExp(`^${rule}$`) }).waitFor()
    const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? ''
    return { value: await text('why-value'), variant: await text('why-variant'), reason: await text('why-reason'), rule: await text('why-step'), sentence: await text('why-sentence') }
  }
  const asShown = (r: Result): string => typeof r.value === 'string' ? `“${r.value}”` : typeof r.value === 'object' ? JSON.stringify(r.value, null, 2) : String(r.value)
  /** Types the context, and checks the page against POST /evaluate for the same context; returns the page's sentence. */
  const explained = async (t: Test, page: Page, flag: string, typed: Typed, rule: string): Promise<string> => {
    await type(page, typed)
    const page_ = await shown(page, rule)
    const api = (await ui.api<{ results: Record<string, Result> }>('POST', '/environments/production/evaluate', { context: contextOf(typed), flags: [flag] })).results[flag]
    t.same({ value: page_.value, variant: page_.variant, reason: page_.reason, rule: page_.rule },
      { value: asShown(api), variant: api.variant, reason: api.reason, rule: api.rule }, `${flag}: the page shows what the API answers (${api.rule})`)
    t.equal(await page.locator(`[data-step="${rule}"]`).getAttribute('data-status'), 'decided', 'the deciding step is marked')
    return page_.sentence
  }

  ui.test('kill switch off: DISABLED, step disabled, in words; every later step not reached', async (t) => {
    const page = await ui.open(t, { path: tab('why_kill') })
    const sentence = await explained(t, page, 'why_kill', { user: 'u1' }, 'disabled')
    t.match(sentence, /kill switch is off in production/)
    t.equal(await page.locator('[data-step="user_override"]').getAttribute('data-status'), 'unreached')
    await accessible(t, page, 'why: a result')
  })

  ui.test('user override: the override that decided, with what it serves', async (t) => {
    const page = await ui.open(t, { path: tab('why_over') })
    const sentence = await explained(t, page, 'why_over', { user: 'u-over', customer: 'c-over' }, 'user_override')
    t.match(sentence, /Switched on explicitly for user u-over \(an override, set .+\): it serves the variant “green”/)
  })

  ui.test('customer override: given, and inferred from a registered user', async (t) => {
    const page = await ui.open(t, { path: tab('why_over') })
    t.match(await explained(t, page, 'why_over', { customer: 'c-over' }, 'customer_override'), /Switched off explicitly for customer c-over \(an override/)
    t.match(await page.locator('[data-step="user_override"]').textContent(), /no user_id/, 'the user step says why it did not apply')
    await page.reload()
    t.match(await explained(t, page, 'why_over', { user: 'u-member' }, 'customer_override'),
      /customer c-over \(inferred: user u-member belongs to it\)/, 'the inferred customer, named')
    t.match(await page.locator('[data-step="user_override"]').textContent(), /User u-member has no override/)
  })

  ui.test('user ids and customer ids: listed, with how many are', async (t) => {
    const page = await ui.open(t, { path: tab('why_ids') })
    t.match(await explained(t, page, 'why_ids', { user: 'u-listed' }, 'user_ids'), /User u-listed is listed in the user ids \(2 ids listed\)/)
    await page.reload()
    t.match(await explained(t, page, 'why_ids', { user: 'stranger', customer: 'c-listed' }, 'customer_ids'), /Customer c-listed is listed in the customer ids/)
    t.match(await page.locator('[data-step="user_ids"]').textContent(), /User stranger is not among the 2 listed user ids/)
  })

  ui.test('a rule: the one that matched with its clauses and the context\'s values, the one before it not matching', async (t) => {
    const page = await ui.open(t, { path: tab('why_rule') })
    const sentence = await explained(t, page, 'why_rule', { attrs: [['beta', 'boolean', 'false'], ['country', 'string', 'DE'], ['age', 'number', '30']] }, 'rule:eu')
    t.match(sentence, /Rule “eu” \(EU adults\) matched: every clause holds\. It serves the variant “green”/)
    const eu = await page.locator('[data-step="rule:eu"]').textContent()
    t.match(eu, /country is one of “DE”, “FR” — the context has country = “DE”/, 'the clause and the evidence')
    t.match(eu, /age is at least 18 — the context has age = 30/, 'a number stays a number')
    t.equal(await page.locator('[data-step="rule:beta"]').getAttribute('data-status'), 'passed')
    t.match(await page.locator('[data-step="rule:beta"]').textContent(), /beta is true — the context has beta = false/)
    await page.getByRole('button', { name: 'Add attribute' }).click()
    await page.getByRole('combobox', { name: 'Attribute 4 name' }).fill('age')
    t.equal(await page.getByRole('combobox', { name: 'Attribute 4 type' }).inputValue(), 'number', 'a name the rules compare as a number is typed as one')
    await accessible(t, page, 'why: a rule match')
  })

  ui.test('a percentage split: SPLIT, the percentage and where this user landed', async (t) => {
    const page = await ui.open(t, { path: tab('why_split') })
    const sentence = await explained(t, page, 'why_split', { user: 'someone' }, 'fallthrough')
    t.match(sentence, /the percentage decides: 50 % of user_id values get “on”, the rest “off”\. user_id “someone” is in the (50 %|other 50 %)/)
  })

  ui.test('the fallthrough: no rule matched (off at 0 %), and a flag with no targeting at all (STATIC)', async (t) => {
    const page = await ui.open(t, { path: tab('why_rule') })
    t.match(await explained(t, page, 'why_rule', { attrs: [['country', 'string', 'US']] }, 'fallthrough'), /percentage is 0 %: everyone else gets the off variant “grey”/)
    t.match(await page.locator('[data-step="rule:eu"]').textContent(), /did not match/)
    const still = await ui.open(t, { path: tab('why_static') })
    t.match(await explained(t, still, 'why_static', {}, 'fallthrough'), /Nothing targets anyone/)
  })

  ui.test('the JSON editor: nested attributes, and back to fields', async (t) => {
    const page = await ui.open(t, { path: tab('why_rule') })
    await page.getByText('JSON', { exact: true }).click()
    await page.getByLabel('Context (JSON)').fill(JSON.stringify({ user_id: 'j1', geo: { country: 'FR' }, country: 'FR', age: 40 }))
    await page.getByRole('button', { name: 'Evaluate' }).click()
    await shown(page, 'rule:eu')
    await page.getByText('Fields', { exact: true }).click()
    t.equal(await page.getByLabel('User id').inputValue(), 'j1')
    t.equal(await page.getByRole('combobox', { name: 'Attribute 1 name' }).inputValue(), 'country')
    t.equal(await page.getByRole('combobox', { name: 'Attribute 3 name' }).inputValue(), 'geo.country', 'a nested object becomes its dotted attribute')
  })

  ui.test('refusals in words: a value that is not a number, a name that cannot be an attribute, a value the server refuses', async (t) => {
    const page = await ui.open(t, { path: tab('why_rule') })
    await type(page, { attrs: [['age', 'number', 'old']] })
    await page.getByTestId('attribute-1-error').getByText('must be a number').waitFor()
    await page.getByRole('combobox', { name: 'Attribute 1 name' }).fill('bad name')
    await page.getByRole('button', { name: 'Evaluate' }).click()
    await page.getByTestId('attribute-1-error').getByText(/The name must be 1 to 64 characters/).waitFor()
    await page.getByRole('button', { name: 'Remove attribute 1 (bad name)' }).click()
    await type(page, { attrs: [['note', 'string', 'x'.repeat(1025)]] })
    await page.getByRole('alert').getByText(/must NOT have more than 1024 characters/).waitFor()
    t.match(await page.getByTestId('attribute-1-error').textContent(), /note: must NOT have more than 1024 characters/, 'on the row it names')
    t.equal(await page.getByTestId('why-step').count(), 0, 'no result shown for a refused context')
    await accessible(t, page, 'why: refused context')
  })

  ui.test('a viewer may evaluate and read why', async (t) => {
    const page = await ui.open(t, { key: ui.keys.viewer, path: tab('why_ids') })
    t.match(await explained(t, page, 'why_ids', { user: 'u-listed' }, 'user_ids'), /listed in the user ids/)
    await accessible(t, page, 'why as a viewer')
  })

  ui.test('at 390×844 the context and the explanation fit the screen', async (t) => {
    const page = await ui.open(t, { viewport: PHONE, path: tab('why_rule') })
    await explained(t, page, 'why_rule', { attrs: [['country', 'string', 'DE'], ['age', 'number', '30']] }, 'rule:eu')
    t.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling of the page')
    await accessible(t, page, 'why at phone size')
  })
})
