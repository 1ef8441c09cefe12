import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Schemas } from '../../api/client.js'

/**
 * The one time a key's secret is shown: to copy now, with the warning that it cannot be shown again.
 * It lives in this dialog's props only (never the address, storage or the console) and is gone when
 * the dialog closes.
 */
export function SecretDialog ({ created, onClose }: { created: Schemas['ApiKeyCreated'], onClose: () => void }): ReactNode {
  return (
    <Modal opened onClose={onClose} title={`API key ${created.name} created`} closeOnClickOutside={false}>
      <Stack>
        <Alert color='red' title='Copy it now' role='alert'>
          This secret is shown once: it is not stored anywhere it could be shown again. If it is lost, revoke the key and create another.
        </Alert>
        <Text size='sm'>Role {created.role}{created.environments.length === 0 ? ', every environment' : `, ${created.environments.join(', ')}`}.</Text>
        <Code block data-testid='secret' style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{created.secret}</Code>
        <Group justify='flex-end'>
          <CopyButton value={created.secret} timeout={2000}>
            {({ copied, copy }) => (
              <Button color={copied ? 'teal.9' : undefined} onClick={() => copy()} data-autofocus>{copied ? 'Copied' : 'Copy key'}</Button>
            )}
          </CopyButton>
          <Button variant='default' onClick={onClose}>I have copied it</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
