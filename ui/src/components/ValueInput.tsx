import { JsonInput, NumberInput, Select, TextInput } from '@mantine/core'
import type { ReactNode } from 'react'

export type FlagType = 'boolean' | 'string' | 'number' | 'json'
export const FLAG_TYPES: FlagType[] = ['boolean', 'string', 'number', 'json']

/**
 * What an editor holds for a value of a flag's type: the text typed, so a half-typed JSON document or
 * number is kept as typed; {@link parseValue} turns it into the value sent.
 */
export const valueText = (type: FlagType, value: unknown): string =>
  type === 'json' ? JSON.stringify(value, null, 2) : value === undefined || value === null ? '' : String(value)

/** The value of the flag's type a text stands for, or an Error naming what is wrong with it. */
export function parseValue (type: FlagType, text: string): unknown {
  if (type === 'boolean') return text === 'true'
  if (type === 'string') return text
  if (type === 'number') {
    const n = Number(text)
    return text.trim() === '' || !Number.isFinite(n) ? new Error('must be a number') : n
  }
  try { return JSON.parse(text) } catch { return new Error('must be valid JSON') }
}

interface ValueInputProps {
  type: FlagType
  label: string
  value: string
  onChange: (text: string) => void
  error?: ReactNode
  disabled?: boolean
  description?: ReactNode
}

/** An input fitting the flag's type: true/false, text, a number, or a JSON editor that checks as you type. */
export function ValueInput ({ type, label, value, onChange, error, disabled, description }: ValueInputProps): ReactNode {
  const common = { label, error, disabled, description }
  if (type === 'boolean') {
    return <Select {...common} data={['true', 'false']} value={value === '' ? null : value} onChange={(v) => onChange(v ?? '')} allowDeselect={false} />
  }
  if (type === 'number') {
    return <NumberInput {...common} value={value} onChange={(v) => onChange(String(v))} />
  }
  if (type === 'json') {
    return <JsonInput {...common} value={value} onChange={onChange} formatOnBlur autosize minRows={3} maxRows={16} validationError='Not valid JSON' />
  }
  return <TextInput {...common} value={value} onChange={(e) => onChange(e.currentTarget.value)} />
}
