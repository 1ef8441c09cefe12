import { Alert, Badge, Button, Group, List, Paper, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import { ApiError } from '../../../api/client.js'
import { ErrorNotice } from '../../ErrorNotice.js'
import type { TargetingForm } from './useTargetingForm.js'
import { fieldLabel } from './validate.js'

/** The flag changed on the server while this form holds unsaved changes: say so, offer the new version. */
export function ConflictNotice ({ form }: { form: TargetingForm }): ReactNode {
  if (form.conflict === null) return null
  const who = form.conflict.actor === undefined ? 'changed on the server' : `changed by ${form.conflict.actor} meanwhile`
  return (
    <Alert color='indigo.9' variant='outline' role='alert' title={`This flag was ${who}`} data-testid='conflict'>
      <Text size='sm' c='dark'>
        Version {form.conflict.version} is on the server; your unsaved changes are based on version {form.base.version}.
        Saving them now would be refused rather than overwrite the other change.
      </Text>
      <Button mt='xs' variant='filled' color='dark' onClick={() => { void form.reload() }}>Load the new version (discards your changes)</Button>
    </Alert>
  )
}

/** Why the last save did not happen: someone saved meanwhile (412), the server's refusal, or the page's own checks. */
export function SaveError ({ form }: { form: TargetingForm }): ReactNode {
  const { error } = form
  if (error instanceof ApiError && error.status === 412) {
    return (
      <Alert color='red.9' variant='outline' role='alert' title='Not saved: someone else changed this flag meanwhile' data-testid='stale'>
        <Text size='sm' c='dark'>
          Your changes were based on version {form.base.version}, and the server has a newer one. They were not saved, so
          as not to overwrite the other change. Load the new version, then make your changes again.
        </Text>
        <Button mt='xs' variant='filled' color='dark' onClick={() => { void form.reload() }}>Load the new version (discards your changes)</Button>
      </Alert>
    )
  }
  if (error instanceof ApiError && form.problems.length > 0) {
    // The server's (or the page's) problems, each also shown on its field: here in words, all together.
    return (
      <Alert color='red.9' variant='outline' role='alert' title='Not saved' data-testid='save-error'>
        <Text size='sm' c='dark'>{error.code === 'LOCAL' ? error.message : 'The server refused the change (marked on the field).'}</Text>
        <List size='sm' mt='xs' c='dark'>
          {form.problems.map((p) => <List.Item key={`${p.field} ${p.message}`}>{fieldLabel(p.field)}: {p.message}</List.Item>)}
        </List>
      </Alert>
    )
  }
  return <ErrorNotice error={error} title='Not saved' />
}

/** Save and Discard, with whether there is anything to save; kept in view at the bottom of the screen. */
export function SaveBar ({ form, disabled }: { form: TargetingForm, disabled: boolean }): ReactNode {
  return (
    <Paper
      withBorder p='sm' shadow='sm'
      style={{ position: 'sticky', bottom: 0, zIndex: 2 }}
    >
      <Group justify='space-between' wrap='wrap' gap='xs'>
        <Group gap='xs'>
          {form.dirty
            ? <Badge color='indigo.9' variant='filled' data-testid='dirty'>Unsaved changes</Badge>
            : <Text size='sm' data-testid='clean'>Saved</Text>}
          <Text size='sm' data-testid='base-version'>{form.dirty ? 'to' : 'as'} version {form.base.version}</Text>
        </Group>
        <Group gap='xs'>
          <Button variant='default' disabled={disabled || !form.dirty || form.saving} onClick={() => form.discard()}>Discard</Button>
          <Button type='submit' disabled={disabled || !form.dirty} loading={form.saving}>Save</Button>
        </Group>
      </Group>
    </Paper>
  )
}
