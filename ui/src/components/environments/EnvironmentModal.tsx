import { Button, Group, Modal, NumberInput, Stack, Text, TextInput } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent, type ReactNode } from 'react'
import { unwrap, type Environment } from '../../api/client.js'
import { keys } from '../../api/queries.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { fieldError } from '../subjects/format.js'

/**
 * A new environment (`environment` absent), or an existing one renamed or moved: its key is what API
 * keys and URLs hold, so it is chosen once and never edited. The server's refusals sit on their fields.
 */
export function EnvironmentModal ({ environment, onClose }: { environment?: Environment, onClose: () => void }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const [key, setKey] = useState('')
  const [name, setName] = useState(environment?.name ?? '')
  const [position, setPosition] = useState<string | number>(environment?.position ?? '')

  const save = useMutation({
    mutationFn: async () => {
      // Empty fields are left to the server's defaults (the key as name, listed last).
      const fields = { ...(name.trim() === '' ? {} : { name }), ...(typeof position === 'number' ? { position } : {}) }
      if (environment === undefined) return await unwrap(client.POST('/environments', { body: { key: key.trim(), ...fields } }))
      return await unwrap(client.PATCH('/environments/{environment}', { params: { path: { environment: environment.key } }, body: fields }))
    },
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: keys.environments })
      onClose()
    }
  })

  function submit (event: FormEvent): void {
    event.preventDefault()
    save.mutate()
  }

  const creating = environment === undefined
  return (
    <Modal opened onClose={onClose} title={creating ? 'New environment' : `Edit environment ${environment.key}`}>
      <form onSubmit={submit}>
        <Stack>
          {creating && (
            <TextInput
              label='Key' required value={key} onChange={(e) => setKey(e.currentTarget.value)} data-autofocus
              description='Lower-case letters, digits, "_" and "-", at most 32 characters; it cannot be changed later'
              error={fieldError(save.error, 'key', 'key')}
            />
          )}
          <TextInput
            label='Display name' value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus={!creating}
            description={creating ? 'Optional: the key when empty' : undefined} error={fieldError(save.error, 'name')}
          />
          <NumberInput
            label='Position' value={position} onChange={setPosition} min={0} max={1_000_000} allowDecimal={false}
            description='Where it is listed (ascending); empty: last' error={fieldError(save.error, 'position')}
          />
          {creating && (
            <Text size='sm'>Every flag is configured in the new environment as in the default one, and served off there until someone turns it on.</Text>
          )}
          <ErrorNotice error={save.error} title={creating ? 'The environment was not created' : 'The environment was not changed'} />
          <Group justify='flex-end'>
            <Button variant='default' onClick={onClose}>Cancel</Button>
            <Button type='submit' loading={save.isPending}>{creating ? 'Create' : 'Save'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
