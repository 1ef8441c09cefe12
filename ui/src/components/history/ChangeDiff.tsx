import { Code, Group, Stack, Text, VisuallyHidden } from '@mantine/core'
import type { ReactNode } from 'react'
import type { Change } from '../../api/client.js'
import { fieldLabel, isObject, snapshotFields, valueAt } from './describe.js'

/** Values longer than this (as JSON on one line) are folded behind a summary. */
const INLINE_CHARS = 60
/** A creation or deletion listing more fields than this is folded as a whole. */
const INLINE_FIELDS = 6

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** A value as recorded: strings quoted (so "1" and 1 differ), JSON compact when short, else folded and pretty-printed. */
export function Value ({ value, name }: { value: unknown, name?: string }): ReactNode {
  if (value === undefined) return <Text span size='sm' fs='italic'>none</Text>
  const line = JSON.stringify(value)
  if (line.length <= INLINE_CHARS) return <Code>{line}</Code>
  const pretty = typeof value === 'string' ? value : JSON.stringify(value, null, 2)
  // An object with an id (a rule) is named by it, so a list of them can be told apart folded.
  const size = Array.isArray(value) ? `${value.length} items` : isObject(value) ? `${typeof value.id === 'string' ? `“${value.id}”, ` : ''}${Object.keys(value).length} fields` : `${pretty.length} characters`
  return (
    <details>
      <summary><Text span size='sm'>{name === undefined ? '' : `${name}: `}{size} (show)</Text></summary>
      <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{pretty}</Code>
    </details>
  )
}

/** Lists compared item by item: what was added and what was removed (a reorder says so). */
function ListChange ({ before, after }: { before: unknown[], after: unknown[] }): ReactNode {
  const added = after.filter((a) => !before.some((b) => same(a, b)))
  const removed = before.filter((b) => !after.some((a) => same(a, b)))
  if (added.length === 0 && removed.length === 0) return <Text span size='sm'>reordered</Text>
  const items = (list: unknown[]): ReactNode => list.map((item, i) => <Value key={i} value={item} />)
  return (
    <Stack gap={2}>
      {added.length > 0 && <Group gap={4} wrap='wrap' data-testid='added'><Text span size='sm' fw={500}>added</Text>{items(added)}</Group>}
      {removed.length > 0 && <Group gap={4} wrap='wrap' data-testid='removed'><Text span size='sm' fw={500}>removed</Text>{items(removed)}</Group>}
    </Stack>
  )
}

/** One changed field: before → after (the arrow read out as "to"). */
function FieldChange ({ before, after }: { before: unknown, after: unknown }): ReactNode {
  if (Array.isArray(before) && Array.isArray(after)) return <ListChange before={before} after={after} />
  return (
    <Group gap={6} wrap='wrap' align='flex-start'>
      <Value value={before} name='before' />
      <Text span aria-hidden>→</Text>
      <VisuallyHidden>to</VisuallyHidden>
      <Value value={after} name='after' />
    </Group>
  )
}

/** Field → value rows: a description list (its rows wrap on phones: the value under its name). */
function Fields ({ rows, testId }: { rows: Array<{ path: string, value: ReactNode }>, testId: string }): ReactNode {
  return (
    <dl style={{ margin: 0 }} data-testid={testId}>
      {rows.map(({ path, value }) => (
        <div key={path} data-field={path} style={{ display: 'flex', flexWrap: 'wrap', columnGap: '0.75rem', rowGap: 2, padding: '2px 0' }}>
          <dt style={{ minWidth: '8rem' }}><Text span size='sm' fw={500}>{fieldLabel(path)}</Text></dt>
          <dd style={{ margin: 0, minWidth: 0, flex: '1 1 10rem' }}>{value}</dd>
        </div>
      ))}
    </dl>
  )
}

/** A creation's or deletion's fields with their values (no arrows: there is only one side). */
function Snapshot ({ change, body }: { change: Change, body: unknown }): ReactNode {
  const fields = snapshotFields(change)
  if (fields.length === 0) return null
  const rows = <Fields testId='snapshot' rows={fields.map((path) => ({ path, value: <Value value={valueAt(body, path)} name={fieldLabel(path)} /> }))} />
  if (fields.length <= INLINE_FIELDS) return rows
  return (
    <details>
      <summary><Text span size='sm'>{change.after === null ? 'What was deleted' : 'What was created'} ({fields.length} fields)</Text></summary>
      {rows}
    </details>
  )
}

/**
 * A change made readable: each field it changed (one level deep, as the server lists them), before →
 * after, lists as what was added and removed, long values folded. A creation or deletion shows the one
 * side there is.
 */
export function ChangeDiff ({ change }: { change: Change }): ReactNode {
  if (change.changed.length === 0) return null
  if (change.before === null || change.after === null) return <Snapshot change={change} body={change.after ?? change.before} />
  return <Fields testId='diff' rows={change.changed.map((path) => ({ path, value: <FieldChange before={valueAt(change.before, path)} after={valueAt(change.after, path)} /> }))} />
}
