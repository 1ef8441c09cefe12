import { ConfigError } from '../config.js'

import type { FieldProblem } from '../errors.js'
import { separatedField } from '../services/field-names.js'

// The services name domain fields (`defaultValue`); a CLI user wrote arguments and options.
const ARGUMENTS: Record<string, string> = { name: 'NAME', newName: 'NEW', id: 'ID', revision: 'REVISION', environments: '--environment', flags: '--flag' }
const asOption = (field: string): string => ARGUMENTS[field] ?? `--${separatedField(field, '-')}`

/**
 * What a failed command prints after `flagpost: `, and its exit code: 2 for a bad configuration,
 * 1 for anything else. Domain errors carry a message meant for people (the API's `detail`); no stack.
 */
export function failure (err: unknown): { message: string, code: number } {
  if (err instanceof ConfigError) return { message: err.message, code: 2 }
  const problems = (err as { problems?: FieldProblem[] } | null)?.problems
  if (Array.isArray(problems) && problems.length > 0) {
    return { message: problems.map((p) => `${asOption(p.field)}: ${p.message}`).join('; '), code: 1 }
  }
  const message = err instanceof Error && err.message !== '' ? err.message : String(err)
  return { message, code: 1 }
}
