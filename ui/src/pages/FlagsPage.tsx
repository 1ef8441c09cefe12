import { Anchor, Badge, Button, Group, Loader, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { keepPreviousData, useInfiniteQuery, useQueries } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { Link } from 'wouter'
import { unwrap, type Flag, type Schemas } from '../api/client.js'
import { keys, useEnvironments } from '../api/queries.js'
import { useSession } from '../api/session.js'
import { CreateFlagModal } from '../components/CreateFlagModal.js'
import { ErrorNotice } from '../components/ErrorNotice.js'
import { OnOff } from '../components/StateBadge.js'

const PAGE_SIZE = 50
type FlagList = Schemas['FlagList']

/** Every flag, searchable and filtered by tag, with its state in each environment the key covers. */
export function FlagsPage (): ReactNode {
  const session = useSession()
  const environments = useEnvironments()
  const [search, setSearch] = useState('')
  const [tag, setTag] = useState('')
  const [q] = useDebouncedValue(search.trim(), 200)
  const [creating, setCreating] = useState(false)
  const envKeys = environments.data?.list.map((e) => e.key) ?? []
  const preferred = environments.data?.preferred

  // The list itself, from the preferred environment; each environment's states for the same names.
  const list = useInfiniteQuery({
    queryKey: keys.flags(preferred ?? '', q, tag),
    enabled: preferred !== undefined,
    // The rows stay while the next search loads, instead of flickering to empty.
    placeholderData: keepPreviousData,
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: FlagList) => last.next_cursor ?? undefined,
    queryFn: async ({ pageParam }): Promise<FlagList> => await unwrap(session.client.GET('/environments/{environment}/flags', {
      params: { path: { environment: preferred as string }, query: { limit: PAGE_SIZE, ...(q === '' ? {} : { q }), ...(tag === '' ? {} : { tag }), ...(pageParam === undefined ? {} : { cursor: pageParam }) } }
    }))
  })
  const flags: Flag[] = list.data?.pages.flatMap((p) => p.flags) ?? []
  // Flags are listed by name in every environment, so the same query there gives the same names.
  const states = useQueries({
    queries: envKeys.filter((env) => env !== preferred).map((environment) => ({
      queryKey: ['flag-states', environment, q, tag, flags.length],
      enabled: flags.length > 0,
      queryFn: async () => {
        const body = await unwrap(session.client.GET('/environments/{environment}/flags', {
          params: { path: { environment }, query: { limit: Math.min(flags.length, 1000), ...(q === '' ? {} : { q }), ...(tag === '' ? {} : { tag }) } }
        }))
        return { environment, enabled: new Map(body.flags.map((f) => [f.name, f.enabled])) }
      }
    }))
  })
  const tags = [...new Set(flags.flatMap((f) => f.tags))].sort()

  const enabledIn = (flag: Flag, environment: string): boolean | undefined => {
    if (environment === preferred) return flag.enabled
    return states.find((s) => s.data?.environment === environment)?.data?.enabled.get(flag.name)
  }

  return (
    <Stack>
      <Group justify='space-between'>
        <Title order={2}>Flags</Title>
        <Button onClick={() => setCreating(true)} disabled={!session.canWrite()} title={session.canWrite() ? undefined : session.readOnlyReason}>New flag</Button>
      </Group>
      {!session.canWrite() && <Text size='sm' c='dimmed' data-testid='read-only'>{session.readOnlyReason}</Text>}
      <Group grow preventGrowOverflow={false} wrap='wrap'>
        <TextInput label='Search' placeholder='Name or description' value={search} onChange={(e) => setSearch(e.currentTarget.value)} miw={200} />
        <Select label='Tag' placeholder='Any tag' data={tag === '' || tags.includes(tag) ? tags : [...tags, tag]} value={tag === '' ? null : tag} onChange={(v) => setTag(v ?? '')} clearable searchable miw={160} />
      </Group>
      <ErrorNotice error={environments.error ?? list.error} title='Could not load the flags' />
      {list.isPending && preferred !== undefined && <Loader aria-label='Loading' />}
      {list.isSuccess && flags.length === 0 && <Text data-testid='empty'>{q === '' && tag === '' ? 'No flags yet.' : 'No flag matches.'}</Text>}
      {flags.length > 0 && (
        <Table.ScrollContainer minWidth={560}>
          <Table striped highlightOnHover data-testid='flags'>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Flag</Table.Th>
                <Table.Th>Type</Table.Th>
                {envKeys.map((env) => <Table.Th key={env}>{env}</Table.Th>)}
                <Table.Th>Tags</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {flags.map((flag) => (
                <Table.Tr key={flag.name} data-flag={flag.name}>
                  <Table.Td>
                    <Anchor component={Link} href={`/flags/${encodeURIComponent(flag.name)}`} fw={500}>{flag.name}</Anchor>
                    {flag.description !== '' && <Text size='xs' c='dimmed' lineClamp={1}>{flag.description}</Text>}
                  </Table.Td>
                  <Table.Td>{flag.type}</Table.Td>
                  {envKeys.map((env) => {
                    const on = enabledIn(flag, env)
                    return (
                      <Table.Td key={env} data-env={env}>
                        {on === undefined ? <Text size='xs' c='dimmed'>…</Text> : <OnOff on={on} />}
                      </Table.Td>
                    )
                  })}
                  <Table.Td>{flag.tags.map((t) => <Badge key={t} variant='outline' color='dark' mr={4}>{t}</Badge>)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.hasNextPage && <Button variant='default' onClick={() => { void list.fetchNextPage() }} loading={list.isFetchingNextPage}>Load more</Button>}
      {preferred !== undefined && <CreateFlagModal opened={creating} onClose={() => setCreating(false)} />}
    </Stack>
  )
}
