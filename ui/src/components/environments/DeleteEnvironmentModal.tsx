import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { ApiError, unwrap, type Environment } from '../../api/client.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'

const IN_USE = 'FLAGPOST_ERR_ENVIRONMENT_IN_USE'

/**
 * Deleting an environment, confirmed. The server refuses one that configures flags unless forced, and
 * says how many: that refusal turns the dialog into a second, explicit confirmation of what goes too.
 */
export function DeleteEnvironmentModal ({ environment, onClose }: { environment: Environment, onClose: () => void }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const remove = useMutation({
    mutationFn: async (force: boolean) => await unwrap(client.DELETE('/environments/{environment}', {
      params: { path: { environment: environment.key }, query: force ? { force: true } : {} }
    })),
    onSuccess: async () => {
      // Everything may have referred to it: the lists, the flag pages' environment pickers.
      await queries.invalidateQueries()
      onClose()
    }
  })
  const inUse = remove.error instanceof ApiError && remove.error.code === IN_USE && remove.variables === false

  return (
    <Modal opened onClose={onClose} title={`Delete environment ${environment.key}`}>
      <Stack>
        <Text>
          Delete <strong>{environment.name}</strong> ({environment.key})? Flags stop being served there: evaluations addressing it answer
          “not found”. The flags themselves, and their configuration in the other environments, stay.
        </Text>
        {inUse
          ? (
            <>
              <Alert color='red' title='This environment configures flags' role='alert' data-testid='in-use'>
                <Text size='sm'>{(remove.error as ApiError).message}.</Text>
                <Text size='sm' mt='xs'>
                  Deleting it anyway also deletes each flag's configuration in {environment.key} (on or off, the variants served,
                  targeting rules) and every override set there. This cannot be undone.
                </Text>
              </Alert>
              <Group justify='flex-end'>
                <Button variant='default' onClick={onClose} data-autofocus>Cancel</Button>
                <Button color='red.9' onClick={() => remove.mutate(true)} loading={remove.isPending}>Delete with its configurations and overrides</Button>
              </Group>
            </>
            )
          : (
            <>
              <ErrorNotice error={remove.error} title='The environment was not deleted' />
              <Group justify='flex-end'>
                <Button variant='default' onClick={onClose} data-autofocus>Cancel</Button>
                <Button color='red.9' onClick={() => remove.mutate(false)} loading={remove.isPending}>Delete</Button>
              </Group>
            </>
            )}
      </Stack>
    </Modal>
  )
}
