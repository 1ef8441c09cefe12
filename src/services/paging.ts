import { encodeCursor } from './cursor.js'

/** One page of a listing, and the cursor of the next (null on the last). */
export interface Page<T> { items: T[], nextCursor: string | null }
export interface PageQuery { limit?: number, cursor?: string }

/** A page from `limit + 1` rows: the extra row only says there is more. */
export function page<T> (rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit)
  return { items, nextCursor: rows.length > limit ? encodeCursor(cursorOf(items[items.length - 1])) : null }
}

/**
 * Every item of a listing, read a page of `size` at a time (the CLI and the library list everything),
 * or only its first `max` (a history's newest entries): no page asks for more than are still wanted.
 */
export async function everyItem<T> (list: (query: { limit: number, cursor?: string }) => Promise<Page<T>>, size = 1000, max = Number.POSITIVE_INFINITY): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  do {
    const limit = Math.min(size, max - items.length)
    const next: Page<T> = await list(cursor === undefined ? { limit } : { limit, cursor })
    items.push(...next.items)
    cursor = next.nextCursor ?? undefined
  } while (cursor !== undefined && items.length < max)
  return items
}
