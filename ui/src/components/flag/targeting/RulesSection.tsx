import { Button, Group, Paper, Stack, Text, Title } from '@mantine/core'
import type { ReactNode } from 'react'
import { useEditor, useFieldError } from './context.js'
import { emptyClause, newKey, type Draft, type DraftRule } from './draft.js'
import { RuleCard } from './RuleCard.js'

/** A fresh rule: an id no other rule has, one empty condition, serving the default variant. */
function newRule (draft: Draft): DraftRule {
  const ids = new Set(draft.rules.map((r) => r.id))
  let n = draft.rules.length + 1
  while (ids.has(`rule-${n}`)) n++
  return { key: newKey(), id: `rule-${n}`, description: '', clauses: [emptyClause()], serve: { kind: 'variant', variant: draft.defaultVariant, weights: {} } }
}

/** The rules, tried in order after the individual targets: the first whose conditions all hold serves. */
export function RulesSection ({ draft, onChange }: { draft: Draft, onChange: (next: Draft) => void }): ReactNode {
  const { disabled } = useEditor()
  const error = useFieldError('targeting_rules.rules')
  const setRules = (rules: DraftRule[]): void => onChange({ ...draft, rules })
  const move = (from: number, by: -1 | 1): void => {
    const rules = [...draft.rules]
    const [rule] = rules.splice(from, 1)
    rules.splice(from + by, 0, rule)
    setRules(rules)
  }
  return (
    <Paper withBorder p='md' component='section' aria-labelledby='rules-title'>
      <Stack>
        <div>
          <Title order={3} size='h4' id='rules-title'>Rules</Title>
          <Text size='sm'>Tried in order after the individual targets; the first rule whose conditions all hold serves. A condition on an attribute the context lacks does not hold (unless negated).</Text>
        </div>
        {error !== undefined && <Text size='sm' c='red.9' role='alert'>{error}</Text>}
        {draft.rules.length === 0 && <Text size='sm' data-testid='no-rules'>No rules.</Text>}
        {draft.rules.map((rule, i) => (
          <RuleCard
            key={rule.key} rule={rule} index={i} count={draft.rules.length}
            onChange={(next) => setRules(draft.rules.map((r, j) => (j === i ? next : r)))}
            onMove={(by) => move(i, by)}
            onRemove={() => setRules(draft.rules.filter((_, j) => j !== i))}
          />
        ))}
        <Group>
          <Button variant='default' disabled={disabled} onClick={() => setRules([...draft.rules, newRule(draft)])}>Add rule</Button>
        </Group>
      </Stack>
    </Paper>
  )
}
