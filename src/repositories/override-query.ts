import { and, asc, eq, gt, gte, lt, type Column, type SQL } from 'drizzle-orm'
import { splitPosition, type OverrideListQuery, type StoredOverride, type SubjectKind } from './subject-repository.js'

/** The override columns a listing filters on; both dialects' tables have them, with the same names. */
export interface OverrideColumns { flagId: Column, environment: Column, subject: Column, subjectId: Column, enabled: Column }

/** The subjects in listing order: customers, then users. */
const SUBJECTS: readonly SubjectKind[] = ['customer', 'user']
const MAX_CODE_POINT = 0x10FFFF

/**
 * The ids that start with `prefix`, as a range of the ids' order (code points: SQLite's BINARY,
 * Postgres's COLLATE "C"): from `prefix` up to, not including, the first string after every string
 * that starts with it (`prefix` with its last code point incremented; none when every code point is
 * the last one). A range is read off the primary key like a cursor, so it stays fast at 100k rows;
 * LIKE would read `%`, `_` and `\` as wildcards and escapes, ignore case on SQLite, and scan.
 */
export function prefixRange (prefix: string): { from: string, below: string | undefined } {
  const points = [...prefix].map((c) => c.codePointAt(0)!)
  while (points.length > 0 && points[points.length - 1] === MAX_CODE_POINT) points.pop()
  if (points.length === 0) return { from: prefix, below: undefined }
  const last = points[points.length - 1] + 1
  // A lone surrogate is not text (Postgres refuses it): the next code point after U+D7FF is U+E000.
  points[points.length - 1] = last === 0xD800 ? 0xE000 : last
  return { from: prefix, below: String.fromCodePoint(...points) }
}

/** One subject's slice of a listing: ids after `after` (when set), at most `limit`, in id order. */
export type SubjectSlice = (subject: SubjectKind, after: string | undefined, limit: number) => Promise<StoredOverride[]>

/**
 * An override listing in (subject, id) order as at most one index range scan per subject, customers
 * then users, each from the cursor and within the prefix: with no subject filter, one scan of the
 * whole flag would walk every customer before it reached the users that match.
 */
export async function listBySubject (query: OverrideListQuery, slice: SubjectSlice): Promise<StoredOverride[]> {
  const [afterSubject, afterId] = query.after === undefined ? [undefined, undefined] : splitPosition(query.after)
  const rows: StoredOverride[] = []
  for (const subject of SUBJECTS) {
    if (rows.length >= query.limit) break
    if (query.subject !== undefined && subject !== query.subject) continue
    if (afterSubject !== undefined && subject < afterSubject) continue
    rows.push(...await slice(subject, subject === afterSubject ? afterId : undefined, query.limit - rows.length))
  }
  return rows
}

/** The WHERE and ORDER BY of one subject's slice, the same on SQLite and Postgres. */
export function overrideSliceQuery (t: OverrideColumns, flagId: string, environment: string, subject: SubjectKind, after: string | undefined,
  query: OverrideListQuery): { where: SQL | undefined, orderBy: SQL } {
  const range = query.prefix === undefined ? undefined : prefixRange(query.prefix)
  return {
    where: and(
      eq(t.flagId, flagId),
      eq(t.environment, environment),
      eq(t.subject, subject),
      query.enabled === undefined ? undefined : eq(t.enabled, query.enabled),
      after === undefined ? undefined : gt(t.subjectId, after),
      range === undefined ? undefined : gte(t.subjectId, range.from),
      range?.below === undefined ? undefined : lt(t.subjectId, range.below)
    ),
    orderBy: asc(t.subjectId)
  }
}
