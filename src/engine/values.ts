/**
 * How context values (and clause values, at compile time) are read as numbers, instants and
 * semantic versions. Each reader is total: a value it cannot read gives NaN (or null), which
 * every comparison treats as "no match". Both sides of a clause go through the same reader, so
 * "2.3" in a rule and "2.3" in a context always mean the same thing.
 */
import semver, { type SemVer } from 'semver'

/** A context value that can be matched; anything else (null, objects, '') counts as missing. */
export type Scalar = string | number | boolean

/** Decimal numbers only: no hex/binary/octal, no whitespace, no Infinity. */
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** A number, or a numeric string, as a finite number; NaN otherwise (booleans included). */
export function toNumber (v: Scalar): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN
  if (typeof v !== 'string' || !NUMERIC.test(v)) return Number.NaN
  const n = Number(v)
  return Number.isFinite(n) ? n : Number.NaN
}

/** ISO-8601 date, or date-time with `Z` or a numeric offset. */
const ISO_ZONED = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2}))?$/
/** ISO-8601 date-time without a zone: read as UTC, never as the server's local time. */
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/
/** A string of digits is epoch milliseconds (what a query string turns a number into). */
const EPOCH_MS = /^-?\d{1,16}$/

/**
 * An instant as epoch ms: a finite number is epoch ms; a string is an ISO-8601 date or date-time
 * (zone-less date-times are UTC, so the result never depends on the host's time zone) or a string
 * of digits (epoch ms). NaN for anything else, including booleans.
 */
export function toEpochMs (v: Scalar): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN
  if (typeof v !== 'string') return Number.NaN
  // Stryker disable next-line ConditionalExpression: parsing every time gives the same values (speed only)
  if (v !== lastInstantText) {
    lastInstantMs = parseInstant(v)
    lastInstantText = v
  }
  return lastInstantMs
}

/**
 * The last string read as an instant and what it gave. Reading one is two regex tests and a
 * `Date.parse` (~190 ns, ten times any other clause); a bulk request reads the same context value for
 * every flag with a `before`/`after` clause on that attribute, and now reads it once.
 */
let lastInstantText: string | undefined
let lastInstantMs = Number.NaN

function parseInstant (v: string): number {
  if (ISO_ZONED.test(v)) return Date.parse(v)
  if (ISO_LOCAL.test(v)) return Date.parse(v + 'Z')
  if (EPOCH_MS.test(v)) return Number(v)
  return Number.NaN
}

/** A clause's target version, with its main numbers unpacked for the allocation-free fast path. */
export interface TargetVersion {
  readonly version: SemVer
  readonly major: number
  readonly minor: number
  readonly patch: number
  readonly prerelease: boolean
}

const PARTIAL = /^\d+(?:\.\d+)?$/

/**
 * Parses a version the way flagd's `sem_ver` does, so flags migrated from flagd behave the same:
 * one leading `v`/`V` is dropped; a full semver (`1.2.3`, `1.2.3-rc.1`, `1.2.3+build`) is parsed
 * strictly; a partial version `1` or `1.2` (also what a number such as 1.2 becomes) is padded
 * with zeros. Anything else (`1.2.3.4`, `latest`) is null.
 */
export function parseVersion (raw: string): SemVer | null {
  if (raw.length > 256) return null
  const c = raw.charCodeAt(0)
  const s = c === 118 || c === 86 ? raw.slice(1) : raw
  return semver.parse(s) ?? (PARTIAL.test(s) ? semver.coerce(s) : null)
}

export function targetVersion (version: SemVer): TargetVersion {
  return {
    version,
    major: version.major,
    minor: version.minor,
    patch: version.patch,
    prerelease: version.prerelease.length > 0
  }
}

/**
 * Compares version string `s` with `t` (-1, 0, 1; build metadata ignored, as semver says);
 * NaN when `s` is not a version. Plain `[v]MAJOR[.MINOR[.PATCH]]` strings, nearly every app
 * version, are compared digit by digit without allocating; everything else (prereleases, build
 * metadata, leading zeros, huge numbers, junk) takes the `parseVersion` path, so the two paths
 * cannot disagree.
 */
export function compareVersion (s: string, t: TargetVersion): number {
  const n = s.length
  let i = 0
  const c0 = s.charCodeAt(0)
  if (c0 === 118 || c0 === 86) i = 1
  let major = 0
  let minor = 0
  let patch = 0
  let parts = 0
  for (;;) {
    const start = i
    let value = 0
    while (i < n) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      value = value * 10 + (c - 48)
      i++
    }
    const digits = i - start
    if (digits === 0 || digits > 15 || (digits > 1 && s.charCodeAt(start) === 48)) return slowCompare(s, t)
    if (parts === 0) major = value
    else if (parts === 1) minor = value
    else patch = value
    parts++
    if (i === n) break
    if (parts === 3 || s.charCodeAt(i) !== 46) return slowCompare(s, t)
    i++
  }
  if (major !== t.major) return major < t.major ? -1 : 1
  if (minor !== t.minor) return minor < t.minor ? -1 : 1
  if (patch !== t.patch) return patch < t.patch ? -1 : 1
  // A release sorts after any prerelease of the same version.
  return t.prerelease ? 1 : 0
}

function slowCompare (s: string, t: TargetVersion): number {
  const v = parseVersion(s)
  return v === null ? Number.NaN : v.compare(t.version)
}
