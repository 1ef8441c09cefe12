import { keepPreviousData, useInfiniteQuery, type UseInfiniteQueryResult, type InfiniteData } from '@tanstack/react-query'
import { unwrap, type Schemas } from '../../../api/client.js'
import { useSession } from '../../../api/session.js'

export type Override = Schemas['Override']
export type SubjectKind = Override['subject']
type OverrideList = Schemas['OverrideList']

/** What the list shows: every subject or one, either state or one, and ids that start with `q`. */
export interface OverrideFilters {
  subject: 'all' | SubjectKind
  state: 'all' | 'enabled' | 'disabled'
  q: string
}

/** A page of a flag's overrides per request: at 100k rows the list is only ever read a page at a time. */
export const PAGE_SIZE = 100

/** The query key of one flag's override lists in one environment (every filter under it). */
export const overridesKey = (environment: string, name: string) => ['overrides', environment, name] as const

/** One flag's overrides in one environment, filtered, a page at a time ("Load more" reads the next). */
export function useOverrides (environment: string, name: string, filters: OverrideFilters): UseInfiniteQueryResult<InfiniteData<OverrideList>> {
  const { client } = useSession()
  return useInfiniteQuery({
    queryKey: [...overridesKey(environment, name), filters.subject, filters.state, filters.q],
    // The rows stay while the next search loads, instead of flickering to empty.
    placeholderData: keepPreviousData,
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: OverrideList) => last.next_cursor ?? undefined,
    queryFn: async ({ pageParam }): Promise<OverrideList> => await unwrap(client.GET('/environments/{environment}/flags/{name}/overrides', {
      params: {
        path: { environment, name },
        query: {
          limit: PAGE_SIZE,
          ...(filters.subject === 'all' ? {} : { subject: filters.subject }),
          ...(filters.state === 'all' ? {} : { state: filters.state }),
          ...(filters.q === '' ? {} : { q: filters.q }),
          ...(pageParam === undefined ? {} : { cursor: pageParam })
        }
      }
    }))
  })
}

/** What an override serves, in words: its own variant, else the flag's default (on) or off variant. */
export function servedVariant (override: Pick<Override, 'enabled' | 'variant'>, flag: { default_variant: string, off_variant: string }): string {
  if (override.variant !== null) return override.variant
  return override.enabled ? `${flag.default_variant} (default)` : `${flag.off_variant} (off variant)`
}
