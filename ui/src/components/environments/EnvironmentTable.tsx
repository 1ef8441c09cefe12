import { Button, Group, Table, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Environment } from '../../api/client.js'
import { StateBadge } from '../StateBadge.js'
import { when } from '../subjects/format.js'

/** The environments in the server's order, the default one marked, each with its edit and delete buttons. */
export function EnvironmentTable ({ environments, defaultKey, canEdit, onEdit, onDelete }: {
  environments: Environment[]
  defaultKey: string
  canEdit: boolean
  onEdit: (environment: Environment) => void
  onDelete: (environment: Environment) => void
}): ReactNode {
  return (
    <>
      <Table.ScrollContainer minWidth={600}>
        <Table striped data-testid='environments'>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Key</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>Position</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {environments.map((env) => (
              <Table.Tr key={env.key} data-environment={env.key}>
                <Table.Td>
                  <Group gap='xs' wrap='nowrap'>
                    <Text ff='monospace' size='sm'>{env.key}</Text>
                    {env.key === defaultKey && <StateBadge tone='info' testId='default'>default</StateBadge>}
                  </Group>
                </Table.Td>
                <Table.Td data-field='name'>{env.name}</Table.Td>
                <Table.Td data-field='position'>{env.position}</Table.Td>
                <Table.Td>{when(env.created_at)}</Table.Td>
                <Table.Td>
                  <Group gap='xs' wrap='nowrap'>
                    <Button size='xs' variant='default' disabled={!canEdit} onClick={() => onEdit(env)} aria-label={`Edit ${env.key}`}>Edit</Button>
                    <Button
                      size='xs' variant='default' c={canEdit && env.key !== defaultKey ? 'red.9' : undefined}
                      disabled={!canEdit || env.key === defaultKey} onClick={() => onDelete(env)} aria-label={`Delete ${env.key}`}
                    >
                      Delete
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size='xs' c='dimmed'>
        The default environment ({defaultKey}) is the one the paths without /environments/… address; it cannot be deleted.
      </Text>
    </>
  )
}
