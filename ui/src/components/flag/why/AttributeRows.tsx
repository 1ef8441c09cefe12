import { ActionIcon, Autocomplete, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'
import { newRow, type AttributeRow, type AttributeType } from './context.js'

const TYPES: AttributeType[] = ['string', 'number', 'boolean']

/** The context's other attributes, one row each: name (the rules' attributes suggested), type and value. */
export function AttributeRows ({ rows, onRows, suggestions, typeOf, errorOf }: {
  rows: AttributeRow[]
  onRows: (rows: AttributeRow[]) => void
  /** Attribute names the flag's rules and rollout read. */
  suggestions: string[]
  /** The type the rules compare an attribute with (numbers for `gte`…), if they say. */
  typeOf: (name: string) => AttributeType | undefined
  /** The problem with a row (typed locally or named by the server), if any. */
  errorOf: (row: AttributeRow) => string | undefined
}): ReactNode {
  const update = (key: number, change: Partial<AttributeRow>): void => onRows(rows.map((r) => r.key === key ? { ...r, ...change } : r))
  // A name the rules compare with numbers or booleans takes that type, until a value is typed.
  const rename = (row: AttributeRow, name: string): void => {
    const type = row.value === '' || row.type === 'boolean' ? typeOf(name.trim()) : undefined
    update(row.key, type === undefined || type === row.type ? { name } : { name, type, value: type === 'boolean' ? 'true' : '' })
  }
  return (
    <Stack gap='xs'>
      <Text size='sm' fw={500} id='why-attributes'>Other attributes</Text>
      {rows.length === 0 && <Text size='sm'>None: add the attributes the rules read{suggestions.length > 0 ? ` (${suggestions.join(', ')})` : ''}.</Text>}
      {rows.map((row, i) => {
        const n = i + 1
        const error = errorOf(row)
        return (
          <Stack key={row.key} gap={2} data-attribute-row={n}>
            <Group wrap='wrap' gap='xs' align='flex-start'>
              <Autocomplete
                aria-label={`Attribute ${n} name`} placeholder='name, e.g. country' w={190} value={row.name} error={error !== undefined}
                data={suggestions.filter((s) => !rows.some((r) => r.key !== row.key && r.name === s))} onChange={(name) => rename(row, name)}
              />
              <Select
                aria-label={`Attribute ${n} type`} w={110} data={TYPES} value={row.type} allowDeselect={false}
                onChange={(v) => update(row.key, { type: (v ?? 'string') as AttributeType, value: v === 'boolean' ? 'true' : row.value })}
              />
              {row.type === 'boolean'
                ? <Select aria-label={`Attribute ${n} value`} w={150} data={['true', 'false']} value={row.value === 'false' ? 'false' : 'true'} allowDeselect={false} onChange={(v) => update(row.key, { value: v ?? 'true' })} />
                : <TextInput aria-label={`Attribute ${n} value`} w={190} placeholder={row.type === 'number' ? 'e.g. 42' : 'value'} value={row.value} error={error !== undefined} onChange={(e) => update(row.key, { value: e.currentTarget.value })} inputMode={row.type === 'number' ? 'decimal' : undefined} />}
              <ActionIcon variant='default' size='lg' aria-label={`Remove attribute ${n}${row.name === '' ? '' : ` (${row.name})`}`} onClick={() => onRows(rows.filter((r) => r.key !== row.key))}>
                <span aria-hidden>×</span>
              </ActionIcon>
            </Group>
            {error !== undefined && <Text size='sm' c='red.9' data-testid={`attribute-${n}-error`}>{row.name === '' ? '' : `${row.name}: `}{error}</Text>}
          </Stack>
        )
      })}
      <Group>
        <Button variant='default' size='compact-sm' onClick={() => onRows([...rows, newRow()])}>Add attribute</Button>
      </Group>
    </Stack>
  )
}
