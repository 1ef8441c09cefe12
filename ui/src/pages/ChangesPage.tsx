import { Stack, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import { useLocation, useSearch } from 'wouter'
import { unwrap } from '../api/client.js'
import { useSession } from '../api/session.js'
import { ChangeFilters, type Filters } from '../components/history/ChangeFilters.js'
import { ChangeTimeline } from '../components/history/ChangeTimeline.js'
import { useChangeFeed } from '../components/history/useChangeFeed.js'

const PAGE_SIZE = 20
/** Each filter's name in the address (`/history?flag=checkout&env=production`), so a filtered view can be linked. */
const PARAMS: Record<keyof Filters, string> = { flag: 'flag', environment: 'env', actor: 'actor', action: 'action' }

/**
 * The change log (SPEC §11): who changed what, when, where, with each change's diff; filtered by flag,
 * environment, actor and kind of change, a page at a time. New changes appear at the top as they
 * happen (the shell's change stream refreshes the first page).
 */
export function ChangesPage (): ReactNode {
  const { client } = useSession()
  const [, navigate] = useLocation()
  const params = new URLSearchParams(useSearch())
  const filters: Filters = { flag: '', environment: '', actor: '', action: '' }
  for (const name of Object.keys(PARAMS) as Array<keyof Filters>) filters[name] = params.get(PARAMS[name]) ?? ''

  const setFilters = (next: Filters): void => {
    const query = new URLSearchParams()
    for (const name of Object.keys(PARAMS) as Array<keyof Filters>) if (next[name] !== '') query.set(PARAMS[name], next[name])
    navigate(query.toString() === '' ? '/history' : `/history?${query.toString()}`, { replace: true })
  }

  const feed = useChangeFeed(['changes', filters], async (cursor) => await unwrap(client.GET('/changes', {
    params: {
      query: {
        limit: PAGE_SIZE,
        ...(cursor === undefined ? {} : { cursor }),
        ...(filters.flag === '' ? {} : { flag: filters.flag }),
        ...(filters.environment === '' ? {} : { environment: filters.environment }),
        ...(filters.actor === '' ? {} : { actor: filters.actor }),
        ...(filters.action === '' ? {} : { action: filters.action })
      }
    }
  })))
  const filtered = Object.values(filters).some((v) => v !== '')

  return (
    <Stack>
      <Title order={2}>History</Title>
      <Text size='sm'>Every change, newest first, as it happens: in the environments your key covers.</Text>
      <ChangeFilters value={filters} onChange={(next) => setFilters(next)} error={feed.error} />
      <ChangeTimeline feed={feed} label='Changes' empty={filtered ? 'No change matches these filters.' : 'No changes yet.'} />
    </Stack>
  )
}
