import { Alert, Button, Checkbox, Group, Select, Stack, Text, Title } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { ApiError, unwrap, type Environment, type Schemas } from '../../api/client.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { fieldError } from '../subjects/format.js'
import { FlagPicker } from './FlagPicker.js'
import { PromoteDiff } from './PromoteDiff.js'

type PromoteRequest = Schemas['PromoteRequest']
type PromoteResult = Schemas['PromoteResult']
interface Preview { target: string, request: PromoteRequest, result: PromoteResult }

/**
 * Promote: copy flags' configuration (optionally their overrides) from one environment to another. A
 * dry run first shows the diff; "Apply" then sends the very same request without dry_run. A change made
 * in between shows: the server refuses a race with 409, and an applied diff unlike the preview is said.
 */
export function PromotePanel ({ environments, defaultKey, reason }: { environments: Environment[], defaultKey: string, reason?: string }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const [from, setFrom] = useState<string | null>(environments.find((e) => e.key !== defaultKey)?.key ?? null)
  const [to, setTo] = useState<string | null>(defaultKey)
  const [flags, setFlags] = useState<string[]>([])
  const [includeOverrides, setIncludeOverrides] = useState(false)
  const [preview, setPreview] = useState<Preview | null>(null)
  const [applied, setApplied] = useState<(Preview & { differs: boolean }) | null>(null)
  const disabled = reason !== undefined

  const send = async (target: string, request: PromoteRequest): Promise<PromoteResult> =>
    await unwrap(client.POST('/environments/{environment}/promote', { params: { path: { environment: target } }, body: request }))
  const dryRun = useMutation({
    mutationFn: async () => {
      const request: PromoteRequest = { from: from ?? '', ...(flags.length === 0 ? {} : { flags }), include_overrides: includeOverrides, dry_run: true }
      return { target: to ?? '', request, result: await send(to ?? '', request) }
    },
    onSuccess: (next) => { setPreview(next); setApplied(null); apply.reset() }
  })
  const apply = useMutation({
    mutationFn: async (shown: Preview) => {
      const { from, flags, include_overrides: overrides } = shown.request
      return { ...shown, result: await send(shown.target, { from, ...(flags === undefined ? {} : { flags }), include_overrides: overrides }) }
    },
    onSuccess: async (done, shown) => {
      setApplied({ ...done, differs: JSON.stringify(done.result.flags) !== JSON.stringify(shown.result.flags) })
      setPreview(null)
      await queries.invalidateQueries()
    },
    // Whatever the refusal, the preview may no longer be what would happen: preview again.
    onError: () => setPreview(null)
  })
  // Any change to the form makes the shown diff stale.
  const edit = <T, >(set: (value: T) => void) => (value: T): void => { set(value); setPreview(null); setApplied(null); dryRun.reset(); apply.reset() }
  const conflict = apply.error instanceof ApiError && apply.error.status === 409
  const options = environments.map((e) => ({ value: e.key, label: e.name === e.key ? e.key : `${e.name} (${e.key})` }))

  return (
    <Stack data-testid='promote'>
      <Title order={3}>Promote</Title>
      <Text size='sm'>Copy flags' configuration (on or off, variants served, targeting) from one environment to another, in one step. Review the changes before applying them.</Text>
      {reason !== undefined && <Text size='sm' c='dimmed'>{reason}</Text>}
      <Group grow preventGrowOverflow={false} wrap='wrap' align='flex-start'>
        <Select label='From' data={options} value={from} onChange={edit(setFrom)} allowDeselect={false} disabled={disabled} miw={160} error={fieldError(dryRun.error, 'from')} />
        <Select label='To' data={options} value={to} onChange={edit(setTo)} allowDeselect={false} disabled={disabled} miw={160} />
      </Group>
      <FlagPicker environment={from} value={flags} onChange={edit(setFlags)} disabled={disabled} />
      <Checkbox
        label='Include overrides' description={'Make the target\'s overrides of each flag exactly the source\'s (added, changed and removed)'}
        checked={includeOverrides} onChange={(e) => edit(setIncludeOverrides)(e.currentTarget.checked)} disabled={disabled}
      />
      <Group>
        <Button onClick={() => dryRun.mutate()} loading={dryRun.isPending} disabled={disabled || from === null || to === null || from === to}>Preview changes</Button>
        {from !== null && from === to && <Text size='sm'>Pick two different environments.</Text>}
      </Group>
      <ErrorNotice error={dryRun.error} title='Could not preview the promotion' />
      {conflict && (
        <Alert color='red' title='Something changed meanwhile' role='alert' data-testid='conflict'>
          A flag being promoted was changed by someone else while this promotion was written, so nothing was written.
          Preview again to see the difference as it is now. ({(apply.error as ApiError).message})
        </Alert>
      )}
      {!conflict && <ErrorNotice error={apply.error} title='The promotion was not applied' />}
      {preview !== null && (
        <Stack gap='sm' data-testid='preview'>
          <Title order={4}>Preview: {preview.request.from} → {preview.target}</Title>
          {preview.result.flags.length === 0
            ? <Text data-testid='nothing'>Nothing to promote: {preview.target} already matches {preview.request.from} for {preview.request.flags === undefined ? 'every flag' : 'these flags'}.</Text>
            : <PromoteDiff flags={preview.result.flags} target={preview.target} />}
          <Group>
            <Button onClick={() => apply.mutate(preview)} loading={apply.isPending} disabled={preview.result.flags.length === 0}>Apply</Button>
            <Button variant='default' onClick={() => setPreview(null)}>Discard</Button>
          </Group>
        </Stack>
      )}
      {applied !== null && (
        <Alert color='teal.9' variant='outline' title='Promoted' role='status' data-testid='applied'>
          <Text size='sm'>
            {applied.result.flags.length} flag{applied.result.flags.length === 1 ? '' : 's'} promoted from {applied.request.from} to {applied.target}.
            {applied.differs && ' Something had changed since the preview: what was applied is shown below.'}
          </Text>
          {applied.differs && <PromoteDiff flags={applied.result.flags} target={applied.target} />}
        </Alert>
      )}
    </Stack>
  )
}
