import { Alert, Button, Group, Stack } from '@mantine/core'
import { Component, type ReactNode } from 'react'

/** Why a page could not be shown, in words: a page's code that did not arrive, or a fault of the page itself. */
function describe (error: Error): { title: string, detail: string } {
  // A lazily loaded page whose chunk could not be fetched (offline, or the server was updated meanwhile).
  if (/dynamically imported module|Importing a module script failed|error loading dynamically imported module/i.test(error.message)) {
    return { title: 'This page could not be loaded', detail: 'Its code did not arrive: the server may be unreachable, or it was updated since this page was opened. Reloading fetches it again.' }
  }
  return { title: 'This page failed', detail: `It stopped with: ${error.message}. The rest of Flagpost still works; reloading starts the page again.` }
}

interface Props { children: ReactNode, /** The address: a new one shows its page again after a failure. */ at: string }
interface State { error: Error | null, at: string }

/**
 * What the page area shows when a page throws while rendering or its code cannot be loaded: the failure
 * in words with a way to reload, never a blank screen (SPEC §13). The header and navigation stay, and
 * going to another page shows it.
 */
export class PageError extends Component<Props, State> {
  state: State = { error: null, at: this.props.at }

  static getDerivedStateFromError (error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) }
  }

  static getDerivedStateFromProps (props: Props, state: State): Partial<State> | null {
    return props.at === state.at ? null : { error: null, at: props.at }
  }

  render (): ReactNode {
    if (this.state.error === null) return this.props.children
    const { title, detail } = describe(this.state.error)
    return (
      <Stack maw={640}>
        <Alert color='red' title={title} role='alert' data-testid='page-error'>{detail}</Alert>
        <Group><Button onClick={() => window.location.reload()}>Reload</Button></Group>
      </Stack>
    )
  }
}
