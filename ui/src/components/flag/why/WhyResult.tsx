import { Alert, Badge, Code, Group, List, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Flag } from '../../../api/client.js'
import { StateBadge } from '../../StateBadge.js'
import { explain, type Step } from './explain.js'
import type { WhyAnswer } from './useWhy.js'
import { REASONS } from './words.js'

/** The served value as its type reads: a boolean badge, a quoted string, a number, a JSON document. */
function Value ({ type, value }: { type: Flag['type'], value: unknown }): ReactNode {
  if (type === 'boolean') return <StateBadge tone={value === true ? 'good' : 'neutral'} testId='why-value'>{String(value)}</StateBadge>
  if (type === 'json') return <Code block data-testid='why-value'>{JSON.stringify(value, null, 2)}</Code>
  return <Code data-testid='why-value' style={{ wordBreak: 'break-all' }}>{type === 'string' ? `“${String(value)}”` : String(value)}</Code>
}

const STATUS: Record<Step['status'], ReactNode> = {
  decided: <StateBadge tone='info'>decided here</StateBadge>,
  passed: <Badge variant='outline' color='dark'>did not apply</Badge>,
  unreached: <Badge variant='outline' color='dark'>not reached</Badge>
}

function Field ({ label, children }: { label: string, children: ReactNode }): ReactNode {
  return <Stack gap={4}><Text size='sm' fw={600}>{label}</Text><div>{children}</div></Stack>
}

/** One evaluation and why: the value, variant, reason and deciding step, then every step in order with its evidence. */
export function WhyResult ({ flag, answer }: { flag: Flag, answer: WhyAnswer }): ReactNode {
  if (answer.error !== undefined) {
    const hint = answer.error.error_code === 'FLAG_NOT_FOUND'
      ? 'It may have been deleted or renamed since this page loaded.'
      : 'The flag is stored in a form that cannot be served: saving its targeting again repairs it.'
    return <Alert color='red' role='alert' title={`${flag.name} could not be evaluated`} data-testid='why-error'>{answer.error.error_message}. {hint}</Alert>
  }
  const { result, evidence } = answer
  const steps = explain(flag, result, evidence)
  const decided = steps.find((s) => s.status === 'decided')
  return (
    <Stack>
      <Paper withBorder p='md'>
        <Stack gap='sm'>
          <Title order={3} size='h4'>Result</Title>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
            <Field label='Value'><Value type={result.type} value={result.value} /></Field>
            <Field label='Variant'><Code data-testid='why-variant'>{result.variant}</Code></Field>
            <Field label='Reason'>
              <StateBadge tone='info' testId='why-reason'>{result.reason}</StateBadge>
              <Text size='sm' mt={4}>{REASONS[result.reason]}</Text>
            </Field>
            <Field label='Decided by'><Code data-testid='why-step'>{result.rule}</Code></Field>
          </SimpleGrid>
          {decided?.detail !== undefined && <Text fw={500} data-testid='why-sentence'>{decided.detail}</Text>}
          {(decided === undefined || result.version !== flag.version) && (
            <Alert color='yellow' role='status'>The flag changed while this was evaluated (version {result.version}, the page shows {flag.version}): it is being evaluated again.</Alert>
          )}
          <Text size='sm'>Evaluated in {evidence.environment} for <Code style={{ wordBreak: 'break-all' }}>{JSON.stringify(evidence.context)}</Code>
            {evidence.inferredCustomer !== null && <> (customer_id {evidence.inferredCustomer} inferred from the user)</>}
          </Text>
        </Stack>
      </Paper>
      <Title order={3} size='h4'>How it was decided</Title>
      <List type='ordered' spacing='sm' data-testid='why-steps'>
        {steps.map((s) => (
          <List.Item key={s.id} data-step={s.id} data-status={s.status}>
            <Group gap='xs' wrap='wrap'><Text fw={s.status === 'decided' ? 700 : 500}>{s.title}</Text>{STATUS[s.status]}</Group>
            {s.detail !== undefined && s.detail !== '' && <Text size='sm'>{s.detail}</Text>}
            {s.clauses !== undefined && s.clauses.length > 0 && (
              <List size='sm' withPadding>
                {s.clauses.map((c, i) => <List.Item key={i}><Code>{c.text}</Code> — {c.context}</List.Item>)}
              </List>
            )}
          </List.Item>
        ))}
      </List>
    </Stack>
  )
}
