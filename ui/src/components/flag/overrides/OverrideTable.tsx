import { Button, Group, Table, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Flag } from '../../../api/client.js'
import { OnOff } from '../../StateBadge.js'
import { servedVariant, type Override } from './useOverrides.js'

/** The overrides read so far; Edit and Clear only for a key that may write here. */
export function OverrideTable ({ overrides, flag, canWrite, onEdit, onClear }: {
  overrides: Override[]
  flag: Flag
  canWrite: boolean
  onEdit: (override: Override) => void
  onClear: (override: Override) => void
}): ReactNode {
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped data-testid='overrides'>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Subject</Table.Th>
            <Table.Th>Id</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Serves</Table.Th>
            <Table.Th>Updated</Table.Th>
            {canWrite && <Table.Th>Actions</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {overrides.map((o) => {
            const who = `${o.subject} ${o.id}`
            return (
              <Table.Tr key={`${o.subject}:${o.id}`} data-override={`${o.subject}:${o.id}`}>
                <Table.Td>{o.subject}</Table.Td>
                <Table.Td style={{ wordBreak: 'break-all' }}>{o.id}</Table.Td>
                <Table.Td><OnOff on={o.enabled} /></Table.Td>
                <Table.Td>{servedVariant(o, flag)}</Table.Td>
                <Table.Td><Text size='sm' title={o.updated_at}>{new Date(o.updated_at).toLocaleString()}</Text></Table.Td>
                {canWrite && (
                  <Table.Td>
                    <Group gap='xs' wrap='nowrap'>
                      <Button size='compact-sm' variant='default' aria-label={`Edit the override for ${who}`} onClick={() => onEdit(o)}>Edit</Button>
                      <Button size='compact-sm' variant='outline' color='red.9' aria-label={`Clear the override for ${who}`} onClick={() => onClear(o)}>Clear</Button>
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            )
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )
}
