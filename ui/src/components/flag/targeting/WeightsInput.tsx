import { Fieldset, NumberInput, Table, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import { useEditor, useFieldError } from './context.js'
import { weightsToSend, type Weights } from './draft.js'

/**
 * Variant → weight, for a rollout (the fallthrough's or a rule's): each context is bucketed by
 * `bucket_by` into a variant in proportion to its weight. A blank weight leaves the variant out.
 * `field` is where the server names its problems (`targeting_rules.rollout`).
 */
export function WeightsInput ({ legend, weights, onChange, field }: { legend: string, weights: Weights, onChange: (next: Weights) => void, field: string }): ReactNode {
  const { disabled, variantNames } = useEditor()
  const error = useFieldError(field)
  const total = Object.values(weightsToSend(weights, variantNames)).reduce((a, b) => a + b, 0)
  const share = (name: string): string => {
    const w = weights[name]
    return typeof w === 'number' && total > 0 ? `${(Math.round((w / total) * 10_000) / 100).toString()} %` : '—'
  }
  return (
    <Fieldset legend={legend} variant='unstyled' data-field={field} miw={0}>
      <Table.ScrollContainer minWidth={300}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Variant</Table.Th>
              <Table.Th>Weight</Table.Th>
              <Table.Th>Share</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {variantNames.map((name) => (
              <WeightRow key={name} name={name} field={field} share={share(name)} value={weights[name] ?? ''} disabled={disabled} onChange={(w) => onChange({ ...weights, [name]: w })} legend={legend} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size='sm' c={error === undefined ? undefined : 'red.9'} role={error === undefined ? undefined : 'alert'}>
        {error ?? `Total ${total.toString()}: a variant's share is its weight over the total. Leave a weight blank to leave the variant out.`}
      </Text>
    </Fieldset>
  )
}

function WeightRow ({ name, field, share, value, disabled, onChange, legend }: {
  name: string, field: string, share: string, value: number | '', disabled: boolean, onChange: (w: number | '') => void, legend: string
}): ReactNode {
  const error = useFieldError(`${field}.${name}`)
  return (
    <Table.Tr>
      <Table.Td style={{ wordBreak: 'break-all' }}>{name}</Table.Td>
      <Table.Td>
        <NumberInput
          aria-label={`${legend}: weight of ${name}`} min={0} max={10_000} decimalScale={2} w={120}
          value={value} disabled={disabled} error={error}
          onChange={(v) => onChange(v === '' || Number.isNaN(Number(v)) ? '' : Number(v))}
        />
      </Table.Td>
      <Table.Td>{share}</Table.Td>
    </Table.Tr>
  )
}
