import fc from 'fast-check'

/**
 * Hostile values for the OpenAPI fuzz (test/fuzz/openapi-fuzz.test.ts): what a careless or malicious
 * client sends instead of what the schema asks for. JSON.stringify cannot write some of them (1e309,
 * -0, 400-digit numbers, 100 000 levels of nesting without a stack overflow), so bodies are written by
 * toJsonText, which copies a Raw value's text into the document verbatim.
 */

/** JSON text placed into a body as is. */
export class Raw {
  constructor (readonly text: string) {}
  toJSON (): string { return `<raw ${this.text.length > 40 ? `${this.text.slice(0, 40)}… (${this.text.length} chars)` : this.text}>` }
}

/** A JSON document with Raw values copied verbatim; everything else as JSON.stringify writes it. */
export function toJsonText (value: unknown): string {
  if (value instanceof Raw) return value.text
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v === undefined ? null : v)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

const nestedArrays = (depth: number): Raw => new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`)
const nestedObjects = (depth: number): Raw => new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)

/** Numbers JSON can spell and IEEE doubles cannot hold, or hold only as something else. */
export const RAW_NUMBERS = ['1e309', '-1e309', '-0', '-0.0', '1e-400', `1${'0'.repeat(400)}`, '9007199254740993', '0.1e1', '1E2']
  .map((text) => new Raw(text))

/** Strings that break parsers, encoders, databases and regex engines. */
export const HOSTILE_STRINGS = [
  'NaN', 'Infinity', '-Infinity', '1e309', '-0', '', ' ', '\t\n',
  '\u0000', 'a\u0000b', '\ud800', 'a\udfffb', '\udc00\ud800', '\uffff', '\ufeffbom', '\u2028\u2029',
  'İ', 'ß', '🚩', '👩‍👩‍👧', 'ﷺ', '\u202eevil', 'e\u0301',
  'a'.repeat(257), 'a'.repeat(1025), 'a'.repeat(20_000),
  '(a+)+$', '(', '[', '\\', '(?<=a)b', '*', '%E0%A4%A', '%00', '../..', '/', 'a/b',
  "' or 1=1 --", '"; drop table flags; --', '<script>', '{"a":1}', 'true', '12.5', 'null', '__proto__', 'constructor'
]

/** Keys an attacker adds to objects. */
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', '', ' ', '\u0000', '\ud800', 'a'.repeat(300), 'extra', 'toString', '$ref']

/** Any hostile JSON value: wrong types, unrepresentable numbers, hostile strings, deep and wide structures. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...RAW_NUMBERS), weight: 3 },
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 4 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 31), [], {}, [null], { a: {} }, [[]]), weight: 3 },
  { arbitrary: fc.constantFrom(64, 1000, 40_000).chain((d) => fc.constantFrom(nestedArrays(d), nestedObjects(d))), weight: 1 },
  { arbitrary: fc.constantFrom<unknown>(Array.from({ length: 10_001 }, () => 1), Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]))), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 2 }
)

/** A whole request body that is not what a JSON API expects: [body, content-type]. */
export const hostileBody: fc.Arbitrary<{ payload: string | Buffer, contentType: string | undefined }> = fc.oneof(
  fc.constantFrom('not json', '', '{', '{"a":1,}', '\u0000', 'null', '[]', '"str"', '1e309', '-0', 'true',
    '\ufeff{}', '{"name":"a","name":"b"}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}',
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`, `{"a":"${'x'.repeat(300 * 1024)}"}`)
    .map((payload) => ({ payload, contentType: 'application/json' })),
  fc.constant({ payload: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), contentType: 'application/json' }),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1',
    'application/merge-patch+json', 'application/xml', 'APPLICATION/JSON', 'application/json;;', undefined)
    .map((contentType) => ({ payload: '{}', contentType }))
)

/** A path segment as it goes into the URL, unencoded: bad percent-encoding, separators, dots, lengths. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%E0%A4%A', '%', '%zz', '%ED%A0%80', '%C0%AF', '%00', '%2F', '%2e%2e', '..', '.', 'a/b', '../flags', '',
    '%20', '%u0041', '%25', 'a'.repeat(257), 'a'.repeat(513), 'a'.repeat(5000), '%F0%9F%9A%A9', ';', ':x', '*', '~', '@', '+', '='),
  fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 5000)).map((s) => { try { return encodeURIComponent(s) } catch { return escape(s) } })
)

/** A query value as it goes into the URL, unencoded. */
export const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%E0%A4%A', '%', '%zz', '%ED%A0%80', '', '1e309', '-0', 'NaN', '-1', '0', '1.5', '1001', '99999999999999999999',
    'a'.repeat(600), 'true', '[]', '%00', 'x&limit=2', 'a%26b'),
  fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s.length < 5000)).map((s) => { try { return encodeURIComponent(s) } catch { return escape(s) } })
)

/** Header values (Node rejects control characters in headers, so none of those). */
export const hostileHeader: fc.Arbitrary<string> = fc.constantFrom('*', 'W/"1"', '"abc"', '""', '"1e309"', '"-1"', '"0"', '"-0"',
  '"99999999999999999999"', 'a'.repeat(65), 'a'.repeat(10_000), '1', '"1", "2"', 'é', '"\u00ff"')
