import { ConfigError } from '../config.js'

interface FieldProblem { field: string, message: string }

// The services name fields as the HTTP API sees them (`body.default_value`); a CLI user wrote options.
const OPTION_OF: Record<string, string> = {
  default_value: '--default-value',
  description: '--description',
  variant: '--variant',
  customer_id: '--customer-id',
  name: 'NAME',
  id: 'ID'
}
const asOption = (field: string): string => {
  const bare = field.replace(/^(body|params|query)\./, '')
  return OPTION_OF[bare] ?? bare
}

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
