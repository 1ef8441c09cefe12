// Postgres URL handling without loading the driver: config validation uses it too.

/** True for the URLs that select Postgres: `postgres://…` and `postgresql://…`. */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url)

/** A schema name used in search_path and SQL unquoted-safe: lower-case identifier characters only. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Split Flagpost's own `schema` parameter off a postgres:// URL: `postgres://h/db?schema=flagpost`
 * keeps every table (and the migration journal) in schema `flagpost` instead of `public`.
 * Throws on a malformed URL or schema name; the rest of the URL goes to node-postgres unchanged.
 */
export function parsePostgresUrl (url: string): { connectionString: string, schema: string | undefined } {
  let parsed: URL
  try { parsed = new URL(url) } catch { throw new Error('is not a valid URL') }
  const schemaName = parsed.searchParams.get('schema') ?? undefined
  if (schemaName !== undefined && !SCHEMA_NAME.test(schemaName)) {
    throw new Error(`schema must be a lower-case identifier (a-z, 0-9, _; not starting with a digit), got "${schemaName}"`)
  }
  parsed.searchParams.delete('schema')
  return { connectionString: parsed.toString(), schema: schemaName }
}

/** `url` with `?schema=<name>` set (replacing any): what tests use to get a private schema. */
export function withSchema (url: string, schemaName: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('schema', schemaName)
  return parsed.toString()
}
