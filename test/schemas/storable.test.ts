/**
 * The input rule's quick answer (the walk without paths that every request's params, query and body
 * go through) against the rule itself: flat objects of strings whatever the strings hold (NUL, lone
 * surrogates), nested JSON with one bad leaf planted anywhere, and nesting at the limit.
 */
import fc from 'fast-check'
import t from 'tap'
import { inputProblems, stringProblem } from '../../src/schemas/storable.js'

// Strings of any UTF-16 code units, NUL and lone surrogates included.
const anyString = fc.string({ unit: 'binary-ascii' }).chain((ascii) =>
  fc.oneof(fc.constant(ascii), fc.string({ unit: 'binary' }), fc.constantFrom('\0', '\uD800', 'a\uDC00b', '\uD83D\uDE00')))

t.test('a flat object of strings obeys the rule exactly when every key and value does', async (t) => {
  fc.assert(fc.property(fc.dictionary(anyString, anyString), (object) => {
    const clean = Object.entries(object).every(([k, v]) => stringProblem(k) === undefined && stringProblem(v) === undefined)
    const problems = inputProblems(object)
    t.equal(problems === undefined, clean)
    // Refused: the walk still runs and names what is wrong.
    if (!clean) t.ok(problems!.length > 0)
  }), { numRuns: 500 })
})

t.test('a value that is not a string still gets the walk', async (t) => {
  t.equal(inputProblems({ user_id: 'carol', country: 'DE' }), undefined)
  t.same(inputProblems({ user_id: 'carol', n: Infinity }), [{ path: ['n'], message: 'must be a finite number' }])
  t.same(inputProblems({ a: 'x', b: ['\0'] }), [{ path: ['b', '0'], message: 'must not contain NUL characters' }])
  t.same(inputProblems({ 'k\0': 'x' }), [{ path: ['k\0'], message: 'keys must not contain NUL characters' }])
  // A query parameter given twice is an array of strings.
  t.equal(inputProblems({ user_id: ['a', 'b'] }), undefined)
  t.same(inputProblems({}, { maxDepth: 0 }), [{ path: [], message: 'nests deeper than 0 levels' }])
})

/** Every container of `value` (objects and arrays) with its path, the value itself first. */
function containers (value: unknown, path: string[] = []): Array<{ at: object, path: string[] }> {
  if (value === null || typeof value !== 'object') return []
  const inner = Object.entries(value).flatMap(([key, v]) => containers(v, [...path, key]))
  return [{ at: value, path }, ...inner]
}

// What the rule refuses at a leaf, and what inputProblems says of it.
const BAD_LEAVES: Array<[unknown, RegExp]> = [
  ['a\0b', /NUL/], ['\uD800', /unpaired surrogates/], [Infinity, /finite number/], [Number.NaN, /finite number/],
  [-Infinity, /finite number/], [new Date(0), /JSON value/], [10n, /JSON value/], [() => 1, /JSON value/]
]

t.test('nested JSON obeys the rule; one bad leaf anywhere in it is found, at its path', async (t) => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), fc.nat(), fc.constantFrom(...BAD_LEAVES.keys()), (clean, pick, b) => {
    if (inputProblems(clean) !== undefined) return false
    const value = structuredClone(clean) as unknown
    const all = containers(value)
    // A primitive has no room for a leaf: it goes into a list beside it.
    const { at: into, path } = all.length === 0 ? { at: [value], path: [] } : all[pick % all.length]
    const [leaf, message] = BAD_LEAVES[b]
    const key = Array.isArray(into) ? String(into.push(leaf) - 1) : 'planted\u00e9'
    if (!Array.isArray(into)) (into as Record<string, unknown>)[key] = leaf
    const problems = inputProblems(all.length === 0 ? into : value)
    return problems !== undefined && problems.length === 1 && problems[0].path.join('/') === [...path, key].join('/') && message.test(problems[0].message)
  }), { numRuns: 1000 })
  t.pass('1,000 values')
})

t.test('nesting: a container at the limit is refused, one level above it is not', async (t) => {
  const nest = (levels: number): unknown => levels === 0 ? 'x' : { n: nest(levels - 1) }
  t.equal(inputProblems(nest(64)), undefined, '64 objects deep: the innermost at depth 63')
  t.match(inputProblems(nest(65)), [{ message: /deeper than 64/ }])
  t.equal(inputProblems([[['x']]], { maxDepth: 3 }), undefined)
  t.match(inputProblems([[[['x']]]], { maxDepth: 3 }), [{ message: /deeper than 3/ }])
  // A cycle is as deep as the limit, never a stack overflow.
  const cycle: Record<string, unknown> = { a: 1 }
  cycle.self = cycle
  t.match(inputProblems(cycle), [{ message: /deeper than 64/ }])
})
