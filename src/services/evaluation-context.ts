import { readContext } from '../engine/context.js'
import type { EvaluationContext } from '../engine/types.js'
import { invalidField } from '../errors.js'

/**
 * A context as a client sent it (nested objects allowed) → the flat context the engine evaluates;
 * a broken limit is a validation error naming the field. Every edge reads contexts through this.
 */
export function evaluationContext (input: Record<string, unknown>, field = 'context'): EvaluationContext {
  const reading = readContext(input, field)
  if (reading.problem !== undefined) throw invalidField(reading.problem.field, reading.problem.message)
  return reading.context
}
