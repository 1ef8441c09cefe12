import { Button, Loader, Stack, Text } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { useState, type ReactNode } from 'react'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { ClearOverrideModal } from './overrides/ClearOverrideModal.js'
import { OverrideFilterBar } from './overrides/OverrideFilterBar.js'
import { OverrideForm, type OverrideDraft } from './overrides/OverrideForm.js'
import { OverrideTable } from './overrides/OverrideTable.js'
import { useOverrides, type Override, type OverrideFilters } from './overrides/useOverrides.js'
import type { FlagPanelProps } from './panel.js'

/**
 * The flag's overrides tab: the customers and users switched on or off explicitly in this environment,
 * filtered by subject and state, searched by id prefix and read a page at a time (a flag may have
 * 100k); an editor sets, edits and clears them, a viewer reads them with the reason they cannot.
 */
export function OverridesPanel ({ flag, environment, canWrite }: FlagPanelProps): ReactNode {
  const session = useSession()
  const [filters, setFilters] = useState<Omit<OverrideFilters, 'q'>>({ subject: 'all', state: 'all' })
  const [search, setSearch] = useState('')
  const [q] = useDebouncedValue(search.trim(), 250)
  const [draft, setDraft] = useState<OverrideDraft | null>(null)
  const [clearing, setClearing] = useState<Override | null>(null)
  const list = useOverrides(environment, flag.name, { ...filters, q })
  const overrides = list.data?.pages.flatMap((p) => p.overrides) ?? []
  const filtered = q !== '' || filters.subject !== 'all' || filters.state !== 'all'

  return (
    <Stack>
      <Text size='sm'>
        Customers and users switched on or off explicitly for this flag in {environment}. An override comes before the
        listed ids, the rules and the percentage; only the kill switch comes before it.
      </Text>
      <OverrideForm flag={flag} environment={environment} disabled={!canWrite} reason={session.readOnlyReason} draft={draft} />
      <OverrideFilterBar filters={filters} search={search} onFilters={setFilters} onSearch={setSearch} />
      <ErrorNotice error={list.error} title='Could not load the overrides' />
      {list.isPending && <Loader aria-label='Loading overrides' />}
      {list.isSuccess && overrides.length === 0 && (
        <Text data-testid='empty'>{filtered ? 'No override matches.' : `No overrides in ${environment}.`}</Text>
      )}
      {overrides.length > 0 && (
        <OverrideTable
          overrides={overrides} flag={flag} canWrite={canWrite}
          onEdit={(o) => setDraft({ subject: o.subject, id: o.id, enabled: o.enabled, variant: o.variant })}
          onClear={(o) => setClearing(o)}
        />
      )}
      {overrides.length > 0 && (
        <Text size='sm' c='dimmed' data-testid='shown'>
          {overrides.length} shown{list.hasNextPage ? ', more to load' : ''}
        </Text>
      )}
      {list.hasNextPage && (
        <Button variant='default' onClick={() => { void list.fetchNextPage() }} loading={list.isFetchingNextPage}>Load more</Button>
      )}
      {clearing !== null && <ClearOverrideModal override={clearing} environment={environment} onClose={() => setClearing(null)} />}
    </Stack>
  )
}
