import { Alert, Button, Center, Stack } from '@mantine/core'
import type { ReactNode } from 'react'

/** What the page shows when it cannot start (the server unreachable): words and a way to retry, never a blank page. */
export function StartupError ({ error }: { error: unknown }): ReactNode {
  return (
    <Center mih='100vh' p='md'>
      <Stack maw={480}>
        <Alert color='red' title='Flagpost could not start' role='alert'>{(error as Error)?.message ?? String(error)}</Alert>
        <Button onClick={() => window.location.reload()}>Try again</Button>
      </Stack>
    </Center>
  )
}
