import { Paper, Stack, TagsInput, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import { useEditor, useFieldError } from './context.js'
import type { Draft } from './draft.js'

/** Users and customers who always get the default variant (while the flag is on), before any rule. */
export function TargetsSection ({ draft, onChange }: { draft: Draft, onChange: (next: Draft) => void }): ReactNode {
  const { disabled } = useEditor()
  const userError = useFieldError('targeting_rules.user_ids', true)
  const customerError = useFieldError('targeting_rules.customer_ids', true)
  const hint = 'Press Enter or type a comma after each id; they get the default variant'
  return (
    <Paper withBorder p='md' component='section' aria-labelledby='targets-title'>
      <Stack>
        <div>
          <Title order={3} size='h4' id='targets-title'>Individual targets</Title>
          <Text size='sm'>Tried first: a context whose user_id or customer_id is listed gets “{draft.defaultVariant}”.</Text>
        </div>
        <TagsInput
          label='User ids' description={hint} value={draft.userIds} disabled={disabled} error={userError} clearable clearButtonProps={{ 'aria-label': 'Clear the user ids' }}
          onChange={(userIds) => onChange({ ...draft, userIds })}
        />
        <TagsInput
          label='Customer ids' description={hint} value={draft.customerIds} disabled={disabled} error={customerError} clearable clearButtonProps={{ 'aria-label': 'Clear the customer ids' }}
          onChange={(customerIds) => onChange({ ...draft, customerIds })}
        />
      </Stack>
    </Paper>
  )
}
