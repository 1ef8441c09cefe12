import { Button, Divider, Group, Loader, Stack, Text, Title } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { unwrap, type Environment } from '../api/client.js'
import { useSession } from '../api/session.js'
import { ErrorNotice } from '../components/ErrorNotice.js'
import { adminOnlyReason, environmentsPageKey } from '../components/environments/access.js'
import { DeleteEnvironmentModal } from '../components/environments/DeleteEnvironmentModal.js'
import { EnvironmentModal } from '../components/environments/EnvironmentModal.js'
import { EnvironmentTable } from '../components/environments/EnvironmentTable.js'
import { PromotePanel } from '../components/environments/PromotePanel.js'

/**
 * The environments (SPEC §9): listed in order with the default marked; created, renamed, moved and
 * deleted; and promote between them, diff first. Admin keys only write: others read, with the reason.
 */
export function EnvironmentsPage (): ReactNode {
  const session = useSession()
  const reason = adminOnlyReason(session)
  const list = useQuery({ queryKey: environmentsPageKey, queryFn: async () => await unwrap(session.client.GET('/environments')) })
  const [creating, setCreating] = useState(false)
  const [editing, setEditing] = useState<Environment | null>(null)
  const [deleting, setDeleting] = useState<Environment | null>(null)

  return (
    <Stack>
      <Group justify='space-between'>
        <Title order={2}>Environments</Title>
        <Button onClick={() => setCreating(true)} disabled={reason !== undefined} title={reason}>New environment</Button>
      </Group>
      {reason !== undefined && <Text size='sm' c='dimmed' data-testid='read-only'>{reason}</Text>}
      <ErrorNotice error={list.error} title='Could not load the environments' />
      {list.isPending && <Loader aria-label='Loading' />}
      {list.data !== undefined && (
        <>
          <EnvironmentTable
            environments={list.data.environments} defaultKey={list.data.default_environment} canEdit={reason === undefined}
            onEdit={setEditing} onDelete={setDeleting}
          />
          <Divider />
          <PromotePanel environments={list.data.environments} defaultKey={list.data.default_environment} reason={reason} />
        </>
      )}
      {creating && <EnvironmentModal onClose={() => setCreating(false)} />}
      {editing !== null && <EnvironmentModal environment={editing} onClose={() => setEditing(null)} />}
      {deleting !== null && <DeleteEnvironmentModal environment={deleting} onClose={() => setDeleting(null)} />}
    </Stack>
  )
}
