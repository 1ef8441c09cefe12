import { Button, Group, Modal, Stack } from '@mantine/core'
import { useMutation } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { ErrorNotice } from '../ErrorNotice.js'

/**
 * A destructive action, confirmed: what goes with it in `children`, the action's own label on the
 * button, and a refusal shown in words inside the dialog (it stays open so the person can read it).
 */
export function ConfirmModal ({ title, children, confirmLabel, onConfirm, onClose, onDone }: {
  title: string
  children: ReactNode
  confirmLabel: string
  onConfirm: () => Promise<unknown>
  onClose: () => void
  /** After the action succeeded (the dialog then closes). */
  onDone?: () => void
}): ReactNode {
  const action = useMutation({
    mutationFn: onConfirm,
    onSuccess: () => { onDone?.(); onClose() }
  })
  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack>
        {children}
        <ErrorNotice error={action.error} title={`${confirmLabel} did not work`} />
        <Group justify='flex-end'>
          <Button variant='default' onClick={onClose} data-autofocus>Cancel</Button>
          <Button color='red.9' onClick={() => action.mutate()} loading={action.isPending}>{confirmLabel}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
