import { Button, Group, Modal, MultiSelect, Select, Stack, TextInput } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, unwrap, type Role, type Schemas } from '../../api/client.js'
import { useEnvironments } from '../../api/queries.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { fieldError } from '../subjects/format.js'
import { ENVIRONMENTS_HELP, ROLES } from './roles.js'

/**
 * A new API key: name, role, environments (as the role allows), optional expiry. The created key,
 * secret included, goes to `onCreated` and is not kept here: the mutation is reset at once.
 */
export function CreateKeyModal ({ onClose, onCreated }: { onClose: () => void, onCreated: (key: Schemas['ApiKeyCreated']) => void }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const environments = useEnvironments()
  const [name, setName] = useState('')
  const [role, setRole] = useState<Role>('viewer')
  const [picked, setPicked] = useState<string[]>([])
  const [expires, setExpires] = useState('')

  const create = useMutation({
    mutationFn: async () => {
      let expiresAt: string | undefined
      if (expires !== '') {
        const at = new Date(expires)
        if (Number.isNaN(at.getTime())) throw new ApiError('The expiry is not a date and time', 400, 'LOCAL', [{ field: 'body.expires_at', message: 'is not a date and time' }])
        expiresAt = at.toISOString()
      }
      return await unwrap(client.POST('/api-keys', {
        body: { name: name.trim(), role, ...(role === 'admin' ? {} : { environments: picked }), ...(expiresAt === undefined ? {} : { expires_at: expiresAt }) }
      }))
    },
    onSuccess: async (created) => {
      onCreated(created)
      create.reset()
      await queries.invalidateQueries({ queryKey: ['api-keys'] })
    }
  })

  function submit (event: FormEvent): void {
    event.preventDefault()
    create.mutate()
  }

  return (
    <Modal opened onClose={onClose} title='New API key'>
      <form onSubmit={submit}>
        <Stack>
          <TextInput
            label='Name' required value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus
            description='Unique; it is the author of this key’s changes in the history' error={fieldError(create.error, 'name', 'name')}
          />
          <Select
            label='Role' data={ROLES.map((r) => ({ value: r.value, label: r.label }))} value={role} allowDeselect={false}
            description={ROLES.find((r) => r.value === role)?.description} error={fieldError(create.error, 'role')}
            onChange={(v) => { if (v !== null) { setRole(v as Role); if (v === 'admin') setPicked([]); if (v === 'client') setPicked(picked.slice(0, 1)) } }}
          />
          <MultiSelect
            label='Environments' data={environments.data?.list.map((e) => ({ value: e.key, label: e.name })) ?? []}
            value={picked} onChange={setPicked} disabled={role === 'admin'} maxValues={role === 'client' ? 1 : undefined} clearable
            placeholder={role === 'admin' || role === 'client' ? undefined : 'Every environment'}
            description={ENVIRONMENTS_HELP[role]} error={fieldError(create.error, 'environments')}
          />
          <TextInput
            label='Expires' type='datetime-local' value={expires} onChange={(e) => setExpires(e.currentTarget.value)}
            description='Optional, your local time; empty: never' error={fieldError(create.error, 'expires_at')}
          />
          <ErrorNotice error={environments.error ?? create.error} title='The key was not created' />
          <Group justify='flex-end'>
            <Button variant='default' onClick={onClose}>Cancel</Button>
            <Button type='submit' loading={create.isPending}>Create key</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
