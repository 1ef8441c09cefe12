import { Anchor, Button, Group, Loader, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { Link, useLocation, useSearch } from 'wouter'
import { unwrap, type Schemas } from '../api/client.js'
import { useSession } from '../api/session.js'
import { ErrorNotice } from '../components/ErrorNotice.js'
import { ConfirmModal } from '../components/subjects/ConfirmModal.js'
import { when } from '../components/subjects/format.js'
import { SubjectModal } from '../components/subjects/SubjectModal.js'

const PAGE_SIZE = 50
type User = Schemas['User']
type UserList = Schemas['UserList']

/**
 * Registered users, a page at a time, optionally of one customer (`?customer=` in the address, so the
 * customers page links here): created, deleted with their overrides.
 */
export function UsersPage (): ReactNode {
  const session = useSession()
  const writable = session.canWrite()
  const [, navigate] = useLocation()
  const initial = new URLSearchParams(useSearch()).get('customer') ?? ''
  const [filter, setFilter] = useState(initial)
  const [customer] = useDebouncedValue(filter.trim(), 250)
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState<User | null>(null)
  const list = useInfiniteQuery({
    queryKey: ['users', customer],
    placeholderData: keepPreviousData,
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: UserList) => last.next_cursor ?? undefined,
    queryFn: async ({ pageParam }): Promise<UserList> => await unwrap(session.client.GET('/users', {
      params: { query: { limit: PAGE_SIZE, ...(customer === '' ? {} : { customer_id: customer }), ...(pageParam === undefined ? {} : { cursor: pageParam }) } }
    }))
  })
  const users = list.data?.pages.flatMap((p) => p.users) ?? []
  const filterBy = (id: string): void => {
    setFilter(id)
    navigate(id === '' ? '/users' : `/users?customer=${encodeURIComponent(id)}`, { replace: true })
  }

  return (
    <Stack>
      <Group justify='space-between'>
        <Title order={2}>Users</Title>
        <Button onClick={() => setCreating(true)} disabled={!writable} title={writable ? undefined : session.readOnlyReason}>New user</Button>
      </Group>
      {!writable && <Text size='sm' c='dimmed' data-testid='read-only'>{session.readOnlyReason}</Text>}
      <TextInput label='Customer' placeholder='Any customer' description='Only the users of this customer id' value={filter} onChange={(e) => filterBy(e.currentTarget.value)} maw={360} />
      <ErrorNotice error={list.error} title='Could not load the users' />
      {list.isPending && <Loader aria-label='Loading' />}
      {list.isSuccess && users.length === 0 && <Text data-testid='empty'>{customer === '' ? 'No users yet.' : `No users of customer ${customer}.`}</Text>}
      {users.length > 0 && (
        <Table.ScrollContainer minWidth={520}>
          <Table striped data-testid='users'>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Id</Table.Th>
                <Table.Th>Customer</Table.Th>
                <Table.Th>Registered</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.map((user) => (
                <Table.Tr key={user.id} data-user={user.id}>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{user.id}</Table.Td>
                  <Table.Td>
                    {user.customer_id === null
                      ? <Text size='sm' c='dimmed'>none</Text>
                      : <Anchor component={Link} href={`/users?customer=${encodeURIComponent(user.customer_id)}`} onClick={() => setFilter(user.customer_id ?? '')}>{user.customer_id}</Anchor>}
                  </Table.Td>
                  <Table.Td>{when(user.created_at)}</Table.Td>
                  <Table.Td>
                    <Button size='xs' variant='default' disabled={!writable} onClick={() => setDeleting(user)} aria-label={`Delete ${user.id}`}>Delete</Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.hasNextPage && <Button variant='default' onClick={() => { void list.fetchNextPage() }} loading={list.isFetchingNextPage}>Load more</Button>}
      {creating && <SubjectModal kind='user' customerId={customer} onClose={() => setCreating(false)} />}
      {deleting !== null && (
        <ConfirmModal
          title={`Delete user ${deleting.id}`} confirmLabel='Delete user' onClose={() => setDeleting(null)}
          onConfirm={async () => await unwrap(session.client.DELETE('/users/{id}', { params: { path: { id: deleting.id } } }))}
          onDone={() => { void list.refetch() }}
        >
          <Text>Delete user <strong>{deleting.id}</strong>? Its overrides, in every environment, are deleted too.</Text>
        </ConfirmModal>
      )}
    </Stack>
  )
}
