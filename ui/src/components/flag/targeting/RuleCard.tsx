import { ActionIcon, Button, Fieldset, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'
import { ClauseEditor } from './ClauseEditor.js'
import { useEditor, useFieldError } from './context.js'
import { emptyClause, type DraftRule } from './draft.js'
import { WeightsInput } from './WeightsInput.js'

interface RuleCardProps {
  rule: DraftRule
  index: number
  count: number
  onChange: (next: DraftRule) => void
  onMove: (by: -1 | 1) => void
  onRemove: () => void
}

/** One rule: its id and description, its conditions (all must hold) and what it serves. */
export function RuleCard ({ rule, index, count, onChange, onMove, onRemove }: RuleCardProps): ReactNode {
  const { disabled, variantNames } = useEditor()
  const field = `targeting_rules.rules.${index}`
  const idError = useFieldError(`${field}.id`)
  const descriptionError = useFieldError(`${field}.description`)
  const variantError = useFieldError(`${field}.serve.variant`)
  const serveError = useFieldError(`${field}.serve`)
  const clausesError = useFieldError(`${field}.clauses`)
  const ruleError = useFieldError(field)
  const name = `Rule ${index + 1}`
  const serve = rule.serve
  return (
    <Fieldset legend={name} data-rule={rule.id} miw={0} p='sm'>
      <Stack gap='sm'>
        <Group justify='space-between' align='flex-start' wrap='wrap'>
          <Group align='flex-start' wrap='wrap' style={{ flex: '1 1 300px' }}>
            <TextInput
              label='Rule id' w={180} value={rule.id} disabled={disabled} error={idError}
              onChange={(e) => onChange({ ...rule, id: e.currentTarget.value })}
            />
            <TextInput
              label='Description' style={{ flex: '1 1 200px' }} value={rule.description} disabled={disabled} error={descriptionError}
              onChange={(e) => onChange({ ...rule, description: e.currentTarget.value })}
            />
          </Group>
          <Group gap={4} mt={26}>
            <ActionIcon variant='default' size='lg' aria-label={`Move ${name.toLowerCase()} up`} disabled={disabled || index === 0} onClick={() => onMove(-1)}>↑</ActionIcon>
            <ActionIcon variant='default' size='lg' aria-label={`Move ${name.toLowerCase()} down`} disabled={disabled || index === count - 1} onClick={() => onMove(1)}>↓</ActionIcon>
            <ActionIcon variant='default' size='lg' c='red.9' aria-label={`Remove ${name.toLowerCase()}`} disabled={disabled} onClick={() => onRemove()}>✕</ActionIcon>
          </Group>
        </Group>
        {ruleError !== undefined && <Text size='sm' c='red.9' role='alert'>{ruleError}</Text>}
        <Text size='sm'>
          {rule.clauses.length === 0 ? 'No condition: this rule matches every context that reaches it.' : 'When all of these hold:'}
        </Text>
        {rule.clauses.map((c, j) => (
          <ClauseEditor
            key={c.key} clause={c} index={j} field={`${field}.clauses.${j}`}
            onChange={(next) => onChange({ ...rule, clauses: rule.clauses.map((x, k) => (k === j ? next : x)) })}
            onRemove={() => onChange({ ...rule, clauses: rule.clauses.filter((_, k) => k !== j) })}
          />
        ))}
        {clausesError !== undefined && <Text size='sm' c='red.9' role='alert'>{clausesError}</Text>}
        <Group>
          <Button variant='default' size='xs' disabled={disabled} onClick={() => onChange({ ...rule, clauses: [...rule.clauses, emptyClause()] })}>Add condition</Button>
        </Group>
        <div>
          <Text size='sm' fw={500} id={`rule-${rule.key}-serve`}>{name} serves</Text>
          <SegmentedControl
            aria-labelledby={`rule-${rule.key}-serve`} disabled={disabled} value={serve.kind}
            data={[{ value: 'variant', label: 'A variant' }, { value: 'rollout', label: 'Weights per variant' }]}
            onChange={(kind) => onChange({ ...rule, serve: { ...serve, kind: kind as DraftRule['serve']['kind'] } })}
          />
        </div>
        {serve.kind === 'variant'
          ? (
            <Select
              label='Serve variant' maw={260} allowDeselect={false} disabled={disabled} error={variantError ?? serveError}
              data={variantNames.filter((n, i) => n !== '' && variantNames.indexOf(n) === i)} value={serve.variant === '' ? null : serve.variant}
              onChange={(v) => onChange({ ...rule, serve: { ...serve, variant: v ?? '' } })}
            />
            )
          : (
            <WeightsInput
              legend={`${name} weights`} field={`${field}.serve.rollout`} weights={serve.weights}
              onChange={(weights) => onChange({ ...rule, serve: { ...serve, weights } })}
            />
            )}
      </Stack>
    </Fieldset>
  )
}
