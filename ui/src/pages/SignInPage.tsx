import { Button, Card, Center, PasswordInput, Stack, Text, Title } from '@mantine/core'
import { useState, type FormEvent, type ReactNode } from 'react'
import { useSessionState } from '../api/session.js'
import { ErrorNotice } from '../components/ErrorNotice.js'

/** Paste an API key: checked with the server, then kept in this tab's session storage only. */
export function SignInPage (): ReactNode {
  const { signIn } = useSessionState()
  const [key, setKey] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  async function submit (event: FormEvent): Promise<void> {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await signIn(key)
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  return (
    <Center mih='100vh' p='md' component='main'>
      <Card withBorder shadow='sm' padding='lg' w='100%' maw={440}>
        <form onSubmit={(e) => { void submit(e) }}>
          <Stack>
            <Title order={1} size='h2'>Flagpost</Title>
            <Text size='sm' c='dimmed'>
              Sign in with an API key (admin, editor or viewer). It is kept in this tab only, until you sign out or close it.
            </Text>
            <PasswordInput label='API key' required autoFocus autoComplete='off' value={key} onChange={(e) => setKey(e.currentTarget.value)} />
            <ErrorNotice error={error} title='Could not sign in' />
            <Button type='submit' loading={busy} disabled={key.trim() === ''}>Sign in</Button>
          </Stack>
        </form>
      </Card>
    </Center>
  )
}
