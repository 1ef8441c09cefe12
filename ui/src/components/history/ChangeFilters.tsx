import { Group, Select, TextInput } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { useEffect, useState, type ReactNode } from 'react'
import { ApiError } from '../../api/client.js'
import { useEnvironments } from '../../api/queries.js'
import { useSession } from '../../api/session.js'
import { ACTION_GROUPS } from './describe.js'

/** GET /changes' filters as the page offers them ('' for none). */
export interface Filters { flag: string, environment: string, actor: string, action: string }

export const NO_FILTERS: Filters = { flag: '', environment: '', actor: '', action: '' }

/** A text filter: applied once typing pauses, so each keystroke is not a request. */
function TextFilter ({ label, description, value, onChange, error }: { label: string, description: string, value: string, onChange: (value: string) => void, error?: string }): ReactNode {
  const [text, setText] = useState(value)
  const [settled] = useDebouncedValue(text.trim(), 300)
  // The filter changed from outside (the address: back, a link): show it. Not when it is what was typed.
  const [shown, setShown] = useState(value)
  if (value !== shown) {
    setShown(value)
    if (value !== settled) setText(value)
  }
  // Typed text reaches the filters when it settles; the callback is the page's, fresh each render.
  useEffect(() => { if (settled !== value) onChange(settled) }, [settled])
  return (
    <TextInput label={label} description={description} value={text} onChange={(e) => setText(e.currentTarget.value)} error={error} miw={180} />
  )
}

/** The log's filters: flag, environment, actor, kind of change. */
export function ChangeFilters ({ value, onChange, error }: { value: Filters, onChange: (next: Filters) => void, error: unknown }): ReactNode {
  const { isAdmin } = useSession()
  const environments = useEnvironments()
  const fieldError = (name: string): string | undefined => error instanceof ApiError ? error.fieldMessage(name) : undefined
  // Only admin keys see API-key changes: the group is not offered to the others.
  const groups = ACTION_GROUPS.filter((g) => g.value !== 'api_key' || isAdmin)
  return (
    <Group grow preventGrowOverflow={false} wrap='wrap' align='flex-start'>
      <TextFilter label='Flag' description='Its exact name' value={value.flag} onChange={(flag) => onChange({ ...value, flag })} error={fieldError('flag')} />
      <Select
        label='Environment' description='Where it was changed' placeholder='Any environment' clearable miw={180}
        data={environments.data?.list.map((e) => ({ value: e.key, label: e.name })) ?? []}
        value={value.environment === '' ? null : value.environment} onChange={(v) => onChange({ ...value, environment: v ?? '' })}
        error={fieldError('environment')}
      />
      <TextFilter label='Actor' description='A key’s name, exactly' value={value.actor} onChange={(actor) => onChange({ ...value, actor })} error={fieldError('actor')} />
      <Select
        label='Kind of change' description='What it changed' placeholder='Any change' clearable miw={180}
        data={groups} value={value.action === '' ? null : value.action} onChange={(v) => onChange({ ...value, action: v ?? '' })}
        error={fieldError('action')}
      />
    </Group>
  )
}
