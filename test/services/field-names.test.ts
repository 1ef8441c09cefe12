import t from 'tap'
import { failure } from '../../src/cli/failure.js'
import { invalid } from '../../src/errors.js'
import { requestField } from '../../src/problem.js'
import { camelField, separatedField } from '../../src/services/field-names.js'
import { everyItem, page } from '../../src/services/paging.js'

t.test('a stored or engine name becomes the domain\'s, and the domain\'s an edge\'s: first segment only', async (t) => {
  t.equal(camelField('targeting_rules.rules.0.serve'), 'targetingRules.rules.0.serve')
  t.equal(camelField('default_variant'), 'defaultVariant')
  t.equal(separatedField('targetingRules.bucket_by', '_'), 'targeting_rules.bucket_by', 'JSON the client wrote is left as written')
  t.equal(separatedField('defaultValue', '-'), 'default-value')
  t.equal(separatedField('variants.myVariant', '_'), 'variants.myVariant', 'variant names are data, not field names')
})

t.test('HTTP renders a domain field in the part of the request that carries it, body first', async (t) => {
  const write = { body: { default_value: 1, id: 'x' }, params: { name: 'f', id: 'p' }, query: { cursor: 'c' } }
  t.equal(requestField('defaultValue', write), 'body.default_value')
  t.equal(requestField('id', write), 'body.id', 'an id in the body is the body\'s')
  t.equal(requestField('id', { ...write, body: {} }), 'params.id', 'else the path\'s')
  t.equal(requestField('cursor', write), 'query.cursor')
  t.equal(requestField('newName', { body: {}, params: {}, query: {} }), 'body.new_name', 'a field no part carries is the body\'s')
  t.equal(requestField('body.context.x', write), 'body.context.x', 'a field already named by part is left alone')
})

t.test('the CLI renders the same domain fields as its arguments and options', async (t) => {
  const problems = [{ field: 'defaultValue', message: 'must be a number' }, { field: 'name', message: 'bad' }, { field: 'customerId', message: 'bad' }]
  t.strictSame(failure(invalid(problems)), { message: '--default-value: must be a number; NAME: bad; --customer-id: bad', code: 1 })
})

t.test('every page of a listing, read until the cursor runs out', async (t) => {
  const rows = Array.from({ length: 7 }, (_, i) => `r${i}`)
  const pages: Array<{ limit: number, cursor?: string }> = []
  const items = await everyItem(async (query) => {
    pages.push(query)
    const from = query.cursor === undefined ? 0 : rows.indexOf(Buffer.from(query.cursor, 'base64url').toString()) + 1
    return page(rows.slice(from, from + query.limit + 1), query.limit, (last) => last)
  }, 3)
  t.strictSame(items, rows)
  t.equal(pages.length, 3, 'three pages of three for seven rows')
})
