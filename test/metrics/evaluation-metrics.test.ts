import { Registry } from 'prom-client'
import t from 'tap'
import { compileFlag, type CompiledFlag } from '../../src/engine/evaluate.js'
import { evaluationCounter } from '../../src/metrics/evaluation-metrics.js'
import { bulkPlanOf, choose } from '../../src/services/bulk-plan.js'
import { flagDefinition, targeting } from '../support/flag-definition.js'

/**
 * The counter's bulk path (servedEvaluated) over the engine's real results and plans: what the metrics
 * plugin's tests cannot reach in reasonable time, the counts of more revisions' plans than the counter
 * holds before it adds them to its tallies.
 */

/** flagpost_evaluations_total as {"environment flag reason": count}, read as a scrape reads it. */
async function counted (registry: Registry): Promise<Record<string, number>> {
  const [metric] = await registry.getMetricsAsJSON()
  return Object.fromEntries(metric.values.map(({ labels, value }) => [`${labels.environment} ${labels.flag} ${labels.reason}`, value]))
}

t.test('bulk evaluations counted by plan position: exact over more plans than are held before they are added up, and never twice', async (t) => {
  // 2,100 flags that all depend on the context: a plan holds 5 × 2,100 cells, so the 110 plans below
  // (one per revision) pass the 2^20 cells held, and the first ones are added up before the scrape.
  const flags = Array.from({ length: 2100 }, (_, i) => compileFlag(i % 3 === 0
    ? flagDefinition(`listed-${i}`, { targeting_rules: targeting({ user_ids: ['u1'], percentage: 0 }) })
    : flagDefinition(`half-${i}`, { targeting_rules: targeting({ percentage: 50 }) })))
  const registry = new Registry()
  const counter = evaluationCounter(registry)
  const expected: Record<string, number> = {}
  const contexts = [{ user_id: 'u1' }, { user_id: 'u2' }, { user_id: 'u3' }, {}]
  for (let revision = 0; revision < 110; revision++) {
    // A new list of the same flags is a new revision's plan.
    const plan = bulkPlanOf([...flags])
    t.equal(plan.evaluated.length, flags.length)
    const environment = revision % 2 === 0 ? 'production' : 'staging'
    for (const context of contexts.slice(0, 1 + (revision % contexts.length))) {
      const chosen = choose(plan, context, 0)
      counter.servedEvaluated(environment, plan, chosen)
      for (const entry of chosen.map((j) => plan.outcomes[j])) {
        const key = `${environment} ${entry.name} ${'reason' in entry ? entry.reason : ''}`
        expected[key] = (expected[key] ?? 0) + 1
      }
    }
  }
  t.ok(Object.keys(expected).some((k) => k.endsWith('TARGETING_MATCH')) && Object.keys(expected).some((k) => k.endsWith('SPLIT')) &&
    Object.keys(expected).some((k) => k.endsWith('DEFAULT')), 'three reasons served')
  t.strictSame(await counted(registry), expected, 'every evaluation counted once, under its environment, flag and reason')
  t.strictSame(await counted(registry), expected, 'a second scrape counts nothing again')

  const plan = bulkPlanOf([...flags])
  counter.servedEvaluated('production', plan, choose(plan, { user_id: 'u1' }, 0))
  const after = await counted(registry)
  t.equal(after['production listed-0 TARGETING_MATCH'], expected['production listed-0 TARGETING_MATCH'] + 1, 'counting goes on after a scrape')
  t.equal(after['staging listed-0 TARGETING_MATCH'], expected['staging listed-0 TARGETING_MATCH'])
})

t.test('single evaluations counted by plan entry (servedAt): exact over more plans than are held, alongside the other ways of counting', async (t) => {
  // 70,000 flags with two results each: a plan's 140,000 cells, so the 10 plans below pass the 2^20 held.
  // Each environment compiles its own flags, so its results are its own objects.
  const compiled = (): CompiledFlag[] => Array.from({ length: 70_000 }, (_, i) => compileFlag(flagDefinition(`f-${i}`, { targeting_rules: targeting({ user_ids: ['u1'], percentage: 0 }) })))
  const flagsOf = { production: compiled(), staging: compiled() }
  const registry = new Registry()
  const counter = evaluationCounter(registry)
  const expected: Record<string, number> = {}
  const tell = (key: string): void => { expected[key] = (expected[key] ?? 0) + 1 }
  for (let revision = 0; revision < 10; revision++) {
    const environment = revision % 2 === 0 ? 'production' : 'staging'
    const plan = bulkPlanOf(flagsOf[environment].slice(revision))
    for (const [place, user] of [[0, 'u1'], [0, 'u2'], [1, 'u1'], [plan.flags.length - 1, 'u2']] as const) {
      const index = choose(plan, { user_id: user }, 0)[place]
      counter.servedAt(environment, plan, index)
      const result = plan.outcomes[index]
      tell(`${environment} ${result.name} ${'reason' in result ? result.reason : ''}`)
    }
    // The same result told the object's way is added to the same tally.
    const result = plan.outcomes[choose(plan, { user_id: 'u1' }, 0)[0]]
    if (!('reason' in result)) throw new Error('a result')
    counter.served(environment, result)
    tell(`${environment} ${result.name} ${result.reason}`)
  }
  t.ok(Object.keys(expected).some((k) => k.endsWith('TARGETING_MATCH')) && Object.keys(expected).some((k) => k.endsWith('DEFAULT')), 'two reasons served')
  t.strictSame(await counted(registry), expected, 'every evaluation counted once, under its environment, flag and reason')
  t.strictSame(await counted(registry), expected, 'a second scrape counts nothing again')
})

t.test('single evaluations of one plan past a row of them (servedAt): each counted once, whether its row was added up when full or at the scrape', async (t) => {
  const flags = [compileFlag(flagDefinition('rollout', { targeting_rules: targeting({ user_ids: ['u1'], percentage: 50 }) }))]
  const plan = bulkPlanOf(flags)
  const registry = new Registry()
  const counter = evaluationCounter(registry)
  const expected: Record<string, number> = {}
  // 2,500 evaluations: two full rows of 1,024 and some, with a scrape between the first row and the second.
  for (let i = 0; i < 2_500; i++) {
    const index = choose(plan, { user_id: i % 7 === 0 ? 'u1' : `user-${i}` }, 0)[0]
    counter.servedAt('production', plan, index)
    const result = plan.outcomes[index]
    const key = `production rollout ${'reason' in result ? result.reason : ''}`
    expected[key] = (expected[key] ?? 0) + 1
    if (i === 1_500) t.strictSame(await counted(registry), expected, 'exact at a scrape between two rows')
  }
  t.equal(Object.keys(expected).length, 2, 'the user id list and the split served')
  t.strictSame(await counted(registry), expected, 'exact after the last row')
  t.strictSame(await counted(registry), expected, 'a second scrape counts nothing again')
})
