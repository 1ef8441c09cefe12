import { Button, NumberInput, Stack, TagsInput, Text, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'
import { useEditor, useFieldError } from './context.js'
import { kindOf, type DraftClause } from './draft.js'
import { SEMVER } from './validate.js'

const pad = (n: number): string => String(n).padStart(2, '0')

/** A stored date (RFC 3339 or epoch ms) as a datetime-local input shows it: the person's own time zone. */
export function toLocalInput (text: string): string {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
  if (text === '' || Number.isNaN(ms)) return ''
  const d = new Date(ms)
  const minutes = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
  return d.getSeconds() === 0 ? minutes : `${minutes}:${pad(d.getSeconds())}`
}

/** A datetime-local value (local time, no zone) as the RFC 3339 instant sent to the server. */
export function fromLocalInput (local: string): string {
  const d = new Date(local)
  return local === '' || Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('.000Z', 'Z')
}

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone

/**
 * The input a clause's values need, by operator: a list (in, not_in, contains…), one text (eq, neq),
 * a number (lt…gte), a date and time (before, after), a version (semver_*), regular expressions
 * (matches), or nothing (exists). `field` is the clause's path, where the server names its problems.
 */
export function ClauseValues ({ clause, field, onChange }: { clause: DraftClause, field: string, onChange: (values: string[]) => void }): ReactNode {
  const { disabled } = useEditor()
  const error = useFieldError(`${field}.values`, true)
  const first = clause.values[0] ?? ''
  const common = { disabled, error, style: { flex: '1 1 220px' } }
  switch (kindOf(clause.operator)) {
    case 'list':
      return (
        <TagsInput
          {...common} label='Values' value={clause.values} onChange={onChange}
          splitChars={clause.operator === 'in' || clause.operator === 'not_in' ? [','] : []}
          description={clause.operator === 'in' || clause.operator === 'not_in' ? 'Enter or a comma after each value' : 'Enter after each value; any of them may match'}
        />
      )
    case 'text':
      return <TextInput {...common} label='Value' value={first} onChange={(e) => onChange([e.currentTarget.value])} />
    case 'number':
      return <NumberInput {...common} label='Number' value={first} onChange={(v) => onChange([String(v)])} />
    case 'date':
      return (
        <TextInput
          {...common} label='Date and time' type='datetime-local' step={1} value={toLocalInput(first)}
          onChange={(e) => onChange([fromLocalInput(e.currentTarget.value)])}
          description={first === '' ? `In your time zone (${ZONE})` : `In your time zone (${ZONE}); sent as ${first}`}
        />
      )
    case 'semver': {
      const local = first !== '' && !SEMVER.test(first.trim()) ? 'not a version (e.g. 2.3.0, v2.3.0, 2.3.0-beta.1, or partial 2.3)' : undefined
      return (
        <TextInput
          {...common} label='Version' placeholder='2.3.0' value={first} error={error ?? local}
          onChange={(e) => onChange([e.currentTarget.value])}
        />
      )
    }
    case 'regex':
      return <Patterns values={clause.values} field={field} onChange={onChange} />
    case 'none':
      return <Text size='sm' style={{ flex: '1 1 220px' }} mt={26}>No value: holds when the context has the attribute.</Text>
  }
}

/** One text input per pattern (usually one); any of them may match. */
function Patterns ({ values, field, onChange }: { values: string[], field: string, onChange: (values: string[]) => void }): ReactNode {
  const { disabled } = useEditor()
  const shown = values.length === 0 ? [''] : values
  return (
    <Stack gap={4} style={{ flex: '1 1 220px' }}>
      {shown.map((pattern, k) => (
        <Pattern
          key={k} index={k} count={shown.length} value={pattern} field={field} disabled={disabled}
          onChange={(v) => onChange(shown.map((p, i) => (i === k ? v : p)))}
          onRemove={() => onChange(shown.filter((_, i) => i !== k))}
        />
      ))}
      <div>
        <Button size='compact-sm' variant='subtle' color='dark' disabled={disabled} onClick={() => onChange([...shown, ''])}>Add another pattern</Button>
      </div>
    </Stack>
  )
}

function Pattern ({ index, count, value, field, disabled, onChange, onRemove }: {
  index: number, count: number, value: string, field: string, disabled: boolean, onChange: (v: string) => void, onRemove: () => void
}): ReactNode {
  const own = useFieldError(`${field}.values.${index}`)
  const all = useFieldError(`${field}.values`)
  const label = count === 1 ? 'Regular expression' : `Regular expression ${index + 1}`
  return (
    <TextInput
      label={label} value={value} disabled={disabled} error={own ?? (index === 0 ? all : undefined)}
      description={index === 0 ? 'RE2 syntax (linear time): no lookahead, lookbehind or backreferences' : undefined}
      onChange={(e) => onChange(e.currentTarget.value)}
      rightSection={count > 1 && (
        <Button size='compact-xs' variant='subtle' color='dark' aria-label={`Remove ${label.toLowerCase()}`} disabled={disabled} onClick={() => onRemove()}>✕</Button>
      )}
    />
  )
}
