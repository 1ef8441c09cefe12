import type { ReactNode } from 'react'
import { Redirect, Route, Router, Switch } from 'wouter'
import type { FlagpostClient } from '../../src/client/index.js'
import type { CurrentKey } from './api/client.js'
import { SessionProvider, useSessionState } from './api/session.js'
import { Shell } from './components/Shell.js'
import { NotFoundPage } from './pages/NotFoundPage.js'
import { pages } from './pages/index.js'
import { SignInPage } from './pages/SignInPage.js'

function Routes (): ReactNode {
  const { session } = useSessionState()
  if (session === null) return <SignInPage />
  return (
    <Shell>
      <Switch>
        <Route path='/'><Redirect to='/flags' replace /></Route>
        {pages.map((page) => <Route key={page.path} path={page.path} component={page.component} />)}
        <Route component={NotFoundPage} />
      </Switch>
    </Shell>
  )
}

/** The admin UI (SPEC §13): sign-in, then the pages, at /ui. */
export function App ({ initial }: { initial: { client: FlagpostClient, key: CurrentKey } | null }): ReactNode {
  return (
    <SessionProvider initial={initial}>
      <Router base='/ui'>
        <Routes />
      </Router>
    </SessionProvider>
  )
}
