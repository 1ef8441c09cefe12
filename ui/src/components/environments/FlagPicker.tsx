import { MultiSelect } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { unwrap } from '../../api/client.js'
import { useSession } from '../../api/session.js'

/** Some flags of an environment, searched on the server (there may be thousands): none picked means every flag. */
export function FlagPicker ({ environment, value, onChange, disabled }: {
  environment: string | null
  value: string[]
  onChange: (names: string[]) => void
  disabled: boolean
}): ReactNode {
  const { client } = useSession()
  const [search, setSearch] = useState('')
  const [q] = useDebouncedValue(search.trim(), 200)
  const found = useQuery({
    queryKey: ['flags', environment ?? '', q, '', 'picker'],
    enabled: environment !== null && !disabled,
    placeholderData: keepPreviousData,
    queryFn: async () => await unwrap(client.GET('/environments/{environment}/flags', {
      params: { path: { environment: environment as string }, query: { limit: 50, ...(q === '' ? {} : { q }) } }
    }))
  })
  // The picked names stay choosable whatever the search shows.
  const names = [...new Set([...value, ...(found.data?.flags.map((f) => f.name) ?? [])])]
  return (
    <MultiSelect
      label='Flags' placeholder={value.length === 0 ? 'Every flag' : undefined} data={names} value={value} onChange={onChange}
      searchable searchValue={search} onSearchChange={setSearch} clearable disabled={disabled}
      description='Leave empty to promote every flag' nothingFoundMessage={found.isFetching ? 'Searching…' : 'No flag matches'}
      error={found.error === null ? undefined : `Could not list the flags: ${found.error.message}`}
    />
  )
}
