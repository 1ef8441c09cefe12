import t from 'tap'
import type { Test } from 'tap'
import type { Locator, Page } from 'playwright-core'
import { accessible, PHONE, withUi } from './support.js'

/**
 * The Targeting tab of a flag's page (SPEC §13): the kill switch, variants, default and off variant,
 * individual targets, the fallthrough's percentage or weights, rules with every kind of condition,
 * each saved from the page and checked on the server (and by evaluating); the server's refusals on
 * their fields; a 412 when someone else saved meanwhile; read-only for a viewer; axe and a phone.
 */

interface FlagBody {
  enabled: boolean
  version: number
  variants: Record<string, unknown>
  default_variant: string
  off_variant: string
  targeting_rules: { user_ids: string[], customer_ids: string[], rules: any[], percentage: number | null, rollout: Record<string, number> | null, bucket_by: string }
}

/** Picks an option of a Mantine Select (its options are in a portal, outside the field's group). */
async function choose (page: Page, select: Locator, option: string): Promise<void> {
  await select.click()
  await page.getByRole('option', { name: option, exact: true }).click()
}

const rule = (page: Page, n: number): Locator => page.getByRole('group', { name: `Rule ${n}`, exact: true })
const condition = (scope: Locator, n: number): Locator => scope.getByRole('group', { name: `Condition ${n}`, exact: true })

/** Clicks Save and waits until the form says it is saved (the version moved). */
async function save (page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await page.getByTestId('dirty').waitFor({ state: 'detached' })
}

await withUi(t, async (ui) => {
  const flag = async (name: string, env = 'production'): Promise<FlagBody> => await ui.api<FlagBody>('GET', `/environments/${env}/flags/${name}`)
  const evaluate = async (name: string, query: string): Promise<{ value: unknown, variant: string, rule: string, reason: string }> =>
    await ui.api('GET', `/environments/production/evaluate/${name}?${query}`)
  const open = async (t: Test, name: string, opts: { key?: string, env?: string, viewport?: { width: number, height: number } } = {}): Promise<Page> => {
    const page = await ui.open(t, { key: opts.key ?? ui.keys.editor, viewport: opts.viewport, path: `/flags/${name}?env=${opts.env ?? 'production'}&tab=targeting` })
    await page.getByRole('button', { name: 'Save', exact: true }).waitFor()
    return page
  }

  ui.test('the kill switch is saved at once, in one environment only', async (t) => {
    await ui.api('POST', '/flags', { name: 'kill-switch' })
    t.same([(await flag('kill-switch')).enabled, (await flag('kill-switch', 'development')).enabled], [true, false], 'on in production, off in development')
    const page = await open(t, 'kill-switch', { env: 'development' })
    const state = page.getByTestId('served-state')
    t.equal(await state.textContent(), 'off')
    t.notOk(await page.getByRole('switch', { name: 'Enabled in development' }).isChecked())
    await page.getByRole('switch', { name: 'Enabled in development' }).click()
    await page.getByTestId('served-state').getByText('on').waitFor()
    t.same([(await flag('kill-switch', 'development')).enabled, (await flag('kill-switch')).enabled], [true, true], 'on in development; production unchanged')

    await page.getByRole('combobox', { name: 'Environment' }).click()
    await page.getByRole('option', { name: 'Production', exact: true }).click()
    await page.waitForURL(/env=production/)
    await page.getByRole('switch', { name: 'Enabled in production' }).click()
    await page.getByTestId('served-state').getByText('off').waitFor()
    t.equal(await page.getByText('Everyone gets “off” (the off variant)').count(), 1, 'says what everyone gets')
    t.same([(await flag('kill-switch')).enabled, (await flag('kill-switch', 'development')).enabled], [false, true], 'off in production; development unchanged')
  })

  ui.test('variants of a json flag: invalid JSON is refused in the page; values, a new variant and a removal are saved', async (t) => {
    await ui.api('POST', '/flags', { name: 'json-config', type: 'json', default_value: { limit: 3, extra: true }, off_value: { limit: 0 }, variants: { spare: { x: 1 } } })
    const before = await flag('json-config')
    const page = await open(t, 'json-config')
    await page.getByLabel('Value of on').fill('{"limit": ')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByTestId('save-error').getByText('Nothing was sent: one field needs attention').waitFor()
    t.equal(await page.getByLabel('Value of on').getAttribute('aria-invalid'), 'true', 'the value carries the refusal')
    t.match(await page.getByTestId('save-error').textContent(), /value of on: must be valid JSON/, 'named in the summary')
    t.equal((await flag('json-config')).version, before.version, 'nothing written')

    await page.getByLabel('Value of on').fill('{"limit": 5, "mode": "fast"}')
    await page.getByRole('button', { name: 'Remove variant spare' }).click()
    await page.getByRole('button', { name: 'Add variant' }).click()
    await page.getByLabel('Name of variant 3').fill('big')
    await page.getByLabel('Value of big').fill('{"limit": 100, "tags": ["a", null]}')
    await save(page)
    const after = await flag('json-config')
    t.same(after.variants, { on: { limit: 5, mode: 'fast' }, off: { limit: 0 }, big: { limit: 100, tags: ['a', null] } }, 'replaced, not merged; spare removed')
    t.same((await evaluate('json-config', 'user_id=u1')).value, { limit: 5, mode: 'fast' })
  })

  ui.test('default and off variant are chosen among the variants', async (t) => {
    await ui.api('POST', '/flags', { name: 'colour', type: 'string', variants: { red: '#f00', green: '#0f0', blue: '#00f' }, default_variant: 'green', off_variant: 'red' })
    const page = await open(t, 'colour')
    await choose(page, page.getByRole('combobox', { name: 'Default variant' }), 'blue')
    await choose(page, page.getByRole('combobox', { name: 'Off variant' }), 'green')
    await save(page)
    const after = await flag('colour')
    t.same([after.default_variant, after.off_variant], ['blue', 'green'])
    t.equal((await evaluate('colour', 'user_id=u1')).value, '#00f', 'serves the new default')
  })

  ui.test('user ids and customer ids', async (t) => {
    await ui.api('POST', '/flags', { name: 'beta', targeting_rules: { percentage: 0 } })
    const page = await open(t, 'beta')
    for (const id of ['alice', 'bob']) {
      await page.getByRole('combobox', { name: 'User ids' }).fill(id)
      await page.getByRole('combobox', { name: 'User ids' }).press('Enter')
    }
    await page.getByRole('combobox', { name: 'Customer ids' }).fill('acme')
    await page.getByRole('combobox', { name: 'Customer ids' }).press('Enter')
    await save(page)
    const tr = (await flag('beta')).targeting_rules
    t.same([tr.user_ids, tr.customer_ids], [['alice', 'bob'], ['acme']])
    t.same([(await evaluate('beta', 'user_id=bob')).rule, (await evaluate('beta', 'customer_id=acme')).rule, (await evaluate('beta', 'user_id=carol')).value], ['user_ids', 'customer_ids', false])
  })

  ui.test('the percentage, by number and by slider', async (t) => {
    await ui.api('POST', '/flags', { name: 'pct', targeting_rules: { percentage: 10 } })
    const page = await open(t, 'pct')
    await page.getByLabel('Percentage', { exact: true }).fill('25')
    const slider = page.getByRole('slider', { name: 'Percentage slider' })
    t.equal(await slider.getAttribute('aria-valuenow'), '25', 'the slider follows the number')
    await slider.focus()
    await slider.press('ArrowRight')
    await slider.press('ArrowRight')
    t.equal(await page.getByLabel('Percentage', { exact: true }).inputValue(), '27', 'the number follows the slider')
    t.match(await page.getByTestId('percentage-says').textContent(), /27 % get “on”, the other 73 % get “off”/)
    await save(page)
    const tr = (await flag('pct')).targeting_rules
    t.same([tr.percentage, tr.rollout], [27, null])
  })

  ui.test('weights per variant replace the percentage, and back', async (t) => {
    await ui.api('POST', '/flags', { name: 'weights', type: 'string', variants: { on: 'a', off: 'b', c: 'c' } })
    const page = await open(t, 'weights')
    const everyoneElse = page.getByRole('region', { name: 'Everyone else' })
    await everyoneElse.getByText('Weights per variant', { exact: true }).click()
    const weight = (v: string): Locator => page.getByLabel(`Weights per variant: weight of ${v}`)
    await weight('on').fill('10')
    await weight('off').fill('30')
    await weight('c').fill('60')
    await save(page)
    let tr = (await flag('weights')).targeting_rules
    t.same([tr.rollout, tr.percentage], [{ on: 10, off: 30, c: 60 }, null], 'weights, percentage null')

    await weight('c').fill('')
    await save(page)
    tr = (await flag('weights')).targeting_rules
    t.same(tr.rollout, { on: 10, off: 30 }, 'a blank weight leaves the variant out')

    await everyoneElse.getByText('A percentage', { exact: true }).click()
    await page.getByLabel('Percentage', { exact: true }).fill('40')
    await save(page)
    tr = (await flag('weights')).targeting_rules
    t.same([tr.rollout, tr.percentage], [null, 40], 'back to a percentage')
  })

  ui.test('rules with a semver, a date, a regex and a list condition mean what the page said', async (t) => {
    await ui.api('POST', '/flags', { name: 'rules', targeting_rules: { percentage: 0 } })
    const page = await open(t, 'rules')
    const addRule = async (n: number, attribute: string, operator: string): Promise<Locator> => {
      await page.getByRole('button', { name: 'Add rule' }).click()
      const c = condition(rule(page, n), 1)
      await c.getByRole('textbox', { name: 'Attribute' }).fill(attribute)
      await choose(page, c.getByRole('combobox', { name: 'Operator' }), operator)
      return c
    }
    let c = await addRule(1, 'app_version', 'semver_gte: version at least')
    await c.getByLabel('Version').fill('two')
    t.equal(await c.getByLabel('Version').getAttribute('aria-invalid'), 'true', 'not a version: said as it is typed')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByTestId('save-error').getByText('Nothing was sent: one field needs attention').waitFor()
    t.equal((await flag('rules')).targeting_rules.rules.length, 0, 'nothing written')
    await c.getByLabel('Version').fill('2.3.0')

    c = await addRule(2, 'signup', 'after: later than (date)')
    await c.getByLabel('Date and time').fill('2026-03-01T00:00')
    await c.getByText(/sent as 2026-0[23]-\d\dT\d\d:\d\d:00Z/).waitFor()
    await rule(page, 2).getByText('Weights per variant', { exact: true }).click()
    await page.getByLabel('Rule 2 weights: weight of on').fill('100')

    c = await addRule(3, 'email', 'matches: regular expression')
    await c.getByLabel('Regular expression').fill('@example\\.com$')

    c = await addRule(4, 'country', 'in: is one of')
    for (const v of ['DE', 'FR']) {
      await c.getByRole('combobox', { name: 'Values' }).fill(v)
      await c.getByRole('combobox', { name: 'Values' }).press('Enter')
    }
    await c.getByRole('switch', { name: 'Ignore case' }).click()
    await choose(page, rule(page, 4).getByRole('combobox', { name: 'Serve variant' }), 'on')
    await save(page)

    const rules = (await flag('rules')).targeting_rules.rules
    t.same(rules.map((r) => r.id), ['rule-1', 'rule-2', 'rule-3', 'rule-4'])
    t.same(rules[0].clauses, [{ attribute: 'app_version', operator: 'semver_gte', values: ['2.3.0'] }])
    t.match(rules[1].clauses[0].values[0], /^2026-0[23]-\d\dT\d\d:\d\d:00Z$/, 'the date as RFC 3339')
    t.same(rules[1].serve, { rollout: { on: 100 } })
    t.same(rules[2].clauses, [{ attribute: 'email', operator: 'matches', values: ['@example\\.com$'] }])
    t.same(rules[3].clauses, [{ attribute: 'country', operator: 'in', values: ['DE', 'FR'], case_insensitive: true }])
    const served = async (query: string): Promise<string> => {
      const r = await evaluate('rules', query)
      return `${String(r.value)} ${r.rule}`
    }
    t.same(await Promise.all([served('app_version=2.4.0'), served('app_version=v2.2.9')]), ['true rule:rule-1', 'false fallthrough'], 'semver_gte 2.3.0')
    // Rule 2 serves by weight, bucketed by user_id: a context needs one to be bucketed.
    t.same(await Promise.all([served('signup=2026-06-01T00:00:00Z&user_id=u1'), served('signup=2025-06-01T00:00:00Z&user_id=u1')]), ['true rule:rule-2', 'false fallthrough'], 'after March 2026')
    t.equal((await evaluate('rules', 'signup=2026-06-01T00:00:00Z&user_id=u1')).reason, 'SPLIT', 'rule 2 serves by weight')
    t.same(await Promise.all([served('email=bob@example.com'), served('email=bob@example.org')]), ['true rule:rule-3', 'false fallthrough'], 'the regex')
    t.same(await Promise.all([served('country=fr'), served('country=US')]), ['true rule:rule-4', 'false fallthrough'], 'in DE, FR ignoring case')

    // Reorder, remove and negate: the order and the meaning change as shown.
    await page.getByRole('button', { name: 'Move rule 4 up' }).click()
    await page.getByRole('button', { name: 'Remove rule 1' }).click()
    await condition(rule(page, 2), 1).getByRole('switch', { name: /^Negate/ }).click()
    t.equal(await condition(rule(page, 2), 1).getByRole('textbox', { name: 'Attribute' }).inputValue(), 'country', 'the country rule moved up')
    await save(page)
    const after = (await flag('rules')).targeting_rules.rules
    t.same(after.map((r) => r.id), ['rule-2', 'rule-4', 'rule-3'])
    t.equal(after[1].clauses[0].negate, true)
    t.same(await Promise.all([served('app_version=2.4.0&country=DE'), served('country=US'), served('country=fr&email=a@example.com')]),
      ['false fallthrough', 'true rule:rule-4', 'true rule:rule-3'], 'rule-1 gone; country negated')
  })

  ui.test('a regex the server refuses: its message on the field and in the summary, nothing written', async (t) => {
    await ui.api('POST', '/flags', { name: 'refused', targeting_rules: { rules: [{ id: 'mail', clauses: [{ attribute: 'email', operator: 'matches', values: ['@a\\.com$'] }], serve: { variant: 'on' } }] } })
    const before = await flag('refused')
    const page = await open(t, 'refused')
    const pattern = condition(rule(page, 1), 1).getByLabel('Regular expression')
    await pattern.fill('^(?=admin)')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByTestId('save-error').waitFor()
    t.equal(await pattern.getAttribute('aria-invalid'), 'true', 'the pattern field carries the refusal')
    t.match(await condition(rule(page, 1), 1).textContent(), /not a valid regular expression in RE2 syntax/, 'with the server\'s message')
    t.match(await page.getByTestId('save-error').textContent(), /rule 1, condition 1: value: not a valid regular expression in RE2 syntax/, 'and in the summary, in words')
    t.equal(await pattern.inputValue(), '^(?=admin)', 'the change is kept to fix')
    const after = await flag('refused')
    t.same([after.version, after.targeting_rules.rules], [before.version, before.targeting_rules.rules], 'nothing written')
    await accessible(t, page, 'targeting with a refusal shown')

    // Weights that add up to nothing: the page's own check, on the weights.
    await pattern.fill('@b\\.com$')
    const everyoneElse = page.getByRole('region', { name: 'Everyone else' })
    await everyoneElse.getByText('Weights per variant', { exact: true }).click()
    await page.getByLabel('Weights per variant: weight of on').fill('0')
    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await everyoneElse.getByText('give at least one variant a weight above 0').waitFor()
    t.equal((await flag('refused')).version, before.version, 'still nothing written')
  })

  ui.test('someone else saves meanwhile: kept, announced with who, a 412 on save, the new version on request', async (t) => {
    await ui.api('POST', '/flags', { name: 'contended', targeting_rules: { percentage: 50 } })
    const page = await open(t, 'contended')
    const pct = page.getByLabel('Percentage', { exact: true })
    const says = page.getByTestId('percentage-says')
    const version = async (): Promise<number> => (await flag('contended')).version

    await ui.api('PUT', '/environments/production/flags/contended', { targeting_rules: { percentage: 20 } }, ui.keys.admin)
    await says.getByText('20 % get').waitFor()
    t.pass('not dirty: the new version is shown at once')

    await pct.fill('60')
    await ui.api('PUT', '/environments/development/flags/contended', { enabled: true }, ui.keys.admin)
    await page.getByTestId('base-version').getByText(`to version ${await version()}`).waitFor()
    await page.getByRole('switch', { name: 'Enabled in production' }).click()
    await page.getByTestId('served-state').getByText('off').waitFor()
    await page.getByTestId('base-version').getByText(`to version ${await version()}`).waitFor()
    t.equal(await pct.inputValue(), '60', 'another environment\'s change and the kill switch keep the unsaved change')
    t.equal(await page.getByTestId('conflict').count(), 0, 'and are no conflict')

    await ui.api('PUT', '/environments/production/flags/contended', { targeting_rules: { percentage: 10 } }, ui.keys.admin)
    await page.getByTestId('conflict').waitFor()
    await page.getByTestId('conflict').getByText('changed by ui-admin meanwhile').waitFor()
    t.equal(await pct.inputValue(), '60', 'the unsaved change is kept')
    await accessible(t, page, 'targeting with a conflict')

    await page.getByRole('button', { name: 'Save', exact: true }).click()
    await page.getByTestId('stale').waitFor()
    t.match(await page.getByTestId('stale').textContent(), /someone else changed this flag meanwhile/)
    t.equal((await flag('contended')).targeting_rules.percentage, 10, 'the other change is not overwritten')

    await page.getByTestId('stale').getByRole('button', { name: /Load the new version/ }).click()
    await page.getByTestId('clean').waitFor()
    t.equal(await pct.inputValue(), '10', 'the new version is loaded')
    await pct.fill('60')
    await save(page)
    const tr = (await flag('contended')).targeting_rules
    t.equal(tr.percentage, 60, 'saved over the version seen')
  })

  ui.test('a viewer sees everything and can change nothing, with the reason', async (t) => {
    await ui.api('POST', '/flags', {
      name: 'viewed',
      targeting_rules: { user_ids: ['alice'], rules: [{ id: 'de', clauses: [{ attribute: 'country', operator: 'in', values: ['DE'] }], serve: { variant: 'on' } }], percentage: 5 }
    })
    const page = await ui.open(t, { key: ui.keys.viewer, path: '/flags/viewed?env=production' })
    await page.getByTestId('read-only').waitFor()
    t.match(await page.getByTestId('read-only').textContent(), /Read-only: you are signed in with a viewer key/)
    const disabled = [
      page.getByRole('switch', { name: 'Enabled in production' }),
      page.getByRole('button', { name: 'Save', exact: true }),
      page.getByRole('button', { name: 'Add rule' }),
      page.getByRole('button', { name: 'Add variant' }),
      page.getByRole('combobox', { name: 'User ids' }),
      condition(rule(page, 1), 1).getByRole('textbox', { name: 'Attribute' }),
      page.getByLabel('Percentage', { exact: true }),
      page.getByRole('combobox', { name: 'Value of on' })
    ]
    t.same(await Promise.all(disabled.map(async (l) => await l.isDisabled())), disabled.map(() => true), 'every control disabled')
    t.equal(await condition(rule(page, 1), 1).getByRole('textbox', { name: 'Attribute' }).inputValue(), 'country', 'and everything shown')
    t.match(await page.getByRole('region', { name: 'Individual targets' }).textContent(), /alice/)
    t.equal(await page.getByLabel('Percentage', { exact: true }).inputValue(), '5')
    await accessible(t, page, 'targeting, read-only')
  })

  ui.test('axe on the tab, empty and full; at 390×844 it fits and saves', async (t) => {
    await ui.api('POST', '/flags', { name: 'plain' })
    await ui.api('POST', '/flags', {
      name: 'full',
      type: 'string',
      variants: { on: 'a', off: 'b', c: 'c' },
      targeting_rules: {
        user_ids: ['alice', 'bob'],
        customer_ids: ['acme'],
        rules: [
          { id: 'list', description: 'EU', clauses: [{ attribute: 'country', operator: 'not_in', values: ['US'], negate: true, case_insensitive: true }, { attribute: 'plan', operator: 'eq', values: ['pro'] }], serve: { variant: 'c' } },
          { id: 'kinds', clauses: [{ attribute: 'age', operator: 'gte', values: [18] }, { attribute: 'signup', operator: 'before', values: ['2026-01-01T00:00:00Z'] }, { attribute: 'app', operator: 'semver_lt', values: ['3.0.0'] }, { attribute: 'email', operator: 'matches', values: ['@a\\.com$', '@b\\.com$'] }, { attribute: 'beta', operator: 'exists' }], serve: { rollout: { on: 50, c: 50 } } }
        ],
        percentage: null,
        rollout: { on: 1, off: 2, c: 3 },
        bucket_by: 'customer_id'
      }
    })
    let page = await open(t, 'plain')
    await accessible(t, page, 'targeting, empty')
    page = await open(t, 'full')
    t.equal(await page.getByRole('region', { name: 'Rules' }).getByRole('group', { name: /^Condition/ }).count(), 7, 'every condition shown')
    await accessible(t, page, 'targeting, full')

    page = await open(t, 'full', { viewport: PHONE })
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'nothing wider than the phone')
    await accessible(t, page, 'targeting on a phone')
    await page.getByRole('combobox', { name: 'User ids' }).fill('carol')
    await page.getByRole('combobox', { name: 'User ids' }).press('Enter')
    await save(page)
    t.same((await flag('full')).targeting_rules.user_ids, ['alice', 'bob', 'carol'], 'saved from the phone')
    t.same((await flag('full')).targeting_rules.rules.length, 2, 'the rest unchanged')
  })
})
