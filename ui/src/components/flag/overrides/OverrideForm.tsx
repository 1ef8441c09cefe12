import { Button, Group, Paper, Radio, Select, Stack, Text, TextInput, Title } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, unwrap, type Flag } from '../../../api/client.js'
import { useSession } from '../../../api/session.js'
import { ErrorNotice } from '../../ErrorNotice.js'
import { overridesKey, type Override, type SubjectKind } from './useOverrides.js'

/** What the form holds; an existing override put into it (Edit) replaces that one when set. */
export interface OverrideDraft { subject: SubjectKind, id: string, enabled: boolean, variant: string | null }
const EMPTY: OverrideDraft = { subject: 'customer', id: '', enabled: true, variant: null }

/**
 * `.` and `..` are never ids (they must start with a letter, digit or `_`), and the browser would
 * resolve them away in the request path before the server could say so: refused here, in its words.
 */
const DOT_SEGMENT = /^\.\.?$/
const ID_RULE = 'must be 1 to 256 characters: letters, digits or "_ . @ + : | = ~ -", starting with a letter, digit or "_"'

/**
 * Switch the flag on or off for one customer or user in this environment (PUT …/overrides/{customers|users}/{id}),
 * optionally serving one of its variants. The server's refusals are shown on the field they name.
 */
export function OverrideForm ({ flag, environment, disabled, reason, draft }: {
  flag: Flag
  environment: string
  disabled: boolean
  reason: string
  /** Put into the form when it changes (a row's Edit). */
  draft: OverrideDraft | null
}): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const [form, setForm] = useState<OverrideDraft>(EMPTY)
  const [saved, setSaved] = useState<Override | null>(null)
  const idInput = useRef<HTMLInputElement>(null)
  useEffect(() => {
    if (draft === null) return
    setForm(draft)
    idInput.current?.focus()
  }, [draft])

  const set = useMutation({
    mutationFn: async (input: OverrideDraft): Promise<Override> => {
      if (input.id === '') throw new ApiError('Type the id of the customer or user.', 400, 'LOCAL', [{ field: 'params.id', message: 'is required' }])
      if (DOT_SEGMENT.test(input.id)) throw new ApiError(`The id ${ID_RULE}.`, 400, 'LOCAL', [{ field: 'params.id', message: ID_RULE }])
      const params = { path: { environment, name: flag.name, id: input.id } }
      const body = { enabled: input.enabled, variant: input.variant }
      return await unwrap(input.subject === 'customer'
        ? client.PUT('/environments/{environment}/flags/{name}/overrides/customers/{id}', { params, body })
        : client.PUT('/environments/{environment}/flags/{name}/overrides/users/{id}', { params, body }))
    },
    onSuccess: async (override) => {
      setSaved(override)
      setForm((f) => ({ ...f, id: '', variant: null }))
      await queries.invalidateQueries({ queryKey: overridesKey(environment, flag.name) })
    }
  })
  const fieldError = (path: string): string | undefined => set.error instanceof ApiError ? set.error.fieldMessage(path) : undefined
  // The route schema answers a bad id with its pattern; the rule in words helps more on the field.
  const idError = fieldError('id')?.replace(/^must match pattern .*$/, ID_RULE)
  const variantError = fieldError('variant')
  const change = (next: Partial<OverrideDraft>): void => { setForm({ ...form, ...next }); setSaved(null) }
  // A variant chosen before someone else removed it stays listed, so the refusal has something to point at.
  const variants = Object.keys(flag.variants)
  const variantData = form.variant === null || variants.includes(form.variant) ? variants : [...variants, form.variant]

  function submit (event: FormEvent): void {
    event.preventDefault()
    setSaved(null)
    set.mutate(form)
  }

  return (
    <Paper withBorder p='md'>
      <form onSubmit={submit} aria-label='Set an override'>
        <Stack gap='sm'>
          <Title order={3} size='h4'>Set an override</Title>
          {disabled && <Text size='sm' c='dimmed' data-testid='read-only'>{reason}</Text>}
          <fieldset disabled={disabled} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
            <Stack gap='sm'>
              <Group wrap='wrap' align='flex-start' gap='lg'>
                <Radio.Group label='Subject' value={form.subject} onChange={(v) => change({ subject: v as SubjectKind })}>
                  <Group mt={6}><Radio value='customer' label='Customer' disabled={disabled} /><Radio value='user' label='User' disabled={disabled} /></Group>
                </Radio.Group>
                <Radio.Group label='Switch the flag' value={form.enabled ? 'on' : 'off'} onChange={(v) => change({ enabled: v === 'on' })}>
                  <Group mt={6}><Radio value='on' label='On' disabled={disabled} /><Radio value='off' label='Off' disabled={disabled} /></Group>
                </Radio.Group>
              </Group>
              <Group wrap='wrap' align='flex-start' grow preventGrowOverflow={false}>
                <TextInput
                  ref={idInput} label={form.subject === 'customer' ? 'Customer id' : 'User id'} miw={220} maxLength={300}
                  description='An unknown id is registered' value={form.id} error={idError}
                  onChange={(e) => change({ id: e.currentTarget.value })} disabled={disabled}
                />
                <Select
                  label='Variant (optional)' miw={200} clearable data={variantData} value={form.variant} error={variantError}
                  placeholder={form.enabled ? `${flag.default_variant} (default)` : `${flag.off_variant} (off variant)`}
                  description='Serve this variant instead' onChange={(v) => change({ variant: v })} disabled={disabled}
                />
              </Group>
              <ErrorNotice error={set.error} title='The override was not set' />
              {saved !== null && (
                <Text size='sm' c='teal.9' role='status' data-testid='saved' style={{ wordBreak: 'break-all' }}>
                  Set: {saved.subject} {saved.id} switched {saved.enabled ? 'on' : 'off'}{saved.variant === null ? '' : `, serving ${saved.variant}`}.
                </Text>
              )}
              <Group justify='flex-end'>
                <Button type='submit' loading={set.isPending} disabled={disabled} title={disabled ? reason : undefined}>Set override</Button>
              </Group>
            </Stack>
          </fieldset>
        </Stack>
      </form>
    </Paper>
  )
}
