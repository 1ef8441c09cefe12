/**
 * How context and clause values are read as numbers, instants and versions (src/engine/values.ts),
 * pinned by mutation testing (`npx stryker run --mutate src/engine/values.ts`): every test kills
 * mutants the rest of the engine suite let through.
 */
import t from 'tap'
import { compileFlag, evaluate, parseVersion, toEpochMs, toNumber } from '../../src/engine/index.js'
import type { Clause, FlagDefinition } from '../../src/engine/index.js'

/** Whether `v` satisfies `operator target`, through a one-rule flag. */
function holds (operator: Clause['operator'], target: string, v: string): boolean {
  const def: FlagDefinition = {
    name: 'f',
    type: 'string',
    enabled: true,
    variants: { on: 'on', off: 'off', blue: 'blue' },
    default_variant: 'on',
    off_variant: 'off',
    metadata: {},
    version: 1,
    targeting_rules: {
      user_ids: [],
      customer_ids: [],
      rules: [{ id: 'r', clauses: [{ attribute: 'v', operator, values: [target] }], serve: { variant: 'blue' } }],
      percentage: 0,
      rollout: null,
      bucket_by: 'user_id'
    }
  }
  return evaluate(compileFlag(def), { v }, 0).variant === 'blue'
}

t.test('toNumber reads decimal notation only, whole string, finite', async (t) => {
  const read = ['5', '+5', '-5', '12', '1.', '1.5', '1.25', '.5', '.25', '1e3', '1E3', '1e+3', '1e-3', '2e10']
  const refused = [' 5', '5 ', 'x5', '5x', '0x10', '1e', 'e3', '.', '', '1..2', 'Infinity', '1e999', '+-5', '1.5.5', '1e3e3', '1f3', '5.a']
  t.same(read.map(toNumber), [5, 5, -5, 12, 1, 1.5, 1.25, 0.5, 0.25, 1000, 1000, 1000, 0.001, 2e10], 'numeric strings')
  t.same(refused.filter((s) => !Number.isNaN(toNumber(s))), [], 'everything else is NaN')
  const odd: (number | boolean)[] = [true, false, Infinity, -Infinity, Number.NaN]
  t.same([toNumber(3.5), toNumber(-0.5), odd.filter((v) => !Number.isNaN(toNumber(v)))], [3.5, -0.5, []],
    'finite numbers as they are; booleans and non-finite numbers NaN')
})

t.test('toEpochMs reads ISO-8601 dates and date-times (zone-less as UTC) and digit strings as epoch ms', async (t) => {
  const day = Date.UTC(2026, 10, 21)
  const ten = day + 10 * 3_600_000
  const read: [string, number][] = [
    ['2026-11-21', day],
    ['2026-11-21T10:00', ten],
    ['2026-11-21t10:00Z', ten],
    ['2026-11-21 10:00:30Z', ten + 30_000],
    ['2026-11-21T10:00:30.5Z', ten + 30_500],
    ['2026-11-21T10:00:30.123456789Z', ten + 30_123],
    ['2026-11-21T10:00z', ten],
    ['2026-11-21T10:00+02:00', ten - 7_200_000],
    ['2026-11-21T10:00-0130', ten + 5_400_000],
    ['2026-11-21T10:00+0200', ten - 7_200_000],
    ['2026-11-21T10:00:30', ten + 30_000],
    ['2026-11-21T10:00:30.25', ten + 30_250],
    ['2026-11-21T10:00:30.123456789', ten + 30_123],
    ['2026-11-21t10:00', ten],
    ['2026-11-21 10:00', ten],
    ['1764000000000', 1764000000000],
    ['-1764000000000', -1764000000000],
    ['1234567890123456', 1234567890123456]
  ]
  const refused = ['2026-11-21T10:00:30.1234567890Z', '2026-11-21T10', '2026-11-21T10:00+2:00', '202-11-21', '2026-1-21', '2026-11-2',
    '12026-11-21', '2026-11-21Z', 'x2026-11-21', '2026-11-21x', '12345678901234567', '-', '', '17640000000000x', 'x1', '2026/11/21',
    '2026-11-21T10:00:30.Z', '2026-11-21T10:00+02', '2026-11-21T10:00:3Z', '2026-11-21T1:00Z', '2026-11-21T10:0Z',
    '2026-11-21T10:00:30.1234567890', '2026-11-21T10-00', '2026-11-21T10:00:30:00Z']
  t.same(read.map(([s]) => [s, toEpochMs(s)]), read, 'readable instants')
  t.same(refused.filter((s) => !Number.isNaN(toEpochMs(s))), [], 'everything else is NaN')
  t.same([toEpochMs(5), Number.isNaN(toEpochMs(Infinity)), Number.isNaN(toEpochMs(true))], [5, true, true], 'numbers are epoch ms if finite; booleans NaN')
})

t.test('toEpochMs remembers only the last string it read: each read gives that string\'s own instant', async (t) => {
  const day = Date.UTC(2026, 10, 21)
  const reads: Array<[string | number | boolean, number]> = [
    ['2026-11-21', day], ['2026-11-21', day], ['2026-11-22', day + 86_400_000], ['2026-11-21', day],
    ['not a date', Number.NaN], ['2026-11-21', day], [String(day), day], [5, 5], [true, Number.NaN], [String(day), day],
    // The same text as another string object: read alike.
    [['2026', '11', '21'].join('-'), day]
  ]
  t.same(reads.map(([v]) => [v, toEpochMs(v)]), reads)
})

t.test('parseVersion drops a v, pads partial versions and refuses the rest', async (t) => {
  const cases = ['1.2.3', 'v1.2.3', 'V1.2.3', '1', '1.2', 'v1.2', '1.2.3.4', 'latest', '1.2.3-rc.1', '1.2.3+b', 'x1', '1x', '1.x',
    '01.2', '1.02', '.1', '1.', '1.2.', '', 'v', 'w1.2.3']
  t.same(cases.map((s) => [s, parseVersion(s)?.version ?? null]), [
    ['1.2.3', '1.2.3'], ['v1.2.3', '1.2.3'], ['V1.2.3', '1.2.3'], ['1', '1.0.0'], ['1.2', '1.2.0'], ['v1.2', '1.2.0'],
    ['1.2.3.4', null], ['latest', null], ['1.2.3-rc.1', '1.2.3-rc.1'], ['1.2.3+b', '1.2.3'], ['x1', null], ['1x', null], ['1.x', null],
    ['01.2', null], ['1.02', null], ['.1', null], ['1.', null], ['1.2.', null], ['', null], ['v', null], ['w1.2.3', null]
  ])
  const at256 = '1.2.3-' + 'a'.repeat(250)
  t.same([parseVersion(at256)?.version, parseVersion(at256 + 'a')], [at256, null], 'at most 256 characters')
})

t.test('semver clauses compare the way semver does, on the fast path and off it', async (t) => {
  const cases: [Clause['operator'], string, string][] = [
    ['semver_eq', '1.2.3', '01.2.3'],
    ['semver_gt', '1.0.0', '99999999999999999.0.0'],
    ['semver_gt', '1.0.0', '1234567890123456.0.0'],
    ['semver_gt', '1.0.0', '1.2.3.4'],
    ['semver_lt', '1.2.3', '1.2.3-rc.1'],
    ['semver_eq', '1.2.0', '1.2'],
    ['semver_gt', '1.2.3-rc.1', '1.2.3'],
    ['semver_eq', '1.2.3-rc.1', '1.2.3'],
    ['semver_eq', '1.2.3', 'v1.2.3'],
    ['semver_eq', '1.2.3', 'V1.2.3'],
    ['semver_eq', '10.20.30', '10.20.30'],
    ['semver_lt', '1.2.4', '1.2.3'],
    ['semver_gt', '1.2.9', '1.3.0'],
    ['semver_gt', '1.9.9', '2.0.0'],
    ['semver_lt', '2.0.0', '1.9.9'],
    ['semver_lt', '1.3.0', '1.2.9'],
    ['semver_gt', '1.2.3', '1.2.4'],
    ['semver_gte', '0.0.0', '1..2'],
    ['semver_gte', '0.0.0', '1.'],
    ['semver_gte', '0.0.0', ''],
    ['semver_eq', '1.0.0', '1'],
    ['semver_eq', '0.2.0', '0.2'],
    ['semver_gt', '1.2.3', '1.2.3+build'],
    ['semver_eq', '1.2.3', '1.2.3+build'],
    ['semver_eq', '0.0.0', '0.0.0'],
    ['semver_lt', '1.2.3', '1.2.2'],
    ['semver_eq', '1.2.3', '1.2.3x'],
    ['semver_eq', '1.2.3', '1x2.3'],
    ['semver_lt', '2.1.1', '1.2.3'],
    ['semver_gt', '1.2.3', '2.1.1'],
    ['semver_lt', '1.2.0', '1.1.9'],
    ['semver_gt', '1.1.9', '1.2.0']
  ]
  t.same(cases.filter(([op, target, v]) => holds(op, target, v)).map(([op, target, v]) => `${v} ${op} ${target}`), [
    '1234567890123456.0.0 semver_gt 1.0.0',
    '1.2.3-rc.1 semver_lt 1.2.3',
    '1.2 semver_eq 1.2.0',
    '1.2.3 semver_gt 1.2.3-rc.1',
    'v1.2.3 semver_eq 1.2.3',
    'V1.2.3 semver_eq 1.2.3',
    '10.20.30 semver_eq 10.20.30',
    '1.2.3 semver_lt 1.2.4',
    '1.3.0 semver_gt 1.2.9',
    '2.0.0 semver_gt 1.9.9',
    '1.9.9 semver_lt 2.0.0',
    '1.2.9 semver_lt 1.3.0',
    '1.2.4 semver_gt 1.2.3',
    '1 semver_eq 1.0.0',
    '0.2 semver_eq 0.2.0',
    '1.2.3+build semver_eq 1.2.3',
    '0.0.0 semver_eq 0.0.0',
    '1.2.2 semver_lt 1.2.3',
    '1.2.3 semver_lt 2.1.1',
    '2.1.1 semver_gt 1.2.3',
    '1.1.9 semver_lt 1.2.0',
    '1.2.0 semver_gt 1.1.9'
  ])
})
