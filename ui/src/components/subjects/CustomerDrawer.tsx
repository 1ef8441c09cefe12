import { Anchor, Drawer, Loader, Select, Stack, Table, Text } from '@mantine/core'
import { useMediaQuery } from '@mantine/hooks'
import { useQuery } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { Link } from 'wouter'
import { unwrap, type Schemas } from '../../api/client.js'
import { useEnvironments } from '../../api/queries.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { when } from './format.js'

const shown = (value: unknown): string => typeof value === 'string' ? value : JSON.stringify(value)

/** Which evaluation step served the flag (SPEC §2.4), in words. */
function why (rule: string): string {
  if (rule === 'customer_override') return 'Customer override'
  if (rule === 'customer_ids') return 'Targeted customer'
  if (rule === 'fallthrough') return 'Everyone (fallthrough)'
  if (rule.startsWith('rule:')) return `Rule ${rule.slice(5)}`
  return rule
}

/**
 * One customer: its name, the flags it has in an environment (evaluated for its id: overrides,
 * targeting, rollouts by customer and the kill switch all count), and a way to its users.
 */
export function CustomerDrawer ({ customer, onClose }: { customer: Schemas['Customer'], onClose: () => void }): ReactNode {
  const { client } = useSession()
  const environments = useEnvironments()
  const phone = useMediaQuery('(max-width: 48em)')
  const [picked, setPicked] = useState<string | null>(null)
  const environment = picked ?? environments.data?.preferred ?? null
  const flags = useQuery({
    queryKey: ['customer-flags', environment ?? '', customer.id],
    enabled: environment !== null,
    queryFn: async () => await unwrap(client.GET('/environments/{environment}/customers/{id}/flags', { params: { path: { environment: environment as string, id: customer.id } } }))
  })

  return (
    <Drawer opened onClose={onClose} closeButtonProps={{ 'aria-label': 'Close' }} position='right' size={phone === true ? '100%' : 'lg'} title={`Customer ${customer.id}`}>
      <Stack>
        <Text size='sm'>{customer.name === null ? 'No name' : customer.name} · registered {when(customer.created_at)}</Text>
        <Anchor component={Link} href={`/users?customer=${encodeURIComponent(customer.id)}`}>Users of this customer</Anchor>
        <Select
          label='Environment' allowDeselect={false} value={environment}
          data={environments.data?.list.map((e) => ({ value: e.key, label: e.name })) ?? []} onChange={setPicked}
        />
        <ErrorNotice error={environments.error ?? flags.error} title='Could not load the customer’s flags' />
        {flags.isPending && environment !== null && <Loader aria-label='Loading' />}
        {flags.data !== undefined && flags.data.flags.length === 0 && <Text data-testid='no-flags'>No flag is on for this customer in {environment}.</Text>}
        {flags.data !== undefined && flags.data.flags.length > 0 && (
          <Table.ScrollContainer minWidth={360}>
            <Table striped aria-label={`Flags on for ${customer.id} in ${environment ?? ''}`} data-testid='customer-flags'>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Flag</Table.Th>
                  <Table.Th>Serves</Table.Th>
                  <Table.Th>Why</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {flags.data.flags.map((flag) => (
                  <Table.Tr key={flag.name} data-flag={flag.name}>
                    <Table.Td>
                      <Anchor component={Link} href={`/flags/${encodeURIComponent(flag.name)}?env=${encodeURIComponent(environment ?? '')}`} style={{ wordBreak: 'break-all' }}>{flag.name}</Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size='sm'>{flag.variant}: {shown(flag.value)}</Text>
                    </Table.Td>
                    <Table.Td><Text size='sm'>{why(flag.rule)}</Text></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
    </Drawer>
  )
}
