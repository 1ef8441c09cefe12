import { Button, Group, Modal, Stack, Text } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { unwrap } from '../../../api/client.js'
import { useSession } from '../../../api/session.js'
import { ErrorNotice } from '../../ErrorNotice.js'
import { overridesKey, type Override } from './useOverrides.js'

/** Confirms, then clears one override (DELETE); a refusal stays in the dialog, in words. */
export function ClearOverrideModal ({ override, environment, onClose }: { override: Override, environment: string, onClose: () => void }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const subject = override.subject === 'customer' ? 'customer' : 'user'
  const clear = useMutation({
    mutationFn: async () => {
      const params = { path: { environment, name: override.flag, id: override.id } }
      await unwrap(override.subject === 'customer'
        ? client.DELETE('/environments/{environment}/flags/{name}/overrides/customers/{id}', { params })
        : client.DELETE('/environments/{environment}/flags/{name}/overrides/users/{id}', { params }))
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: overridesKey(environment, override.flag) })
      onClose()
    }
  })
  return (
    <Modal opened onClose={onClose} title='Clear the override?'>
      <Stack>
        <Text>
          Clear the override of <b>{override.flag}</b> for {subject} <b style={{ wordBreak: 'break-all' }}>{override.id}</b> in {environment}?
          The {subject} then gets what the flag's targeting gives it.
        </Text>
        <ErrorNotice error={clear.error} title='The override was not cleared' />
        <Group justify='flex-end'>
          <Button variant='default' onClick={onClose} data-autofocus>Cancel</Button>
          <Button color='red.9' onClick={() => clear.mutate()} loading={clear.isPending}>Clear override</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
