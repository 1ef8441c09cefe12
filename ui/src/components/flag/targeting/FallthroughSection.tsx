import { Autocomplete, Group, NumberInput, Paper, SegmentedControl, Slider, Stack, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import { useEditor, useFieldError } from './context.js'
import type { Draft } from './draft.js'
import { WeightsInput } from './WeightsInput.js'

/**
 * Everyone else: the contexts no target or rule matched get the default variant with a percentage
 * (the rest the off variant), or a variant by weight. Percentage is null on the server exactly when
 * weights are used, so choosing one mode clears the other. `bucket_by` is what both hash.
 */
export function FallthroughSection ({ draft, onChange }: { draft: Draft, onChange: (next: Draft) => void }): ReactNode {
  const { disabled } = useEditor()
  const percentageError = useFieldError('targeting_rules.percentage')
  const bucketError = useFieldError('targeting_rules.bucket_by')
  const p = draft.percentage
  return (
    <Paper withBorder p='md' component='section' aria-labelledby='fallthrough-title'>
      <Stack>
        <div>
          <Title order={3} size='h4' id='fallthrough-title'>Everyone else</Title>
          <Text size='sm'>What a context gets when no individual target and no rule matched.</Text>
        </div>
        <div>
          <Text size='sm' fw={500} id='fallthrough-mode'>Serve</Text>
          <SegmentedControl
            aria-labelledby='fallthrough-mode' disabled={disabled} value={draft.mode}
            data={[{ value: 'percentage', label: 'A percentage' }, { value: 'rollout', label: 'Weights per variant' }]}
            onChange={(mode) => onChange({ ...draft, mode: mode as Draft['mode'] })}
          />
        </div>
        {draft.mode === 'percentage'
          ? (
            <Stack gap='xs'>
              <Group align='flex-end' wrap='wrap'>
                <NumberInput
                  label='Percentage' rightSection='%' min={0} max={100} decimalScale={2} w={140} disabled={disabled} error={percentageError}
                  value={p} onChange={(v) => onChange({ ...draft, percentage: v === '' || Number.isNaN(Number(v)) ? '' : Number(v) })}
                />
                <Slider
                  style={{ flex: '1 1 200px' }} mb='sm' min={0} max={100} step={1} thumbLabel='Percentage slider' disabled={disabled}
                  value={p === '' ? 0 : p} onChange={(v) => onChange({ ...draft, percentage: v })} label={(v) => `${v} %`}
                  marks={[{ value: 0, label: '0' }, { value: 50, label: '50' }, { value: 100, label: '100' }]}
                />
              </Group>
              <Text size='sm' data-testid='percentage-says'>
                {p === '' ? 'Give a share from 0 to 100.' : `${p} % get “${draft.defaultVariant}”, the other ${Math.round((100 - p) * 100) / 100} % get “${draft.offVariant}”.`}
                {' '}Raising it never takes anyone out who was in.
              </Text>
            </Stack>
            )
          : (
            <Stack gap='xs'>
              <WeightsInput legend='Weights per variant' field='targeting_rules.rollout' weights={draft.weights} onChange={(weights) => onChange({ ...draft, weights })} />
              <Text size='sm'>With weights the percentage is unset (null on the server): the weights alone decide.</Text>
            </Stack>
            )}
        <Autocomplete
          label='Bucket by' maw={320} disabled={disabled} error={bucketError} data={['user_id', 'customer_id']}
          description='The context attribute a percentage or weights hash (here and in rules serving weights): user_id, or customer_id to roll out per customer'
          value={draft.bucketBy} onChange={(bucketBy) => onChange({ ...draft, bucketBy })}
        />
      </Stack>
    </Paper>
  )
}
