/**
 * Reads the flagd evaluator gherkin suite: every .feature file parsed with @cucumber/gherkin and
 * compiled to pickles (Scenario Outlines × Examples expanded, Background steps included), then each
 * pickle's steps turned into one plain `Scenario`: the flag asked for, the context, the expectations.
 * Steps this runner does not know make the scenario skip with the step text as the reason, never pass.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { AstBuilder, GherkinClassicTokenMatcher, Parser, compile } from '@cucumber/gherkin'
import { IdGenerator, type GherkinDocument, type Pickle, type PickleStep } from '@cucumber/messages'

/** The flagd test types: what the caller asks for (and what the fallback value is). */
export type FlagdType = 'Boolean' | 'String' | 'Integer' | 'Float' | 'Object'
const FLAGD_TYPES: readonly string[] = ['Boolean', 'String', 'Integer', 'Float', 'Object']

export type Expectation =
  | { kind: 'value', value: unknown }
  | { kind: 'reason', reason: string }
  | { kind: 'variant', variant: string }
  | { kind: 'errorCode', errorCode: string }
  | { kind: 'metadata', entries: Array<{ key: string, value: unknown }> }
  | { kind: 'metadataEmpty' }

export interface Scenario {
  /** Feature › Scenario [› Examples #row (cells)] — unique, used as the subtest name. */
  title: string
  feature: string
  /** Tags of the feature, scenario and examples block (e.g. `@fractional-v2`). */
  tags: string[]
  flagKey?: string
  flagType?: FlagdType
  fallback?: unknown
  /** The flagd evaluation context: nested objects kept nested (flattened when sent). */
  context: Record<string, unknown>
  evaluated: boolean
  expectations: Expectation[]
  /** Set when a step is not understood: the scenario is skipped with this reason. */
  unsupported?: string
}

/** A Gherkin table cell is text; flagd's harnesses write JSON in cells with `\"` escapes. */
function parseJsonCell (text: string): unknown {
  try { return JSON.parse(text) } catch { return JSON.parse(text.replace(/\\"/g, '"')) }
}

/** A step's string value as the flagd type it is declared with (`Integer` "10" → 10…). */
export function typedValue (type: string, text: string): unknown {
  switch (type) {
    case 'Boolean':
      if (text !== 'true' && text !== 'false') throw new Error(`not a Boolean: "${text}"`)
      return text === 'true'
    case 'Integer': case 'Float': {
      const n = Number(text)
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`not a ${type}: "${text}"`)
      if (type === 'Integer' && !Number.isInteger(n)) throw new Error(`not an Integer: "${text}"`)
      return n
    }
    case 'Object': return parseJsonCell(text)
    case 'String': return text
    default: throw new Error(`unknown type ${type}`)
  }
}

type StepHandler = (s: Scenario, m: RegExpMatchArray, step: PickleStep) => void
const STEPS: Array<[RegExp, StepHandler]> = [
  [/^an evaluator$/, () => {}],
  [/^a (\w+)-flag with key "(.*)" and a fallback value "(.*)"$/, (s, m) => {
    if (!FLAGD_TYPES.includes(m[1])) throw new Error(`unknown flag type ${m[1]}`)
    s.flagType = m[1] as FlagdType
    s.flagKey = m[2]
    s.fallback = typedValue(m[1], m[3])
  }],
  [/^a context containing a key "(.*)", with type "(\w+)" and with value "(.*)"$/, (s, m) => {
    s.context[m[1]] = typedValue(m[2], m[3])
  }],
  [/^a context containing a targeting key with value "(.*)"$/, (s, m) => { s.context.targetingKey = m[1] }],
  [/^a context containing a nested property with outer key "(.*)" and inner key "(.*)", with value "(.*)"$/, (s, m) => {
    const outer = (s.context[m[1]] ??= {}) as Record<string, unknown>
    outer[m[2]] = m[3]
  }],
  [/^the flag was evaluated with details$/, (s) => { s.evaluated = true }],
  [/^the resolved details value should be "(.*)"$/, (s, m) => {
    if (s.flagType === undefined) throw new Error('value expected before the flag step')
    s.expectations.push({ kind: 'value', value: typedValue(s.flagType, m[1]) })
  }],
  [/^the reason should be "(.*)"$/, (s, m) => { s.expectations.push({ kind: 'reason', reason: m[1] }) }],
  [/^the variant should be "(.*)"$/, (s, m) => { s.expectations.push({ kind: 'variant', variant: m[1] }) }],
  [/^the error-code should be "(.*)"$/, (s, m) => { s.expectations.push({ kind: 'errorCode', errorCode: m[1] }) }],
  [/^the resolved metadata is empty$/, (s) => { s.expectations.push({ kind: 'metadataEmpty' }) }],
  [/^the resolved metadata should contain$/, (s, _m, step) => {
    const rows = step.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)) ?? []
    const [header, ...body] = rows
    if (header?.join('|') !== 'key|metadata_type|value') throw new Error(`metadata table header ${header?.join('|')}`)
    s.expectations.push({ kind: 'metadata', entries: body.map(([key, type, value]) => ({ key, value: typedValue(type, value) })) })
  }]
]

/** Example rows by AST id, to name an outline's pickles by their Examples block and row. */
function exampleRows (doc: GherkinDocument): Map<string, string> {
  const names = new Map<string, string>()
  const scenarios = (doc.feature?.children ?? []).flatMap((c) => [
    ...(c.scenario ? [c.scenario] : []),
    ...(c.rule?.children ?? []).flatMap((rc) => (rc.scenario ? [rc.scenario] : []))
  ])
  for (const scenario of scenarios) {
    for (const examples of scenario.examples) {
      const header = examples.tableHeader?.cells.map((c) => c.value) ?? []
      examples.tableBody.forEach((row, i) => {
        const cells = row.cells.map((c, j) => `${header[j]}=${c.value}`).join(', ')
        names.set(row.id, `${examples.name || 'Examples'} #${i + 1} (${cells})`)
      })
    }
  }
  return names
}

function toScenario (feature: string, pickle: Pickle, rows: Map<string, string>): Scenario {
  const row = pickle.astNodeIds.length > 1 ? rows.get(pickle.astNodeIds[pickle.astNodeIds.length - 1]) : undefined
  const s: Scenario = {
    title: [feature, pickle.name, ...(row ? [row] : [])].join(' › '),
    feature,
    tags: pickle.tags.map((t) => t.name),
    context: {},
    evaluated: false,
    expectations: []
  }
  for (const step of pickle.steps) {
    const handler = STEPS.find(([re]) => re.test(step.text))
    if (!handler) { s.unsupported ??= `step not implemented by this runner: "${step.text}"`; continue }
    try {
      handler[1](s, step.text.match(handler[0]) as RegExpMatchArray, step)
    } catch (err) {
      s.unsupported ??= `step "${step.text}": ${(err as Error).message}`
    }
  }
  if (!s.unsupported && (s.flagKey === undefined || !s.evaluated)) s.unsupported = 'scenario never evaluates a flag'
  return s
}

/** Every scenario of every `.feature` file under `gherkinDir`, in file order. */
export function loadScenarios (gherkinDir: URL): Scenario[] {
  const files = readdirSync(gherkinDir).filter((f) => f.endsWith('.feature')).sort()
  const scenarios: Scenario[] = []
  for (const file of files) {
    const source = readFileSync(new URL(file, gherkinDir), 'utf8')
    const newId = IdGenerator.uuid()
    const doc = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher()).parse(source)
    const feature = doc.feature?.name ?? file
    const rows = exampleRows(doc)
    for (const pickle of compile(doc, file, newId)) scenarios.push(toScenario(`${file}: ${feature}`, pickle, rows))
  }
  const seen = new Map<string, number>()
  for (const s of scenarios) {
    const n = (seen.get(s.title) ?? 0) + 1
    seen.set(s.title, n)
    if (n > 1) s.title += ` [${n}]`
  }
  return scenarios
}
