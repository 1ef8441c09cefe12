import { AppShell, Burger, Button, Group, Loader, NavLink, Text, Title } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { Suspense, type ReactNode } from 'react'
import { Link, useLocation } from 'wouter'
import { useLiveChanges, type LiveState } from '../api/live.js'
import { useSession } from '../api/session.js'
import { navigation } from '../pages/index.js'
import { PageError } from './PageError.js'
import { StateBadge } from './StateBadge.js'

const LIVE_LABEL: Record<LiveState, { text: string, tone: 'good' | 'neutral' | 'warning' }> = {
  connecting: { text: 'Connecting…', tone: 'neutral' },
  live: { text: 'Live', tone: 'good' },
  reconnecting: { text: 'Reconnecting…', tone: 'warning' }
}

/** Header (who is signed in, live status), navigation (a drawer on phones), the page. */
export function Shell ({ children }: { children: ReactNode }): ReactNode {
  const session = useSession()
  const [opened, { toggle, close }] = useDisclosure()
  const [location] = useLocation()
  const live = LIVE_LABEL[useLiveChanges()]
  const links = navigation.filter((page) => page.adminOnly !== true || session.isAdmin)

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding='md'>
      <AppShell.Header>
        <Group h='100%' px='md' justify='space-between' wrap='nowrap'>
          <Group gap='sm' wrap='nowrap'>
            <Burger opened={opened} onClick={toggle} hiddenFrom='sm' size='sm' aria-label='Navigation' />
            <Title order={1} size='h4'>Flagpost</Title>
            <StateBadge tone={live.tone} testId='live'>{live.text}</StateBadge>
          </Group>
          <Group gap='sm' wrap='nowrap'>
            <Text size='sm' visibleFrom='sm' data-testid='signed-in-as'>{session.key.name} · {session.key.role}</Text>
            <Button variant='default' size='xs' onClick={() => session.signOut()}>Sign out</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p='xs' component='nav' aria-label='Pages'>
        {links.map((page) => (
          <NavLink
            key={page.path} component={Link} href={page.href} label={page.label} onClick={close}
            active={location === page.href || location.startsWith(`${page.href}/`)}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <PageError at={location}><Suspense fallback={<Loader aria-label='Loading the page' />}>{children}</Suspense></PageError>
      </AppShell.Main>
    </AppShell>
  )
}
