import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent, type ReactNode } from 'react'
import { unwrap } from '../../api/client.js'
import { useSession } from '../../api/session.js'
import { ErrorNotice } from '../ErrorNotice.js'
import { fieldError } from './format.js'

const ID_RULE = 'Letters, digits and _ . @ + : | = ~ -, starting with a letter, digit or _; at most 256 characters'

/**
 * Registering a customer (id, name) or a user (id, customer): the server's refusals on their fields,
 * "already exists" on the id.
 */
export function SubjectModal ({ kind, customerId = '', onClose }: { kind: 'customer' | 'user', customerId?: string, onClose: () => void }): ReactNode {
  const { client } = useSession()
  const queries = useQueryClient()
  const [id, setId] = useState('')
  const [second, setSecond] = useState(kind === 'user' ? customerId : '')

  const create = useMutation({
    mutationFn: async () => {
      const extra = second.trim()
      if (kind === 'customer') return await unwrap(client.POST('/customers', { body: { id: id.trim(), ...(extra === '' ? {} : { name: extra }) } }))
      return await unwrap(client.POST('/users', { body: { id: id.trim(), ...(extra === '' ? {} : { customer_id: extra }) } }))
    },
    onSuccess: async () => {
      // A user's unknown customer is registered with it: both lists may change.
      await Promise.all([queries.invalidateQueries({ queryKey: ['customers'] }), queries.invalidateQueries({ queryKey: ['users'] })])
      onClose()
    }
  })

  function submit (event: FormEvent): void {
    event.preventDefault()
    create.mutate()
  }

  return (
    <Modal opened onClose={onClose} title={kind === 'customer' ? 'New customer' : 'New user'}>
      <form onSubmit={submit}>
        <Stack>
          <TextInput label='Id' required value={id} onChange={(e) => setId(e.currentTarget.value)} description={ID_RULE} error={fieldError(create.error, 'id', 'id')} data-autofocus />
          {kind === 'customer'
            ? <TextInput label='Name' value={second} onChange={(e) => setSecond(e.currentTarget.value)} description='Optional: a human-readable name' error={fieldError(create.error, 'name')} />
            : <TextInput label='Customer' value={second} onChange={(e) => setSecond(e.currentTarget.value)} description='Optional: the customer id (an unknown one is registered too)' error={fieldError(create.error, 'customer_id')} />}
          {kind === 'user' && <Text size='xs' c='dimmed'>Evaluations for this user without a customer_id then use this customer.</Text>}
          <ErrorNotice error={create.error} title={`The ${kind} was not created`} />
          <Group justify='flex-end'>
            <Button variant='default' onClick={onClose}>Cancel</Button>
            <Button type='submit' loading={create.isPending}>Create</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
