import fc from 'fast-check'

/**
 * JSON Schema (the subset the OpenAPI document uses) → fast-check arbitrary of values the schema
 * accepts: type, enum, const, pattern, minLength/maxLength, minimum/maximum, items, minItems/maxItems,
 * properties/required, additionalProperties, min/maxProperties, anyOf/oneOf, nullable, format date-time.
 * Sizes are kept small (the fuzz is about shapes, not volume); hostile values live in hostile.ts.
 */

export type Schema = Record<string, any>

/** A copy of `value` with every local `$ref` (`#/…`) replaced by what it points to; cycles are refused. */
export function resolveRefs (doc: object, value: unknown, seen: string[] = []): any {
  if (Array.isArray(value)) return value.map((v) => resolveRefs(doc, v, seen))
  if (value === null || typeof value !== 'object') return value
  const ref = (value as Schema).$ref
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`)
    if (seen.includes(ref)) throw new Error(`cyclic $ref ${[...seen, ref].join(' → ')}`)
    const target = ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<any>((node, key) => node?.[key], doc)
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`)
    const { $ref: _, ...siblings } = value as Schema
    return { ...resolveRefs(doc, target, [...seen, ref]), ...resolveRefs(doc, siblings, seen) }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(doc, v, seen)]))
}

export interface ArbitraryOptions {
  /** Strings a pattern-constrained field is drawn from half the time (when they match): names that exist. */
  hints?: string[]
  /** Largest array or dictionary generated. */
  maxItems?: number
}

const anyJson = fc.jsonValue({ maxDepth: 2 })
const MAX_STRING = 24

/** Values valid against `schema` (already $ref-resolved). */
export function arbitraryOf (schema: Schema | boolean | undefined, opts: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  if (schema === undefined || schema === true) return anyJson
  if (schema === false) throw new Error('no value satisfies the schema false')
  const nullable = schema.nullable === true
  const base = baseArbitrary(schema, opts)
  return nullable ? fc.option(base, { nil: null }) : base
}

function baseArbitrary (schema: Schema, opts: ArbitraryOptions): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  if (Array.isArray(union)) {
    // Siblings of anyOf (description, default…) constrain nothing the branches do not.
    return fc.oneof(...union.map((branch: Schema) => arbitraryOf(branch, opts)))
  }
  const type = schema.type ?? (schema.properties !== undefined || schema.additionalProperties !== undefined ? 'object' : undefined)
  if (Array.isArray(type)) return fc.oneof(...type.map((t: string) => baseArbitrary({ ...schema, type: t }, opts)))
  switch (type) {
    case 'string': return stringOf(schema, opts)
    case 'integer': return integerOf(schema)
    case 'number': return fc.oneof(integerOf(schema), fc.double({
      min: schema.minimum ?? -1e12, max: schema.maximum ?? 1e12, noNaN: true, noDefaultInfinity: true
    }).map((n) => Object.is(n, -0) ? 0 : n))
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'array': {
      const maxLength = Math.min(schema.maxItems ?? Infinity, opts.maxItems ?? 4)
      return fc.array(arbitraryOf(schema.items, opts), { minLength: Math.min(schema.minItems ?? 0, maxLength), maxLength })
    }
    case 'object': return objectOf(schema, opts)
    case undefined: return anyJson
    default: throw new Error(`unsupported schema type ${String(type)}`)
  }
}

function stringOf (schema: Schema, opts: ArbitraryOptions): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0
  const max = schema.maxLength ?? Infinity
  const fits = (s: string): boolean => [...s].length >= min && [...s].length <= max
  if (schema.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString())
  if (typeof schema.pattern === 'string') {
    const re = new RegExp(schema.pattern)
    const generated = fc.stringMatching(re, { size: 'xsmall' }).filter(fits)
    const hints = (opts.hints ?? []).filter((h) => re.test(h) && fits(h))
    return hints.length === 0 ? generated : fc.oneof(generated, fc.constantFrom(...hints))
  }
  const length = { minLength: min, maxLength: Math.min(max, Math.max(min, MAX_STRING)) }
  const free = fc.oneof({ arbitrary: fc.string({ unit: 'grapheme-ascii', ...length }), weight: 3 },
    fc.string({ unit: 'grapheme', ...length }), fc.string({ unit: 'binary', ...length }))
  return free.filter(fits)
}

function integerOf (schema: Schema): fc.Arbitrary<number> {
  const min = Math.ceil(schema.minimum ?? Number.MIN_SAFE_INTEGER)
  const max = Math.floor(schema.maximum ?? Number.MAX_SAFE_INTEGER)
  const small = fc.integer({ min: Math.max(min, -1000), max: Math.max(Math.min(max, 1000), Math.max(min, -1000)) })
  const edges = fc.constantFrom(min, max, Math.trunc((min + max) / 2))
  // fc.integer is 32-bit: wider ranges (ids up to 2^53 - 1) take safe integers clamped into range.
  const wide = max - min > 2 ** 31
    ? fc.maxSafeInteger().map((n) => Math.min(max, Math.max(min, n)))
    : fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) })
  return fc.oneof({ arbitrary: small, weight: 4 }, { arbitrary: edges, weight: 1 }, { arbitrary: wide, weight: 1 })
}

function objectOf (schema: Schema, opts: ArbitraryOptions): fc.Arbitrary<Record<string, unknown>> {
  const properties: Record<string, Schema> = schema.properties ?? {}
  const required: string[] = schema.required ?? []
  // Most of the time at most two optional properties: every one more is a chance to break a cross-field
  // rule (a default_value of another type, a variant that is not declared), and then nothing gets stored.
  const declared = fc.tuple(
    fc.record(Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, arbitraryOf(s, opts)])), { requiredKeys: required }),
    fc.oneof({ arbitrary: fc.nat({ max: 2 }), weight: 3 }, { arbitrary: fc.constant(Infinity), weight: 1 })
  ).map(([object, optional]) => {
    let kept = 0
    return Object.fromEntries(Object.entries(object).filter(([k]) => required.includes(k) || kept++ < optional))
  })
  const extra = schema.additionalProperties
  const minProperties = schema.minProperties ?? 0
  const maxProperties = schema.maxProperties ?? Infinity
  if (extra === false || (extra === undefined && Object.keys(properties).length > 0)) return declared
  const keys = fc.oneof(fc.constantFrom('on', 'off', 'a', 'b', 'user_id', 'customer_id', 'targetingKey', 'country', 'plan', 'version'),
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,11}$/)).filter((k) => !(k in properties))
  const maxKeys = Math.min(maxProperties, Math.max(minProperties, opts.maxItems ?? 4))
  const more = fc.dictionary(keys, arbitraryOf(extra === true || extra === undefined ? undefined : extra, opts), { minKeys: Math.min(minProperties, maxKeys), maxKeys, noNullPrototype: true })
  return fc.tuple(declared, more).map(([d, m]) => ({ ...m, ...d }))
    .filter((o) => Object.keys(o).length >= minProperties && Object.keys(o).length <= maxProperties)
}
