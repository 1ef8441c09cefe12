import { Alert, Button, Stack, Text } from '@mantine/core'
import { useState, type ReactNode } from 'react'
import { unwrap, type Change } from '../../api/client.js'
import { useSession } from '../../api/session.js'
import { ChangeTimeline } from '../history/ChangeTimeline.js'
import { FLAG_STATES } from '../history/describe.js'
import { RevertModal, type Reverted } from '../history/RevertModal.js'
import { useChangeFeed } from '../history/useChangeFeed.js'
import type { FlagPanelProps } from './panel.js'

const PAGE_SIZE = 20

/**
 * The flag's changes in this environment (across renames, overrides included), newest first, each
 * with "Revert to this" where the entry is a state of the flag and the key may write here.
 */
export function FlagHistoryPanel ({ flag, environment, canWrite }: FlagPanelProps): ReactNode {
  const session = useSession()
  const [reverting, setReverting] = useState<Change | null>(null)
  const [reverted, setReverted] = useState<Reverted | null>(null)
  const feed = useChangeFeed(['flag-history', environment, flag.name], async (cursor) => await unwrap(session.client.GET('/environments/{environment}/flags/{name}/history', {
    params: { path: { environment, name: flag.name }, query: { limit: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) } }
  })))

  const revertButton = (change: Change): ReactNode => {
    // Override changes are not states of the flag: reverting "to" one would restore its configuration, not the override.
    if (!canWrite || !FLAG_STATES.has(change.action)) return null
    return (
      <Button
        size='xs' variant='default' style={{ alignSelf: 'flex-start' }}
        onClick={() => { setReverted(null); setReverting(change) }}
        aria-label={`Revert to this: revision ${change.revision}`}
      >
        Revert to this
      </Button>
    )
  }

  return (
    <Stack>
      {!canWrite && <Text size='sm' c='dimmed' data-testid='read-only'>{session.readOnlyReason}. Reverting needs an editor or admin key covering {environment}.</Text>}
      {reverted !== null && (
        <Alert color='teal.9' variant='outline' role='status' withCloseButton closeButtonLabel='Dismiss' onClose={() => setReverted(null)} data-testid='reverted'>
          {reverted.unchanged
            ? `${flag.name} was already served in ${environment} as at revision ${reverted.revision}: nothing changed.`
            : `${flag.name} is served in ${environment} as it was at revision ${reverted.revision}.`}
        </Alert>
      )}
      <ChangeTimeline
        feed={feed} showFlag={false} actionFor={revertButton}
        label={`History of ${flag.name} in ${environment}`} empty={`No changes to ${flag.name} in ${environment} yet.`}
      />
      <RevertModal change={reverting} flag={flag} environment={environment} onClose={() => setReverting(null)} onReverted={(result) => setReverted(result)} />
    </Stack>
  )
}
