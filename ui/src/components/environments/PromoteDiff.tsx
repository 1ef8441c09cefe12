import { Anchor, Card, Stack, Table, Text } from '@mantine/core'
import type { ReactNode } from 'react'
import { Link } from 'wouter'
import { diffRows, overridesLine, type PromotedFlag } from './diff.js'

/**
 * What a promotion changes (or changed) in the target, flag by flag: each setting's value now and after.
 * The tables wrap on a phone rather than scroll: a scrolled region without controls is not keyboard-reachable.
 */
export function PromoteDiff ({ flags, target }: { flags: PromotedFlag[], target: string }): ReactNode {
  return (
    <Stack gap='sm' data-testid='promote-diff'>
      {flags.map((flag) => {
        const rows = diffRows(flag.changes)
        return (
          <Card key={flag.flag} withBorder padding='sm' data-flag={flag.flag}>
            <Anchor component={Link} href={`/flags/${encodeURIComponent(flag.flag)}?env=${encodeURIComponent(target)}`} fw={600} style={{ wordBreak: 'break-all' }}>
              {flag.flag}
            </Anchor>
            {rows.length > 0 && (
              <Table style={{ overflowWrap: 'anywhere' }} aria-label={`Changes to ${flag.flag} in ${target}`}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Setting</Table.Th>
                    <Table.Th>Now in {target}</Table.Th>
                    <Table.Th>After promotion</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((row) => (
                    <Table.Tr key={row.setting} data-setting={row.setting}>
                      <Table.Td>{row.setting}</Table.Td>
                      <Table.Td data-side='from'>{row.from.map((line, i) => <Text key={i} size='sm'>{line}</Text>)}</Table.Td>
                      <Table.Td data-side='to'>{row.to.map((line, i) => <Text key={i} size='sm' fw={500}>{line}</Text>)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {rows.length === 0 && <Text size='sm'>Configuration: already the same</Text>}
            {flag.overrides !== undefined && <Text size='sm' data-testid='overrides'>{overridesLine(flag.overrides)}</Text>}
          </Card>
        )
      })}
    </Stack>
  )
}
