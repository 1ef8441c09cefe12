import { Group, JsonInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'
import { AttributeRows } from './AttributeRows.js'
import type { AttributeRow, AttributeType, ContextDraft } from './context.js'

export type EditorMode = 'form' | 'json'

/**
 * The context to evaluate: user_id, customer_id and typed attribute rows, or (for nested objects,
 * or pasting what an application sends) the same as a JSON document.
 */
export function ContextEditor ({ mode, onMode, draft, onDraft, json, onJson, suggestions, typeOf, fieldError, rowError, modeError }: {
  mode: EditorMode
  onMode: (mode: EditorMode) => void
  draft: ContextDraft
  onDraft: (draft: ContextDraft) => void
  json: string
  onJson: (json: string) => void
  suggestions: string[]
  typeOf: (name: string) => AttributeType | undefined
  /** The server's (or the page's) problem with a named attribute: `user_id`, `customer_id`, `context`. */
  fieldError: (name: string) => string | undefined
  rowError: (row: AttributeRow) => string | undefined
  /** Why the JSON could not become form rows. */
  modeError: string | null
}): ReactNode {
  return (
    <Stack gap='sm'>
      <Group gap='sm' wrap='wrap'>
        <Text size='sm' fw={500} id='why-editor'>Context editor</Text>
        <SegmentedControl
          aria-labelledby='why-editor' size='xs' value={mode} onChange={(v) => onMode(v as EditorMode)}
          data={[{ value: 'form', label: 'Fields' }, { value: 'json', label: 'JSON' }]}
        />
      </Group>
      {modeError !== null && <Text size='sm' c='red.9' role='alert'>{modeError}</Text>}
      {mode === 'form'
        ? (
          <>
            <Group wrap='wrap' align='flex-start' grow preventGrowOverflow={false}>
              <TextInput
                label='User id' description='user_id: user overrides, user ids, bucketing' miw={200} value={draft.userId}
                error={fieldError('user_id')} onChange={(e) => onDraft({ ...draft, userId: e.currentTarget.value })}
              />
              <TextInput
                label='Customer id' description='customer_id: inferred from a registered user when empty' miw={200} value={draft.customerId}
                error={fieldError('customer_id')} onChange={(e) => onDraft({ ...draft, customerId: e.currentTarget.value })}
              />
            </Group>
            <AttributeRows rows={draft.rows} onRows={(rows) => onDraft({ ...draft, rows })} suggestions={suggestions} typeOf={typeOf} errorOf={rowError} />
          </>
          )
        : (
          <JsonInput
            label='Context (JSON)' description='Strings, numbers and booleans; a nested object is read as dotted attributes'
            value={json} onChange={onJson} autosize minRows={6} maxRows={20} error={fieldError('context')} validationError='Not valid JSON'
          />
          )}
    </Stack>
  )
}
