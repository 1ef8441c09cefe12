import { Group, Select, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'
import type { OverrideFilters } from './useOverrides.js'

const SUBJECTS = [{ value: 'all', label: 'Customers and users' }, { value: 'customer', label: 'Customers' }, { value: 'user', label: 'Users' }]
const STATES = [{ value: 'all', label: 'On or off' }, { value: 'enabled', label: 'On' }, { value: 'disabled', label: 'Off' }]

/** The list's filters: subject, state, and the id search (typed as is; the panel debounces it). */
export function OverrideFilterBar ({ filters, search, onFilters, onSearch }: {
  filters: Omit<OverrideFilters, 'q'>
  search: string
  onFilters: (filters: Omit<OverrideFilters, 'q'>) => void
  onSearch: (search: string) => void
}): ReactNode {
  return (
    <Group grow preventGrowOverflow={false} wrap='wrap' align='flex-start'>
      <TextInput
        label='Search by id' description='Ids that start with this (case-sensitive)' placeholder='e.g. acme' miw={200}
        value={search} onChange={(e) => onSearch(e.currentTarget.value)} maxLength={256}
      />
      <Select
        label='Subject' data={SUBJECTS} value={filters.subject} allowDeselect={false} miw={170}
        onChange={(v) => onFilters({ ...filters, subject: (v ?? 'all') as OverrideFilters['subject'] })}
      />
      <Select
        label='State' data={STATES} value={filters.state} allowDeselect={false} miw={130}
        onChange={(v) => onFilters({ ...filters, state: (v ?? 'all') as OverrideFilters['state'] })}
      />
    </Group>
  )
}
