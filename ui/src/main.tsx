import '@mantine/core/styles.css'
import { createTheme, Loader, MantineProvider, Modal, NavLink, type CSSVariablesResolver } from '@mantine/core'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.js'
import { ApiError } from './api/client.js'
import { restoreSession } from './api/session.js'
import { StartupError } from './components/StartupError.js'

// Contrast (WCAG AA, checked by axe-core in test/ui): the darkest shades for coloured text and filled
// controls, text on them picked for contrast, secondary ("dimmed") and error text darker than Mantine's.
const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: { light: 9, dark: 7 },
  autoContrast: true,
  defaultRadius: 'sm',
  // Every dialog's close button has a name for screen readers; a spinner is announced as a status
  // (an aria-label on an element without a role is not allowed).
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    Loader: Loader.extend({ defaultProps: { role: 'status', 'aria-label': 'Loading' } }),
    // The current page's link filled: the light variant under the pointer is 4.1:1 (indigo 9 on indigo 2).
    NavLink: NavLink.extend({ defaultProps: { variant: 'filled' } })
  }
})
const contrast: CSSVariablesResolver = () => ({ variables: {}, light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-color-error': 'var(--mantine-color-red-9)' }, dark: {} })
const queries = new QueryClient({
  defaultOptions: {
    // A refusal is an answer, not a blip: retry only what the network or an outage (503) lost.
    queries: { retry: (count, err) => count < 2 && (!(err instanceof ApiError) || err.status === 0 || err.status === 503), staleTime: 5_000 },
    mutations: { retry: false }
  }
})

// A page that fails is shown in words by components/PageError.tsx; the console gets a warning, not
// React's default error report for an error a boundary has already handled.
const root = createRoot(document.getElementById('root') as HTMLElement, { onCaughtError: (error) => console.warn('A page failed and says so:', error) })
const render = (body: React.ReactNode): void => {
  root.render(
    <StrictMode>
      <MantineProvider theme={theme} cssVariablesResolver={contrast}>
        <QueryClientProvider client={queries}>{body}</QueryClientProvider>
      </MantineProvider>
    </StrictMode>
  )
}

restoreSession().then((initial) => render(<App initial={initial} />), (err: unknown) => render(<StartupError error={err} />))
