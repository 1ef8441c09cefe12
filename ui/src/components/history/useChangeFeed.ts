import { useMutation, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import type { Change, Schemas } from '../../api/client.js'

export type ChangeList = Schemas['ChangeList']

/** What a feed holds for one query: every entry loaded, newest first, and where the next page starts. */
interface Held {
  id: string
  /** The first page this was last merged with (react-query keeps its identity until it changes). */
  head: ChangeList | undefined
  entries: Change[]
  /** The cursor after the oldest entry held; null when that is the log's oldest. */
  cursor: string | null
}

/**
 * The first page merged into what is held. The change log only grows at its head and its entries never
 * change, so what was loaded stays: the new first page replaces its own range and the older entries
 * stay below it. If the new first page does not reach what was held (more than a page of changes came
 * at once), the gap cannot be shown honestly: start again from the first page.
 */
function merge (held: Held, id: string, head: ChangeList): Held {
  const fresh: Held = { id, head, entries: head.changes, cursor: head.next_cursor }
  if (held.id !== id || held.entries.length === 0 || head.next_cursor === null) return fresh
  const oldest = head.changes.at(-1)?.revision
  if (oldest === undefined || oldest > held.entries[0].revision) return fresh
  const below = held.entries.filter((c) => c.revision < oldest)
  return { id, head, entries: [...head.changes, ...below], cursor: below.length === 0 ? head.next_cursor : held.cursor }
}

export interface ChangeFeed {
  changes: Change[]
  /** The first page is loading (nothing to show yet). */
  isPending: boolean
  /** Why the first page failed. */
  error: unknown
  hasMore: boolean
  loadMore: () => void
  loadingMore: boolean
  /** Why the last "Load more" failed (the entries already shown stay). */
  moreError: unknown
}

/**
 * A change list read a page at a time, newest first. Only the first page is a query: the live stream's
 * invalidation refreshes it, so new entries appear at the top, while the older pages loaded with
 * "Load more" stay as they were (they cannot change) instead of being fetched again.
 */
export function useChangeFeed (queryKey: readonly unknown[], fetchPage: (cursor?: string) => Promise<ChangeList>, enabled = true): ChangeFeed {
  const id = JSON.stringify(queryKey)
  const head = useQuery({ queryKey, enabled, queryFn: async () => await fetchPage() })
  const [held, setHeld] = useState<Held>({ id: '', head: undefined, entries: [], cursor: null })
  // Merged while rendering (React's way of keeping state derived from what changed since the last render).
  if (head.data !== undefined && (held.id !== id || held.head !== head.data)) setHeld(merge(held, id, head.data))

  const more = useMutation({
    mutationFn: async (cursor: string) => ({ cursor, page: await fetchPage(cursor) }),
    onSuccess: ({ cursor, page }) => setHeld((now) => {
      // A page for another query, or one already appended: ignore it.
      if (now.id !== id || now.cursor !== cursor) return now
      const oldest = now.entries.at(-1)?.revision ?? Number.POSITIVE_INFINITY
      return { ...now, entries: [...now.entries, ...page.changes.filter((c) => c.revision < oldest)], cursor: page.next_cursor }
    })
  })

  const current = held.id === id
  return {
    changes: current ? held.entries : [],
    isPending: !current && head.error === null,
    error: head.error,
    hasMore: current && held.cursor !== null,
    loadMore: () => { if (current && held.cursor !== null) more.mutate(held.cursor) },
    loadingMore: more.isPending,
    // Only the failure of the page that would come next (not one of a previous filter's).
    moreError: current && more.isError && more.variables === held.cursor ? more.error : null
  }
}
