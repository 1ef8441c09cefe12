import { Button, Loader, Stack, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Change } from '../../api/client.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { ChangeItem } from './ChangeItem.js'
import type { ChangeFeed } from './useChangeFeed.js'

export interface ChangeTimelineProps {
  feed: ChangeFeed
  /** What the list is, for screen readers ("Changes", "History of checkout in production"). */
  label: string
  /** Shown when there is no entry at all. */
  empty: string
  showFlag?: boolean
  /** A control for an entry, or nothing. */
  actionFor?: (change: Change) => ReactNode
}

/** A change list, newest first, each entry readable on its own; "Load more" for older ones. */
export function ChangeTimeline ({ feed, label, empty, showFlag = true, actionFor }: ChangeTimelineProps): ReactNode {
  return (
    <Stack gap='sm'>
      <ErrorNotice error={feed.error} title='Could not load the changes' />
      {feed.isPending && <Loader aria-label='Loading' />}
      {!feed.isPending && feed.error === null && feed.changes.length === 0 && <Text data-testid='empty'>{empty}</Text>}
      {feed.changes.length > 0 && (
        <Stack component='ol' gap='sm' aria-label={label} style={{ listStyle: 'none', padding: 0, margin: 0 }} data-testid='timeline'>
          {feed.changes.map((change) => (
            <ChangeItem key={change.revision} change={change} showFlag={showFlag} action={actionFor?.(change)} />
          ))}
        </Stack>
      )}
      <ErrorNotice error={feed.moreError} title='Could not load older changes' />
      {feed.hasMore && (
        <Button variant='default' onClick={() => feed.loadMore()} loading={feed.loadingMore} style={{ alignSelf: 'flex-start' }}>Load more</Button>
      )}
    </Stack>
  )
}
