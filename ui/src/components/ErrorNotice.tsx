import { Alert, List } from '@mantine/core'
import type { ReactNode } from 'react'
import { ApiError } from '../api/client.js'

/** A failure in words, with the fields the server named; nothing when there is none. */
export function ErrorNotice ({ error, title = 'That did not work' }: { error: unknown, title?: string }): ReactNode {
  if (error === null || error === undefined) return null
  const message = error instanceof Error ? error.message : String(error)
  const fields = error instanceof ApiError ? error.fields : []
  return (
    <Alert color='red' title={title} role='alert' data-testid='error'>
      {message}
      {fields.length > 1 && (
        <List size='sm' mt='xs'>{fields.map((f) => <List.Item key={f.field}>{f.field.replace(/^body\./, '')}: {f.message}</List.Item>)}</List>
      )}
    </Alert>
  )
}
