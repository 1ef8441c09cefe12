import { Group, Paper, Stack, Switch, Text, Title } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { ApiError, unwrap, type Flag } from '../../../api/client.js'
import { keys } from '../../../api/queries.js'
import { useSession } from '../../../api/session.js'
import { ErrorNotice } from '../../ErrorNotice.js'
import { StateBadge } from '../../StateBadge.js'

/**
 * The flag's kill switch in one environment, saved the moment it is flipped (apart from the form's
 * Save), with If-Match on the version shown: if someone flipped it meanwhile, that is said, not undone.
 */
export function KillSwitch ({ flag, environment, disabled }: { flag: Flag, environment: string, disabled: boolean }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const toggle = useMutation({
    mutationFn: async (enabled: boolean) => await unwrap(client.PUT('/environments/{environment}/flags/{name}', {
      params: { path: { environment, name: flag.name }, header: { 'if-match': `"${flag.version}"` } },
      body: { enabled }
    })),
    onSuccess: (saved) => queries.setQueryData(keys.flag(environment, saved.name), saved),
    onError: (err) => {
      // The version shown was stale: show the current one (the message says what happened).
      if (err instanceof ApiError && err.status === 412) void queries.invalidateQueries({ queryKey: keys.flag(environment, flag.name) })
    }
  })
  const stale = toggle.error instanceof ApiError && toggle.error.status === 412
  return (
    <Paper withBorder p='md' component='section' aria-labelledby='kill-switch-title'>
      <Stack gap='xs'>
        <Group justify='space-between' wrap='wrap'>
          <Title order={3} size='h4' id='kill-switch-title'>Kill switch</Title>
          <StateBadge tone={flag.enabled ? 'good' : 'warning'} testId='served-state'>{flag.enabled ? 'on' : 'off'}</StateBadge>
        </Group>
        <Switch
          label={`Enabled in ${environment}`}
          description={flag.enabled
            ? `Serving by the targeting below. Turning it off serves “${flag.off_variant}” (the off variant) to everyone, overrides included; saved at once.`
            : `Everyone gets “${flag.off_variant}” (the off variant), overrides included. Turning it on serves by the targeting below; saved at once.`}
          checked={flag.enabled}
          disabled={disabled || toggle.isPending}
          onChange={(e) => toggle.mutate(e.currentTarget.checked)}
          size='md'
        />
        {toggle.isPending && <Text size='sm'>Saving…</Text>}
        <ErrorNotice
          error={stale ? new Error('Someone else changed this flag meanwhile, so the switch was not flipped. It now shows the current state: flip it again if you still mean to.') : toggle.error}
          title='The kill switch was not changed'
        />
      </Stack>
    </Paper>
  )
}
