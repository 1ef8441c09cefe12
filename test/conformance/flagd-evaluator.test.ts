/**
 * The OpenFeature flagd evaluator conformance suite (flagd-testbed `evaluator/`), run against
 * Flagpost: every flagd flag with a faithful Flagpost equivalent is created through `POST /flags`,
 * and every scenario (outlines expanded per Examples row) is evaluated through the OFREP endpoint.
 * Flags that cannot be expressed are not guessed: their scenarios are skipped with the reason.
 * The suite is public test data read from ../shared/reference (never copied into the repository).
 */
import { existsSync, readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { build, createFlag } from '../helper.js'
import { loadScenarios, type Scenario } from './gherkin.js'
import { evaluateOfrep, type Details } from './ofrep-client.js'
import { translateFlag, type FlagdDocument, type Translation } from './translate.js'

const SUITE = new URL('../../../shared/reference/flagd-testbed/evaluator/', import.meta.url)
const V1_SKIP = 'flagd fractional v1 (Flagpost implements v2)'

if (!existsSync(SUITE)) {
  if (process.env.CI) {
    t.fail(`flagd conformance suite not found at ${SUITE.pathname}: ../shared/reference must be present in CI`)
  } else {
    const reason = '../shared/reference not found: conformance suite skipped'
    console.log(reason)
    t.test('flagd evaluator conformance', { skip: reason }, async () => {})
  }
} else {
  await run()
}

async function run (): Promise<void> {
  const doc = JSON.parse(readFileSync(new URL('flags/testkit-flags.json', SUITE), 'utf8')) as FlagdDocument
  const translations = new Map<string, Translation>(Object.entries(doc.flags).map(([key, flag]) => [key, translateFlag(key, flag, doc)]))
  const scenarios = loadScenarios(new URL('gherkin/', SUITE))
  t.ok(scenarios.length > 0, `${scenarios.length} scenarios parsed`)

  const ctx = await build(t)
  // Every translatable flag is created once; a refusal fails the scenarios that use that flag.
  const refused = new Map<string, string>()
  for (const [key, translation] of translations) {
    if (!translation.ok) continue
    try {
      await createFlag(ctx, translation.body as unknown as Record<string, unknown>)
    } catch (err) {
      refused.set(key, `${(err as Error).message}\n  body: ${JSON.stringify(translation.body)}`)
    }
  }

  const skipReason = (s: Scenario): string | undefined => {
    if (s.unsupported) return s.unsupported
    if (s.tags.includes('@fractional-v1')) return V1_SKIP
    const translation = translations.get(s.flagKey as string)
    if (translation !== undefined && !translation.ok) return `flag "${s.flagKey}": ${translation.reason}`
    return undefined
  }

  let passed = 0
  let failed = 0
  const skipped: Array<[string, string]> = []
  const v2Skips: string[] = []
  for (const s of scenarios) {
    const skip = skipReason(s)
    if (skip !== undefined) {
      skipped.push([s.title, skip])
      if (s.tags.includes('@fractional-v2') && !/hash seed/.test(skip)) v2Skips.push(`${s.title}: ${skip}`)
      await t.test(s.title, { skip }, async () => {})
      continue
    }
    const result = await t.test(s.title, async (st) => {
      const key = s.flagKey as string
      const problem = refused.get(key)
      if (problem !== undefined) {
        st.fail(`Flagpost refused the translated flag "${key}": ${problem}`)
        return
      }
      const details = await evaluateOfrep(ctx.app, key, s.flagType!, s.fallback, s.context)
      check(st, s, key, details)
    })
    if (result?.ok) passed++
    else failed++
  }

  t.strictSame(v2Skips, [], 'fractional v2 vectors are only ever skipped for a hash seed Flagpost cannot express')
  console.log(`flagd conformance: ${passed} passed, ${failed} failed, ${skipped.length} skipped`)
  for (const [title, reason] of skipped) console.log(`  skipped: ${title}: ${reason}`)
}

/** The step expectations against the evaluation details. */
function check (st: Test, s: Scenario, key: string, d: Details): void {
  const diag = { context: s.context, response: d.raw }
  st.equal(d.key, key, 'the OFREP body names the flag', diag)
  for (const e of s.expectations) {
    switch (e.kind) {
      case 'value': st.strictSame(d.value, e.value, 'resolved value', diag); break
      case 'reason': st.equal(d.reason, e.reason, 'reason', diag); break
      case 'variant': st.equal(d.variant, e.variant, 'variant', diag); break
      case 'errorCode': st.equal(d.errorCode, e.errorCode, 'error code', diag); break
      case 'metadataEmpty': st.strictSame(d.metadata ?? {}, {}, 'no metadata', diag); break
      case 'metadata':
        for (const { key: name, value } of e.entries) {
          const metadata = (d.metadata ?? {}) as Record<string, unknown>
          st.strictSame(metadata[name], value, `metadata.${name}`, diag)
        }
        break
    }
  }
}
