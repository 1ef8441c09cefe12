import { Button, Group, Loader, Stack, Text } from '@mantine/core'
import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError } from '../../api/client.js'
import { ErrorNotice } from '../ErrorNotice.js'
import type { FlagPanelProps } from './panel.js'
import { ContextEditor, type EditorMode } from './why/ContextEditor.js'
import { contextOf, draftOf, EMPTY_DRAFT, type AttributeRow, type AttributeType, type ContextDraft, type ContextObject } from './why/context.js'
import { useWhy } from './why/useWhy.js'
import { WhyResult } from './why/WhyResult.js'

/** A JSON context, or why it is not one. */
function parseContext (json: string): ContextObject | Error {
  let value: unknown
  try { value = JSON.parse(json) } catch (err) { return new Error(`The JSON is not valid: ${(err as Error).message}`) }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as ContextObject : new Error('The context must be a JSON object: {"user_id": "alice", …}')
}

const NUMERIC = new Set(['lt', 'lte', 'gt', 'gte'])
/** The type each attribute is compared as by the flag's rules: numbers for `gt`… or numeric values, booleans for boolean values. */
function attributeTypes (flag: FlagPanelProps['flag']): Map<string, AttributeType> {
  const types = new Map<string, AttributeType>()
  for (const clause of flag.targeting_rules.rules.flatMap((r) => r.clauses)) {
    const first = clause.values?.[0]
    if (NUMERIC.has(clause.operator) || typeof first === 'number') types.set(clause.attribute, 'number')
    else if (typeof first === 'boolean') types.set(clause.attribute, 'boolean')
  }
  return types
}

/**
 * The flag's Why? tab: evaluate it for a context typed here (the same call an application makes) and
 * show the value, variant, reason and the step that decided, in words, with the flag's evidence for
 * every step. Any key that may read the flag may use it.
 */
export function WhyPanel ({ flag, environment }: FlagPanelProps): ReactNode {
  const [mode, setMode] = useState<EditorMode>('form')
  const [draft, setDraft] = useState<ContextDraft>(EMPTY_DRAFT)
  const [json, setJson] = useState('{\n  "user_id": ""\n}')
  const [problems, setProblems] = useState<Map<number, string>>(new Map())
  const [pageError, setPageError] = useState<string | null>(null)
  const [submitted, setSubmitted] = useState<ContextObject | null>(null)
  const why = useWhy(flag, environment, submitted)

  const tr = flag.targeting_rules
  const suggestions = [...new Set([...tr.rules.flatMap((r) => r.clauses.map((c) => c.attribute)), tr.bucket_by])]
    .filter((a) => !['now', 'user_id', 'customer_id', 'targetingKey'].includes(a)).sort()
  const types = attributeTypes(flag)
  const server = why.error instanceof ApiError ? why.error : null
  const fieldError = (name: string): string | undefined => {
    if (server === null) return undefined
    if (name !== 'context') return server.fieldMessage(`context.${name}`)
    const f = server.fields.find((x) => x.field.startsWith('body.context'))
    return f === undefined ? undefined : `${f.field.replace(/^body\.context\.?/, '') || 'context'}: ${f.message}`
  }
  const rowError = (row: AttributeRow): string | undefined => problems.get(row.key) ?? (row.name.trim() === '' ? undefined : fieldError(row.name.trim()))

  function switchMode (next: EditorMode): void {
    setPageError(null)
    if (next === mode) return
    if (next === 'json') {
      const read = contextOf(draft)
      if (read.problems !== undefined) { setProblems(read.problems); setPageError('Fix the attributes marked below first.'); return }
      setJson(JSON.stringify(read.context, null, 2))
    } else {
      const parsed = parseContext(json)
      const next = parsed instanceof Error ? parsed : draftOf(parsed)
      if (next instanceof Error) { setPageError(next.message); return }
      setDraft(next)
    }
    setMode(next)
  }

  function submit (event: FormEvent): void {
    event.preventDefault()
    setPageError(null)
    let context: ContextObject
    if (mode === 'form') {
      const read = contextOf(draft)
      setProblems(read.problems ?? new Map())
      if (read.problems !== undefined) return
      context = read.context
    } else {
      const parsed = parseContext(json)
      if (parsed instanceof Error) { setPageError(parsed.message); return }
      context = parsed
    }
    // The same context again: ask again (the flag may have changed in a way the page has not heard yet).
    if (JSON.stringify(context) === JSON.stringify(submitted)) void why.refetch()
    else setSubmitted(context)
  }

  return (
    <Stack>
      <Text size='sm'>
        Type a context as an application would send it and see what {flag.name} serves it in {environment}, and why: every
        step of the evaluation in order, with the flag's evidence.
      </Text>
      <form onSubmit={submit} aria-label='Context to evaluate'>
        <Stack gap='sm'>
          <ContextEditor
            mode={mode} onMode={switchMode} draft={draft} onDraft={setDraft} json={json} onJson={setJson}
            suggestions={suggestions} typeOf={(name) => types.get(name)} fieldError={fieldError} rowError={rowError} modeError={pageError}
          />
          <Group><Button type='submit' loading={why.isFetching}>Evaluate</Button></Group>
        </Stack>
      </form>
      <ErrorNotice error={why.error} title='Could not evaluate' />
      {why.isPending && submitted !== null && <Loader aria-label='Evaluating' />}
      {why.data !== undefined && <WhyResult flag={flag} answer={why.data} />}
    </Stack>
  )
}
