import { Button, Group, List, Modal, Stack, Text } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { unwrap, type Change, type Flag } from '../../api/client.js'
import { keys } from '../../api/queries.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { exactTime } from './When.js'

export interface Reverted {
  revision: number
  /** The revert wrote nothing: the flag was already served that way. */
  unchanged: boolean
}

export interface RevertModalProps {
  /** The entry to go back to (the flag as that change left it); null when closed. */
  change: Change | null
  flag: Flag
  environment: string
  onClose: () => void
  onReverted: (result: Reverted) => void
}

/**
 * Confirms a revert, saying what it will do, then asks the server. A refusal (409: the flag's type or
 * variants no longer allow it) stays in the dialog in the server's words, and nothing is written.
 */
export function RevertModal ({ change, flag, environment, onClose, onReverted }: RevertModalProps): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const revert = useMutation({
    mutationFn: async (revision: number) => await unwrap(client.POST('/environments/{environment}/flags/{name}/revert', {
      params: { path: { environment, name: flag.name } },
      body: { revision }
    })),
    onSuccess: async (after, revision) => {
      // The flag's tabs and its history show the new state (the change stream would too, a moment later).
      await Promise.all([
        queries.invalidateQueries({ queryKey: keys.flag(environment, flag.name) }),
        queries.invalidateQueries({ queryKey: ['flag-history', environment] }),
        queries.invalidateQueries({ queryKey: ['changes'] })
      ])
      onReverted({ revision, unchanged: after.version === flag.version })
      close()
    }
  })
  const close = (): void => {
    revert.reset()
    onClose()
  }

  return (
    <Modal opened={change !== null} onClose={() => close()} title={change === null ? 'Revert' : `Revert to revision ${change.revision}`} size='lg'>
      {change !== null && (
        <Stack>
          <Text>
            Serve <strong>{flag.name}</strong> in <strong>{environment}</strong> as it was at revision {change.revision} ({exactTime(change.at)}).
          </Text>
          <List size='sm' spacing={4}>
            <List.Item>Its on/off switch, served and off variants and targeting go back to what they were then.</List.Item>
            <List.Item>Its variants, type, description and tags stay as they are now; overrides are not touched.</List.Item>
            <List.Item>Other environments are not affected. The revert is recorded as a new change, which can be reverted too.</List.Item>
          </List>
          <ErrorNotice error={revert.error} title='The flag was not reverted' />
          <Group justify='flex-end'>
            <Button variant='default' onClick={() => close()}>Cancel</Button>
            <Button color='red.9' loading={revert.isPending} onClick={() => revert.mutate(change.revision)}>Revert</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  )
}
