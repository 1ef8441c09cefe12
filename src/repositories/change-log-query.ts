import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, not, or, sql, type Column, type SQL } from 'drizzle-orm'
import { actionFilter, type ChangeQuery } from './change-log-repository.js'

/** The change-log columns a query filters on; both dialects' tables have them, with the same names. */
export interface ChangeLogColumns { id: Column, at: Column, actor: Column, action: Column, environment: Column, flagId: Column, flag: Column }

/**
 * `column` begins with `prefix`, literally. Not LIKE: it reads `_` and `%` in the prefix as wildcards
 * (group `api_key` would match `apixkey.*`), and on SQLite it ignores case. substr counts characters
 * (code points) on both dialects, hence the length in code points.
 */
const startsWith = (column: Column, prefix: string): SQL => sql`substr(${column}, 1, ${[...prefix].length}) = ${prefix}`

/**
 * The largest id either dialect's change log holds (Postgres `integer`). A revision bound beyond it is
 * decided here, never sent: Postgres refuses an out-of-range integer parameter (a 500 for
 * `from_revision=9007199254740991`, which the schema allows as a safe integer).
 */
const MAX_ID = 2_147_483_647
const NOTHING = sql`1 = 0`
const idAtLeast = (c: Column, n: number): SQL => n > MAX_ID ? NOTHING : gte(c, n)
const idAtMost = (c: Column, n: number): SQL | undefined => n >= MAX_ID ? undefined : lte(c, n)
const idAbove = (c: Column, n: number): SQL => n >= MAX_ID ? NOTHING : gt(c, n)
const idBelow = (c: Column, n: number): SQL | undefined => n > MAX_ID ? undefined : lt(c, n)

/** The WHERE and ORDER BY of a change-log query, the same on SQLite and Postgres. */
export function changeLogQuery (t: ChangeLogColumns, q: ChangeQuery): { where: SQL | undefined, orderBy: SQL } {
  const action = q.action === undefined ? undefined : actionFilter(q.action)
  const visible = q.visibility
  const conditions: Array<SQL | undefined> = [
    q.after === undefined ? undefined : q.order === 'asc' ? idAbove(t.id, q.after) : idBelow(t.id, q.after),
    q.flagId === undefined ? undefined : eq(t.flagId, q.flagId),
    q.flag === undefined ? undefined : eq(t.flag, q.flag),
    q.environment === undefined ? undefined : eq(t.environment, q.environment),
    q.actor === undefined ? undefined : eq(t.actor, q.actor),
    action === undefined ? undefined : 'exact' in action ? eq(t.action, action.exact) : startsWith(t.action, action.prefix),
    q.fromRevision === undefined ? undefined : idAtLeast(t.id, q.fromRevision),
    q.toRevision === undefined ? undefined : idAtMost(t.id, q.toRevision),
    q.since === undefined ? undefined : gte(t.at, q.since),
    q.until === undefined ? undefined : lt(t.at, q.until),
    visible?.environments === undefined ? undefined : or(isNull(t.environment), inArray(t.environment, [...visible.environments])),
    visible === undefined || visible.apiKeys ? undefined : or(isNotNull(t.environment), not(startsWith(t.action, 'api_key.')))
  ]
  return { where: and(...conditions), orderBy: q.order === 'asc' ? asc(t.id) : desc(t.id) }
}
