import { ActionIcon, Button, Group, Paper, Select, Stack, Text, TextInput, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import { ValueInput, valueText } from '../../ValueInput.js'
import { useEditor, useFieldError } from './context.js'
import { newKey, type Draft, type DraftVariant, type Weights } from './draft.js'

const NEW_VALUE = { boolean: true, string: '', number: 0, json: {} } as const

const renamed = (weights: Weights, from: string, to: string): Weights =>
  Object.fromEntries(Object.entries(weights).map(([n, w]) => [n === from ? to : n, w]))

/** A variant renamed: what referred to it (default, off, rules, weights) follows the new name. */
function renameVariant (draft: Draft, index: number, to: string): Draft {
  const from = draft.variants[index].name
  const follow = (name: string): string => (name === from ? to : name)
  return {
    ...draft,
    variants: draft.variants.map((v, i) => (i === index ? { ...v, name: to } : v)),
    defaultVariant: follow(draft.defaultVariant),
    offVariant: follow(draft.offVariant),
    weights: renamed(draft.weights, from, to),
    rules: draft.rules.map((r) => ({ ...r, serve: { ...r.serve, variant: follow(r.serve.variant), weights: renamed(r.serve.weights, from, to) } }))
  }
}

/**
 * The flag's variants (named values; the same in every environment) and which of them this
 * environment serves when the flag is on for a context (default) and when it is off for it (off).
 */
export function VariantsSection ({ draft, onChange, environment }: { draft: Draft, onChange: (next: Draft) => void, environment: string }): ReactNode {
  const { disabled, variantNames } = useEditor()
  const defaultError = useFieldError('default_variant')
  const offError = useFieldError('off_variant')
  const variantsError = useFieldError('variants')
  const options = variantNames.filter((n, i) => n !== '' && variantNames.indexOf(n) === i)
  const add = (): void => {
    let n = draft.variants.length + 1
    while (variantNames.includes(`variant-${n}`)) n++
    onChange({ ...draft, variants: [...draft.variants, { key: newKey(), name: `variant-${n}`, text: valueText(draft.type, NEW_VALUE[draft.type]) }] })
  }
  return (
    <Paper withBorder p='md' component='section' aria-labelledby='variants-title'>
      <Stack>
        <div>
          <Title order={3} size='h4' id='variants-title'>Variants</Title>
          <Text size='sm'>The flag's {draft.type} values, by name. Variants are the flag's in every environment; which one is served is set per environment below.</Text>
        </div>
        {variantsError !== undefined && <Text size='sm' c='red.9' role='alert'>{variantsError}</Text>}
        {draft.variants.map((v, i) => (
          <VariantRow
            key={v.key} variant={v} index={i} type={draft.type} disabled={disabled}
            onRename={(name) => onChange(renameVariant(draft, i, name))}
            onValue={(text) => onChange({ ...draft, variants: draft.variants.map((x, j) => (j === i ? { ...x, text } : x)) })}
            onRemove={() => onChange({ ...draft, variants: draft.variants.filter((_, j) => j !== i) })}
          />
        ))}
        <Group>
          <Button variant='default' onClick={() => add()} disabled={disabled}>Add variant</Button>
        </Group>
        <Group grow wrap='wrap' preventGrowOverflow={false} align='flex-start'>
          <Select
            label='Default variant' miw={180} allowDeselect={false} disabled={disabled} error={defaultError}
            description={`Served in ${environment} when the flag is on for a context`}
            data={options} value={draft.defaultVariant === '' ? null : draft.defaultVariant}
            onChange={(value) => onChange({ ...draft, defaultVariant: value ?? '' })}
          />
          <Select
            label='Off variant' miw={180} allowDeselect={false} disabled={disabled} error={offError}
            description={`Served in ${environment} when the flag is off for a context (or killed)`}
            data={options} value={draft.offVariant === '' ? null : draft.offVariant}
            onChange={(value) => onChange({ ...draft, offVariant: value ?? '' })}
          />
        </Group>
      </Stack>
    </Paper>
  )
}

interface VariantRowProps {
  variant: DraftVariant
  index: number
  type: Draft['type']
  disabled: boolean
  onRename: (name: string) => void
  onValue: (text: string) => void
  onRemove: () => void
}

function VariantRow ({ variant, index, type, disabled, onRename, onValue, onRemove }: VariantRowProps): ReactNode {
  const nameError = useFieldError(`variant-name.${index}`)
  const valueError = useFieldError(`variants.${variant.name}`, true)
  const shown = variant.name === '' ? `variant ${index + 1}` : variant.name
  return (
    <Group align='flex-start' wrap='wrap' data-variant={variant.name}>
      <TextInput
        label={`Name of variant ${index + 1}`} w={180} value={variant.name} disabled={disabled} error={nameError}
        onChange={(e) => onRename(e.currentTarget.value.trim())}
      />
      <div style={{ flex: '1 1 240px', minWidth: 0 }}>
        <ValueInput type={type} label={`Value of ${shown}`} value={variant.text} onChange={onValue} disabled={disabled} error={valueError} />
      </div>
      <ActionIcon
        variant='subtle' color='red.9' size='lg' mt={26} aria-label={`Remove variant ${shown}`}
        disabled={disabled} onClick={() => onRemove()}
      >
        ✕
      </ActionIcon>
    </Group>
  )
}
