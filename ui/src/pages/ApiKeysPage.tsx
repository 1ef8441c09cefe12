import { Alert, Button, Group, Loader, Stack, Text, Title } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { unwrap, type Schemas } from '../api/client.js'
import { useSession } from '../api/session.js'
import { ErrorNotice } from '../components/ErrorNotice.js'
import { CreateKeyModal } from '../components/keys/CreateKeyModal.js'
import { KeyTable } from '../components/keys/KeyTable.js'
import { SecretDialog } from '../components/keys/SecretDialog.js'
import { ConfirmModal } from '../components/subjects/ConfirmModal.js'

type ApiKey = Schemas['ApiKey']

/**
 * API keys (SPEC §10), admin keys only: listed, created (the secret shown once, in a dialog) and
 * revoked. Reached with another key (a typed address), it says so instead of failing request by request.
 */
export function ApiKeysPage (): ReactNode {
  const session = useSession()
  if (!session.isAdmin) {
    return (
      <Stack>
        <Title order={2}>API keys</Title>
        <Alert color='red' title='Admin keys only' role='alert' data-testid='admin-only'>
          API keys are managed with admin keys only. You are signed in with a {session.key.role} key ({session.key.name}).
        </Alert>
      </Stack>
    )
  }
  return <ManagedKeys />
}

function ManagedKeys (): ReactNode {
  const session = useSession()
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<Schemas['ApiKeyCreated'] | null>(null)
  const [revoking, setRevoking] = useState<ApiKey | null>(null)
  const list = useQuery({ queryKey: ['api-keys'], queryFn: async () => await unwrap(session.client.GET('/api-keys')) })
  const own = revoking !== null && revoking.name === session.key.name

  return (
    <Stack>
      <Group justify='space-between'>
        <Title order={2}>API keys</Title>
        <Button onClick={() => setCreating(true)}>New API key</Button>
      </Group>
      <Text size='sm'>
        Keys set in the service’s configuration (API_KEY, READ_API_KEY) are not listed here; they are changed where the service is configured.
      </Text>
      <ErrorNotice error={list.error} title='Could not load the API keys' />
      {list.isPending && <Loader aria-label='Loading' />}
      {list.data !== undefined && list.data.api_keys.length === 0 && <Text data-testid='empty'>No API keys yet.</Text>}
      {list.data !== undefined && list.data.api_keys.length > 0 && <KeyTable keys={list.data.api_keys} current={session.key.name} onRevoke={setRevoking} />}
      {creating && <CreateKeyModal onClose={() => setCreating(false)} onCreated={(key) => { setCreating(false); setCreated(key) }} />}
      {created !== null && <SecretDialog created={created} onClose={() => setCreated(null)} />}
      {revoking !== null && (
        <ConfirmModal
          title={`Revoke API key ${revoking.name}`} confirmLabel='Revoke key' onClose={() => setRevoking(null)}
          onConfirm={async () => await unwrap(session.client.DELETE('/api-keys/{id}', { params: { path: { id: revoking.id } } }))}
          onDone={() => { if (own) session.signOut(); else void list.refetch() }}
        >
          <Text>Revoke <strong>{revoking.name}</strong> ({revoking.role})? Everything using it is refused from now on, on every instance. This cannot be undone.</Text>
          {own && (
            <Alert color='red' title='This is the key you are signed in with' role='alert' data-testid='own-key'>
              Revoking it signs you out of this page at once; sign in again with another admin key.
            </Alert>
          )}
        </ConfirmModal>
      )}
    </Stack>
  )
}
