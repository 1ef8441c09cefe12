import t from 'tap'
import semver from 'semver'
import { compareVersion, parseVersion, targetVersion, toEpochMs, toNumber } from '../../src/engine/values.js'
import { differs, failing } from '../support/cases.js'

t.test('compareVersion fast path agrees with semver on every input', async (t) => {
  const targets = ['0.0.0', '1.0.0', '1.2.0', '1.2.3', '2.0.0-alpha', '2.0.0', '10.0.0', '1.2.3-rc.1+b', '999999999999999.0.0']
  const inputs = [
    '0', '1', '1.2', '1.2.3', 'v1.2.3', 'V1.2.3', 'vv1.2.3', '1.2.3-rc.1', '1.2.3+build', '2.0.0-alpha', '2.0.0',
    '10.0.0', '9.99.999', '01.2.3', '1.02.3', '1.2.03', '0.0.0', '1.', '1..2', '.1', '1.2.3.4', 'v', '', ' 1.2.3',
    '1.2.3 ', 'x1.2.3', '1.2.3x', '999999999999999.0.0', '9999999999999999.0.0', '99999999999999999.0.0', '1.2-beta', 'latest'
  ]
  const pairs = targets.flatMap((target) => inputs.map((input) => [input, target] as const))
  t.same(failing(pairs, ([input, target]) => {
    const tv = targetVersion(parseVersion(target)!)
    const slow = parseVersion(input)
    const want = slow === null ? Number.NaN : semver.compare(slow, tv.version)
    return differs(`${JSON.stringify(input)} vs ${target}`, compareVersion(input, tv), want)
  }), [], `all ${pairs.length} input × target pairs: the same order as semver.compare, NaN where parseVersion refuses`)
})

t.test('parseVersion follows flagd: v prefix, partial versions, strict otherwise', async (t) => {
  t.equal(parseVersion('v1.2.3')?.version, '1.2.3')
  t.equal(parseVersion('V1.2.3')?.version, '1.2.3')
  t.equal(parseVersion('1.2')?.version, '1.2.0')
  t.equal(parseVersion('1')?.version, '1.0.0')
  t.equal(parseVersion('1.2.3-rc.1+b')?.version, '1.2.3-rc.1')
  t.equal(parseVersion('1.2.3.4'), null)
  t.equal(parseVersion('1.2-beta'), null)
  t.equal(parseVersion('latest'), null)
  t.equal(parseVersion('1'.repeat(300)), null)
})

t.test('toNumber', async (t) => {
  const cases: [string | number | boolean, number][] = [
    [1, 1], [-2.5, -2.5], ['3', 3], ['-3.5', -3.5], ['+4', 4], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['1E-2', 0.01]
  ]
  t.same(failing(cases, ([v, n]) => differs(JSON.stringify(v), toNumber(v), n)), [], 'numbers and decimal strings convert')
  const notNumbers = ['', ' ', ' 1', '1 ', '0x10', '0b1', 'Infinity', 'NaN', '1,5', 'abc', true, false, Number.POSITIVE_INFINITY, Number.NaN]
  t.same(failing(notNumbers, (v) => Number.isNaN(toNumber(v)) ? undefined : { case: JSON.stringify(v), actual: toNumber(v) }), [], 'blanks, padding, hex, binary, words, booleans and non-finite values are NaN')
})

t.test('toEpochMs', async (t) => {
  t.equal(toEpochMs('2026-11-21'), Date.UTC(2026, 10, 21))
  t.equal(toEpochMs('2026-11-21T10:00:00Z'), Date.UTC(2026, 10, 21, 10))
  t.equal(toEpochMs('2026-11-21T10:00:00.250Z'), Date.UTC(2026, 10, 21, 10, 0, 0, 250))
  t.equal(toEpochMs('2026-11-21T10:00:00+02:00'), Date.UTC(2026, 10, 21, 8))
  t.equal(toEpochMs('2026-11-21T10:00:00'), Date.UTC(2026, 10, 21, 10), 'zone-less is UTC')
  t.equal(toEpochMs('2026-11-21T10:00'), Date.UTC(2026, 10, 21, 10), 'zone-less, no seconds')
  t.equal(toEpochMs(1_700_000_000_000), 1_700_000_000_000)
  t.equal(toEpochMs('1700000000000'), 1_700_000_000_000, 'digits are epoch ms')
  const notInstants = ['yesterday', '2026-13-01', '21/11/2026', 'Sat, 21 Nov 2026 10:00:00 GMT', '', true, Number.NaN]
  t.same(failing(notInstants, (v) => Number.isNaN(toEpochMs(v)) ? undefined : { case: JSON.stringify(v), actual: toEpochMs(v) }), [], 'words, impossible dates, other formats, booleans and NaN are not instants')
})
