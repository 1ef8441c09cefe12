import { ActionIcon, Fieldset, Group, Select, Switch, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'
import { ClauseValues } from './ClauseValues.js'
import { useEditor, useFieldError } from './context.js'
import { kindOf, OPERATORS, takesCase, type DraftClause, type Operator } from './draft.js'

/**
 * One condition of a rule: attribute, operator, the values the operator takes, and negate /
 * ignore-case. `field` is its path (`targeting_rules.rules.0.clauses.1`).
 */
export function ClauseEditor ({ clause, index, field, onChange, onRemove }: {
  clause: DraftClause, index: number, field: string, onChange: (next: DraftClause) => void, onRemove: () => void
}): ReactNode {
  const { disabled } = useEditor()
  const attributeError = useFieldError(`${field}.attribute`)
  const operatorError = useFieldError(`${field}.operator`)
  const clauseError = useFieldError(field)
  const legend = `Condition ${index + 1}`
  const setOperator = (operator: Operator): void => {
    // Values of another kind mean nothing to the new operator (a list is no date): start again.
    const values = kindOf(operator) === kindOf(clause.operator) ? clause.values : []
    onChange({ ...clause, operator, values })
  }
  return (
    <Fieldset legend={legend} variant='filled' data-clause={index} miw={0} p='sm'>
      <Group align='flex-start' wrap='wrap' gap='sm'>
        <TextInput
          label='Attribute' placeholder='country' style={{ flex: '1 1 150px' }} value={clause.attribute} disabled={disabled} error={attributeError}
          onChange={(e) => onChange({ ...clause, attribute: e.currentTarget.value })}
        />
        <Select
          label='Operator' style={{ flex: '1 1 220px' }} allowDeselect={false} disabled={disabled} error={operatorError}
          data={OPERATORS.map((o) => ({ value: o.value, label: o.label }))} value={clause.operator}
          onChange={(v) => { if (v !== null) setOperator(v as Operator) }}
        />
        <ClauseValues clause={clause} field={field} onChange={(values) => onChange({ ...clause, values })} />
        <ActionIcon
          variant='subtle' color='red.9' size='lg' mt={26} aria-label={`Remove condition ${index + 1}`}
          disabled={disabled} onClick={() => onRemove()}
        >
          ✕
        </ActionIcon>
      </Group>
      <Group mt='xs' gap='lg' wrap='wrap'>
        <Switch
          label='Negate: holds when the comparison does not, or when the context lacks the value' disabled={disabled}
          checked={clause.negate} onChange={(e) => onChange({ ...clause, negate: e.currentTarget.checked })}
        />
        {takesCase(clause.operator) && (
          <Switch
            label='Ignore case' disabled={disabled}
            checked={clause.caseInsensitive} onChange={(e) => onChange({ ...clause, caseInsensitive: e.currentTarget.checked })}
          />
        )}
      </Group>
      {clauseError !== undefined && <span role='alert' style={{ color: 'var(--mantine-color-red-9)', fontSize: 'var(--mantine-font-size-sm)' }}>{clauseError}</span>}
    </Fieldset>
  )
}
