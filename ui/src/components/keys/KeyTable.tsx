import { Button, Code, Group, Table, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Schemas } from '../../api/client.js'
import { StateBadge } from '../StateBadge.js'
import { when } from '../subjects/format.js'

type ApiKey = Schemas['ApiKey']

const expired = (key: ApiKey): boolean => key.expires_at !== null && new Date(key.expires_at).getTime() <= Date.now()

/** The managed keys (never their secrets): who, what they may do, how to recognise them, their use. */
export function KeyTable ({ keys, current, onRevoke }: { keys: ApiKey[], current: string, onRevoke: (key: ApiKey) => void }): ReactNode {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped data-testid='api-keys'>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Environments</Table.Th>
            <Table.Th>Prefix</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th>Last used</Table.Th>
            <Table.Th>Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {keys.map((key) => (
            <Table.Tr key={key.id} data-key={key.name}>
              <Table.Td>
                <Group gap='xs' wrap='nowrap'>
                  <Text size='sm' style={{ wordBreak: 'break-all' }}>{key.name}</Text>
                  {key.name === current && <StateBadge tone='info' testId='this-key'>this key</StateBadge>}
                </Group>
              </Table.Td>
              <Table.Td>{key.role}</Table.Td>
              <Table.Td data-field='environments'>{key.environments.length === 0 ? 'every one' : key.environments.join(', ')}</Table.Td>
              <Table.Td><Code>{key.prefix}…</Code></Table.Td>
              <Table.Td>{when(key.created_at)}</Table.Td>
              <Table.Td>
                {expired(key) ? <StateBadge tone='warning'>expired</StateBadge> : when(key.expires_at)}
              </Table.Td>
              <Table.Td>{when(key.last_used_at)}</Table.Td>
              <Table.Td>
                <Button size='xs' variant='default' onClick={() => onRevoke(key)} aria-label={`Revoke ${key.name}`}>Revoke</Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )
}
