/**
 * The input rule's quick answer for flat objects of strings (a request's params and query) against
 * the rule itself: the same verdict as the walk, whatever the strings hold (NUL, lone surrogates).
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
