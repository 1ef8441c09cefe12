import { createContext, useContext } from 'react'
import type { FlagType } from '../../ValueInput.js'
import type { FieldProblem } from './validate.js'

/** What every input of the targeting form needs besides its own value. */
export interface Editor {
  /** Read-only: a viewer, or a key not covering the environment. */
  disabled: boolean
  type: FlagType
  /** The draft's variant names, for the selects and weight tables. */
  variantNames: string[]
  /** The problems shown on fields: the page's own checks, else the server's refusal. */
  problems: FieldProblem[]
}

export const EditorContext = createContext<Editor>({ disabled: true, type: 'boolean', variantNames: [], problems: [] })

export const useEditor = (): Editor => useContext(EditorContext)

/**
 * The message for one field (`targeting_rules.percentage`); with `deep`, also those of the fields
 * under it (a clause's `values` input shows `values.2`'s problem).
 */
export function useFieldError (field: string, deep = false): string | undefined {
  const { problems } = useEditor()
  const found = problems.filter((p) => p.field === field || (deep && p.field.startsWith(`${field}.`)))
  return found.length === 0 ? undefined : [...new Set(found.map((p) => p.message))].join('; ')
}
