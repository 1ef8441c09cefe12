import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useState } from 'react'
import { ApiError, unwrap, type Flag } from '../../../api/client.js'
import { keys } from '../../../api/queries.js'
import { useSession } from '../../../api/session.js'
import { apiForm, draftOf, isDirty, patchOf, sameConfiguration, type Draft } from './draft.js'
import { problemsOf, type FieldProblem } from './validate.js'

export interface TargetingForm {
  draft: Draft
  setDraft: (next: Draft) => void
  /** The version the form was loaded from (and its If-Match). */
  base: Flag
  dirty: boolean
  /** The server has a newer configuration while the form holds unsaved changes. */
  conflict: { version: number, actor: string | undefined } | null
  saving: boolean
  /** The last save's failure (the page's own checks, or the server's refusal), or null. */
  error: unknown
  /** Each problem on the field it names (without the `body.` of the server's paths). */
  problems: FieldProblem[]
  save: () => void
  discard: () => void
  /** Drop the unsaved changes and load what the server has now. */
  reload: () => Promise<void>
}

/** The server prefixes compile errors with the flag and the path ("flag f: targeting_rules.…: "): the field shows it already. */
const bare = (message: string): string => message.replace(/^flag \S+: [\w.-]+: /, '')

/**
 * The targeting form's state over the flag the page's query holds (which the change stream keeps
 * fresh). When a newer version arrives: adopted at once if it differs only in the kill switch (or in
 * bookkeeping, from another environment's change) or if the form is clean; otherwise the unsaved
 * changes stay and `conflict` says who changed it. Saving sends only what changed, with If-Match.
 */
export function useTargetingForm (flag: Flag, environment: string): TargetingForm {
  const { client } = useSession()
  const queries = useQueryClient()
  const [base, setBase] = useState(flag)
  const [draft, setDraft] = useState(() => draftOf(flag))
  const [reloadError, setReloadError] = useState<unknown>(null)
  const baseForm = useMemo(() => apiForm(draftOf(base)), [base])
  const dirty = useMemo(() => isDirty(baseForm, draft), [baseForm, draft])
  const queryKey = keys.flag(environment, flag.name)

  const adopt = (next: Flag): void => {
    setBase(next)
    setDraft(draftOf(next))
  }

  const mutation = useMutation({
    mutationFn: async (): Promise<Flag> => {
      const problems = problemsOf(draft)
      if (problems.length > 0) {
        const count = problems.length === 1 ? 'one field needs' : `${problems.length} fields need`
        throw new ApiError(`Nothing was sent: ${count} attention (marked on the field).`, 400, 'LOCAL', problems.map((p) => ({ field: `body.${p.field}`, message: p.message })))
      }
      return await unwrap(client.PUT('/environments/{environment}/flags/{name}', {
        params: { path: { environment, name: base.name }, header: { 'if-match': `"${base.version}"` } },
        body: patchOf(base, draft)
      }))
    },
    onSuccess: (saved) => {
      queries.setQueryData(queryKey, saved)
      adopt(saved)
    }
  })

  // A newer version from the stream (or from the kill switch): see the doc comment above.
  const newer = flag.version > base.version
  const sameServing = newer && sameConfiguration(flag, base)
  useEffect(() => {
    if (mutation.isPending || !newer) return
    if (sameServing) setBase(flag)
    else if (!dirty) adopt(flag)
  }, [flag, newer, sameServing, dirty, mutation.isPending])

  const conflicting = newer && !sameServing && dirty
  // Who made it: the flag's latest change, if it is the one that made this version.
  const latest = useQuery({
    queryKey: ['changes', 'latest', flag.name, flag.version],
    enabled: conflicting,
    queryFn: async () => (await unwrap(client.GET('/changes', { params: { query: { flag: flag.name, limit: 1 } } }))).changes[0]
  })
  const actor = (latest.data?.after as { version?: number } | null | undefined)?.version === flag.version ? latest.data?.actor : undefined

  const error = reloadError ?? mutation.error
  const problems = error instanceof ApiError
    ? error.fields.map((f) => ({ field: f.field.replace(/^body\./, ''), message: bare(f.message) }))
    : []

  return {
    draft,
    setDraft,
    base,
    dirty,
    conflict: conflicting ? { version: flag.version, actor } : null,
    saving: mutation.isPending,
    error,
    problems,
    save: () => mutation.mutate(),
    discard: () => {
      mutation.reset()
      setReloadError(null)
      setDraft(draftOf(base))
    },
    reload: async () => {
      mutation.reset()
      setReloadError(null)
      try {
        adopt(await queries.fetchQuery({
          queryKey,
          staleTime: 0,
          queryFn: async () => await unwrap(client.GET('/environments/{environment}/flags/{name}', { params: { path: { environment, name: flag.name } } }))
        }))
      } catch (err) {
        setReloadError(err)
      }
    }
  }
}
