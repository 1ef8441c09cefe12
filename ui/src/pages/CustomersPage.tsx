import { Button, Group, Loader, Stack, Table, Text, Title } from '@mantine/core'
import { useInfiniteQuery } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { unwrap, type Schemas } from '../api/client.js'
import { useSession } from '../api/session.js'
import { ErrorNotice } from '../components/ErrorNotice.js'
import { ConfirmModal } from '../components/subjects/ConfirmModal.js'
import { CustomerDrawer } from '../components/subjects/CustomerDrawer.js'
import { when } from '../components/subjects/format.js'
import { SubjectModal } from '../components/subjects/SubjectModal.js'

const PAGE_SIZE = 50
type Customer = Schemas['Customer']
type CustomerList = Schemas['CustomerList']

/** Registered customers, a page at a time: created, deleted (with their overrides), and each one's flags. */
export function CustomersPage (): ReactNode {
  const session = useSession()
  const writable = session.canWrite()
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState<Customer | null>(null)
  const [showing, setShowing] = useState<Customer | null>(null)
  const list = useInfiniteQuery({
    queryKey: ['customers'],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: CustomerList) => last.next_cursor ?? undefined,
    queryFn: async ({ pageParam }): Promise<CustomerList> => await unwrap(session.client.GET('/customers', {
      params: { query: { limit: PAGE_SIZE, ...(pageParam === undefined ? {} : { cursor: pageParam }) } }
    }))
  })
  const customers = list.data?.pages.flatMap((p) => p.customers) ?? []

  return (
    <Stack>
      <Group justify='space-between'>
        <Title order={2}>Customers</Title>
        <Button onClick={() => setCreating(true)} disabled={!writable} title={writable ? undefined : session.readOnlyReason}>New customer</Button>
      </Group>
      {!writable && <Text size='sm' c='dimmed' data-testid='read-only'>{session.readOnlyReason}</Text>}
      <ErrorNotice error={list.error} title='Could not load the customers' />
      {list.isPending && <Loader aria-label='Loading' />}
      {list.isSuccess && customers.length === 0 && <Text data-testid='empty'>No customers yet.</Text>}
      {customers.length > 0 && (
        <Table.ScrollContainer minWidth={520}>
          <Table striped data-testid='customers'>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Id</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Registered</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {customers.map((customer) => (
                <Table.Tr key={customer.id} data-customer={customer.id}>
                  <Table.Td style={{ wordBreak: 'break-all' }}>{customer.id}</Table.Td>
                  <Table.Td>{customer.name ?? ''}</Table.Td>
                  <Table.Td>{when(customer.created_at)}</Table.Td>
                  <Table.Td>
                    <Group gap='xs' wrap='nowrap'>
                      <Button size='xs' variant='default' onClick={() => setShowing(customer)} aria-label={`Flags of ${customer.id}`}>Flags</Button>
                      <Button size='xs' variant='default' disabled={!writable} onClick={() => setDeleting(customer)} aria-label={`Delete ${customer.id}`}>Delete</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.hasNextPage && <Button variant='default' onClick={() => { void list.fetchNextPage() }} loading={list.isFetchingNextPage}>Load more</Button>}
      {creating && <SubjectModal kind='customer' onClose={() => setCreating(false)} />}
      {showing !== null && <CustomerDrawer customer={showing} onClose={() => setShowing(null)} />}
      {deleting !== null && (
        <ConfirmModal
          title={`Delete customer ${deleting.id}`} confirmLabel='Delete customer' onClose={() => setDeleting(null)}
          onConfirm={async () => await unwrap(session.client.DELETE('/customers/{id}', { params: { path: { id: deleting.id } } }))}
          onDone={() => { void list.refetch() }}
        >
          <Text>
            Delete customer <strong>{deleting.id}</strong>{deleting.name === null ? '' : ` (${deleting.name})`}? Its overrides, in every
            environment, are deleted too. Its users stay, without a customer.
          </Text>
        </ConfirmModal>
      )}
    </Stack>
  )
}
