import { Anchor, Badge, Group, Paper, Stack, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import { Link } from 'wouter'
import type { Change } from '../../api/client.js'
import { ChangeDiff } from './ChangeDiff.js'
import { actionInWords } from './describe.js'
import { When } from './When.js'

export interface ChangeItemProps {
  change: Change
  /** Link the flag to its page (off on the flag's own page, where it is the subject already). */
  showFlag?: boolean
  /** A control for this entry (the flag page's "Revert to this"). */
  action?: ReactNode
}

const flagHref = (change: Change): string =>
  `/flags/${encodeURIComponent(change.flag ?? '')}${change.environment === null ? '' : `?env=${encodeURIComponent(change.environment)}`}`

/** One entry of the change log: who, what (in words), where, when, and the readable diff. */
export function ChangeItem ({ change, showFlag = true, action }: ChangeItemProps): ReactNode {
  return (
    <Paper component='li' withBorder p='sm' data-revision={change.revision} data-action={change.action} data-testid='change'>
      <Stack gap={6}>
        <Group justify='space-between' wrap='wrap' gap='xs' align='flex-start'>
          <Text fw={500} style={{ wordBreak: 'break-word' }} data-testid='what'>
            <Text span fw={700}>{change.actor}</Text> {actionInWords(change)}
          </Text>
          <When at={change.at} />
        </Group>
        <Group gap='xs' wrap='wrap'>
          {showFlag && change.flag !== null && (
            <Text span size='sm'>flag <Anchor component={Link} href={flagHref(change)} style={{ wordBreak: 'break-all' }}>{change.flag}</Anchor></Text>
          )}
          {change.environment !== null && <Text span size='sm'>in <Badge variant='outline' color='dark' tt='none'>{change.environment}</Badge></Text>}
          <Text span size='xs' c='dimmed'>revision {change.revision} · {change.action}</Text>
        </Group>
        <ChangeDiff change={change} />
        {action}
      </Stack>
    </Paper>
  )
}
