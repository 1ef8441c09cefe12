/**
 * How a context as sent becomes the flat context the engine evaluates (src/engine/context.ts),
 * pinned by mutation testing (`npx stryker run --mutate src/engine/context.ts`): every test kills
 * mutants the rest of the engine suite let through.
 */
import t from 'tap'
import { MAX_CONTEXT_ATTRIBUTES, readContext } from '../../src/engine/index.js'

/** An object nesting `levels` objects named `d` below the top, with `leaf: 1` in the innermost one. */
function nest (levels: number): Record<string, unknown> {
  let o: Record<string, unknown> = { leaf: 1 }
  for (let i = 0; i < levels; i++) o = { d: o }
  return o
}

const keys = (n: number, value: unknown): Record<string, unknown> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]))

t.test('a flat context is used as it is; one holding undefined or an object is read into a new one', async (t) => {
  const flat = { a: 1, b: 'x', c: true }
  const withUndefined = { a: undefined, b: 1 }
  t.same([readContext(flat).context === flat, Object.keys(readContext(withUndefined).context ?? {})], [true, ['b']])
})

t.test('nested plain objects become dotted attributes; arrays, null, class instances and bad names are ignored', async (t) => {
  const input = {
    user: { plan: 'pro', tags: ['a'], none: null, deep: { x: 1 }, 'bad key': 1, '1x': 2, ok_: 3, 'a.b-c': true },
    'user.plan': 'free',
    list: [1],
    nothing: null,
    bare: Object.assign(Object.create(null), { p: 1 }),
    date: new Date(0),
    holder: { when: new Date(0) },
    '1u': { x: 1 }
  }
  t.strictSame(readContext(input), {
    context: { 'user.plan': 'free', 'user.deep.x': 1, 'user.1x': 2, 'user.ok_': 3, 'user.a.b-c': true, 'bare.p': 1 }
  })
})

t.test('nested names may have 64 characters, not 65', async (t) => {
  const prefix = 'a'.repeat(30)
  const input = { [prefix]: { ['b'.repeat(33)]: 1, ['c'.repeat(34)]: 2 } }
  t.same(Object.keys(readContext(input).context ?? {}), [`${prefix}.${'b'.repeat(33)}`])
})

t.test('limits: 8 levels, 64 attributes, 256 entries and 1024-character strings pass; one more is a problem', async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ['8 levels', nest(8)],
    ['9 levels', nest(9)],
    ['64 attributes, one nested', { ...keys(63, 0), o: { x: 1 } }],
    ['65 attributes, one nested', { ...keys(64, 0), o: { x: 1 } }],
    ['256 entries', { ...keys(255, null), o: {} }],
    ['257 entries', { ...keys(255, null), o: { x: null } }],
    ['a 1024-character string', { o: { s: 'x'.repeat(1024) } }],
    ['a 1025-character string', { o: { s: 'x'.repeat(1025) } }]
  ]
  t.same(cases.map(([label, input]) => [label, readContext(input, 'ctx').problem ?? 'read']), [
    ['8 levels', 'read'],
    ['9 levels', { field: 'ctx.d.d.d.d.d.d.d.d.d', message: 'nests deeper than 8 levels' }],
    ['64 attributes, one nested', 'read'],
    ['65 attributes, one nested', { field: 'ctx', message: `has more than ${MAX_CONTEXT_ATTRIBUTES} attributes, nested ones included` }],
    ['256 entries', 'read'],
    ['257 entries', { field: 'ctx', message: 'has more than 256 entries, nested ones included' }],
    ['a 1024-character string', 'read'],
    ['a 1025-character string', { field: 'ctx.o.s', message: 'must NOT have more than 1024 characters' }]
  ])
})

t.test('problems name the field "context" unless told otherwise', async (t) => {
  t.same(readContext({ o: { s: 'x'.repeat(1025) } }).problem, { field: 'context.o.s', message: 'must NOT have more than 1024 characters' })
})
