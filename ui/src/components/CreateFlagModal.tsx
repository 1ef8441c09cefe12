import { Button, Group, Modal, SegmentedControl, Stack, TagsInput, Text, TextInput } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent, type ReactNode } from 'react'
import { useLocation } from 'wouter'
import { ApiError, unwrap } from '../api/client.js'
import { useSession } from '../api/session.js'
import { ErrorNotice } from './ErrorNotice.js'
import { FLAG_TYPES, parseValue, ValueInput, type FlagType } from './ValueInput.js'

const EMPTY: Record<FlagType, { on: string, off: string }> = {
  boolean: { on: 'true', off: 'false' },
  string: { on: '', off: '' },
  number: { on: '1', off: '0' },
  json: { on: '{}', off: '{}' }
}

/** A new flag of any type: name, type, description, tags, and its served and off values (non-boolean). */
export function CreateFlagModal ({ opened, onClose }: { opened: boolean, onClose: () => void }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const [, navigate] = useLocation()
  const [name, setName] = useState('')
  const [type, setType] = useState<FlagType>('boolean')
  const [description, setDescription] = useState('')
  const [tags, setTags] = useState<string[]>([])
  const [values, setValues] = useState(EMPTY.boolean)

  const create = useMutation({
    mutationFn: async () => {
      const on = parseValue(type, values.on)
      const off = parseValue(type, values.off)
      if (on instanceof Error) throw new ApiError(`Value when on ${on.message}`, 400, 'LOCAL', [{ field: 'body.default_value', message: on.message }])
      if (off instanceof Error) throw new ApiError(`Value when off ${off.message}`, 400, 'LOCAL', [{ field: 'body.off_value', message: off.message }])
      return await unwrap(client.POST('/flags', {
        body: { name: name.trim(), type, description, tags, ...(type === 'boolean' ? {} : { default_value: on, off_value: off }) }
      }))
    },
    onSuccess: async (flag) => {
      await queries.invalidateQueries({ queryKey: ['flags'] })
      onClose()
      navigate(`/flags/${encodeURIComponent(flag.name)}`)
    }
  })
  const fieldError = (path: string): string | undefined => create.error instanceof ApiError ? create.error.fieldMessage(path) : undefined

  function submit (event: FormEvent): void {
    event.preventDefault()
    create.mutate()
  }

  return (
    <Modal opened={opened} onClose={onClose} title='New flag' size='lg'>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label='Name' required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError('name')} description='Letters, digits, ".", "_", "-"; at most 128 characters' data-autofocus />
          <div>
            <Text size='sm' fw={500} id='new-flag-type'>Type</Text>
            <SegmentedControl
              aria-labelledby='new-flag-type' fullWidth data={FLAG_TYPES} value={type}
              onChange={(v) => { setType(v as FlagType); setValues(EMPTY[v as FlagType]) }}
            />
          </div>
          <TextInput label='Description' value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fieldError('description')} />
          <TagsInput label='Tags' value={tags} onChange={setTags} error={fieldError('tags')} description='Press Enter after each tag' />
          {type !== 'boolean' && (
            <>
              <ValueInput type={type} label='Value when on' value={values.on} onChange={(on) => setValues({ ...values, on })} error={fieldError('default_value')} />
              <ValueInput type={type} label='Value when off' value={values.off} onChange={(off) => setValues({ ...values, off })} error={fieldError('off_value')} />
            </>
          )}
          <Text size='xs' c='dimmed'>The flag is created on in the default environment and off in the others; targeting is set on its page.</Text>
          <ErrorNotice error={create.error} title='The flag was not created' />
          <Group justify='flex-end'>
            <Button variant='default' onClick={onClose}>Cancel</Button>
            <Button type='submit' loading={create.isPending}>Create</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
