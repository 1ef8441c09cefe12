import { Alert, Anchor, Badge, Group, Loader, Select, Stack, Tabs, Text, Title } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { Link, useLocation, useParams, useSearch } from 'wouter'
import { unwrap } from '../api/client.js'
import { keys, useEnvironments } from '../api/queries.js'
import { useSession } from '../api/session.js'
import { ErrorNotice } from '../components/ErrorNotice.js'
import { FlagHistoryPanel } from '../components/flag/FlagHistoryPanel.js'
import { OverridesPanel } from '../components/flag/OverridesPanel.js'
import { TargetingPanel } from '../components/flag/TargetingPanel.js'
import { WhyPanel } from '../components/flag/WhyPanel.js'
import type { FlagPanelProps } from '../components/flag/panel.js'

const TABS = [
  { value: 'targeting', label: 'Targeting', Panel: TargetingPanel },
  { value: 'overrides', label: 'Overrides', Panel: OverridesPanel },
  { value: 'why', label: 'Why?', Panel: WhyPanel },
  { value: 'history', label: 'History', Panel: FlagHistoryPanel }
] satisfies Array<{ value: string, label: string, Panel: (props: FlagPanelProps) => ReactNode }>

/**
 * One flag in one environment: the environment and the tab are in the address (`?env=…&tab=…`), so a
 * link shows the same view. The flag is read from that environment's copy of the API.
 */
export function FlagPage (): ReactNode {
  const session = useSession()
  const { name } = useParams<{ name: string }>()
  const params = new URLSearchParams(useSearch())
  const [, navigate] = useLocation()
  const environments = useEnvironments()
  const environment = params.get('env') ?? environments.data?.preferred
  const tab = TABS.some((t) => t.value === params.get('tab')) ? params.get('tab') as string : 'targeting'
  const go = (next: { env?: string, tab?: string }): void => {
    const query = new URLSearchParams({ env: next.env ?? environment ?? '', tab: next.tab ?? tab })
    navigate(`/flags/${encodeURIComponent(name)}?${query.toString()}`, { replace: true })
  }

  const flag = useQuery({
    queryKey: keys.flag(environment ?? '', name),
    enabled: environment !== undefined,
    queryFn: async () => await unwrap(session.client.GET('/environments/{environment}/flags/{name}', { params: { path: { environment: environment as string, name } } }))
  })

  const known = environments.data?.list.some((e) => e.key === environment) ?? true
  return (
    <Stack>
      <Anchor component={Link} href='/flags' size='sm'>← Flags</Anchor>
      <Group justify='space-between' align='flex-end'>
        <Stack gap={4}>
          <Title order={2} style={{ wordBreak: 'break-all' }}>{name}</Title>
          {flag.data !== undefined && (
            <Group gap='xs'>
              <Badge variant='outline' color='dark'>{flag.data.type}</Badge>
              {flag.data.tags.map((t) => <Badge key={t} variant='outline' color='dark'>{t}</Badge>)}
              {flag.data.description !== '' && <Text size='sm'>{flag.data.description}</Text>}
            </Group>
          )}
        </Stack>
        <Select
          label='Environment' w={200} allowDeselect={false}
          data={environments.data?.list.map((e) => ({ value: e.key, label: e.name })) ?? []}
          value={environment ?? null} onChange={(v) => { if (v !== null) go({ env: v }) }}
        />
      </Group>
      <ErrorNotice error={environments.error ?? flag.error} title='Could not load the flag' />
      {!known && <Alert color='yellow' role='alert'>This key does not cover environment “{environment}”.</Alert>}
      {flag.isPending && environment !== undefined && <Loader aria-label='Loading' />}
      {flag.data !== undefined && environment !== undefined && (
        <Tabs value={tab} onChange={(v) => { if (v !== null) go({ tab: v }) }} keepMounted={false}>
          <Tabs.List>
            {TABS.map((t) => <Tabs.Tab key={t.value} value={t.value}>{t.label}</Tabs.Tab>)}
          </Tabs.List>
          {TABS.map(({ value, Panel }) => (
            <Tabs.Panel key={value} value={value} pt='md'>
              <Panel flag={flag.data} environment={environment} canWrite={session.canWrite(environment)} />
            </Tabs.Panel>
          ))}
        </Tabs>
      )}
    </Stack>
  )
}
