/**
 * The driver errors behind an error: drizzle wraps every failed query in a DrizzleQueryError whose
 * `cause` is node-postgres' error, and a refused connection to a host with several addresses is an
 * AggregateError. Yields the error itself first, then what it wraps.
 */
export function * errorChain (err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const next = queue.shift()
    if (typeof next !== 'object' || next === null || seen.has(next)) continue
    seen.add(next)
    yield next as Record<string, unknown>
    const { cause, errors } = next as { cause?: unknown, errors?: unknown }
    queue.push(cause)
    if (Array.isArray(errors)) queue.push(...errors)
  }
}

/** The SQLSTATE (or Node system error code) of the first error in the chain that has one. */
export function pgCode (err: unknown): string | undefined {
  for (const e of errorChain(err)) if (typeof e.code === 'string') return e.code
  return undefined
}

/** 23505: a unique or primary key constraint refused the row. */
export const isUniqueViolation = (err: unknown): boolean => pgCode(err) === '23505'
/** 23503: a foreign key refused the row (the flag it points at is gone). */
export const isForeignKeyViolation = (err: unknown): boolean => pgCode(err) === '23503'
