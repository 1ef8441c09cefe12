import { useQuery, type UseQueryResult } from '@tanstack/react-query'
import { unwrap, type Flag, type Schemas } from '../../../api/client.js'
import { useSession } from '../../../api/session.js'
import { flatten, type ContextObject } from './context.js'
import type { Evidence } from './explain.js'

export type WhyAnswer =
  | { result: Schemas['EvaluationResult'], evidence: Evidence, error?: undefined }
  | { error: Schemas['EvaluationError'], result?: undefined }

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? (value === '' ? undefined : value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined

/**
 * Evaluates the flag for the submitted context (POST …/evaluate: values keep their types), then reads
 * what the explanation cites: the user's customer when evaluation inferred it, and the override that
 * decided. A query, so a change to the flag (the shell refreshes every query) evaluates again.
 */
export function useWhy (flag: Flag, environment: string, context: ContextObject | null): UseQueryResult<WhyAnswer> {
  const { client } = useSession()
  return useQuery({
    queryKey: ['why', environment, flag.name, JSON.stringify(context)],
    enabled: context !== null,
    retry: false,
    queryFn: async (): Promise<WhyAnswer> => {
      const sent = context ?? {}
      const body = await unwrap(client.POST('/environments/{environment}/evaluate', { params: { path: { environment } }, body: { context: sent as Schemas['EvaluationContext'], flags: [flag.name] } }))
      const entry = body.results[flag.name]
      if (entry === undefined) throw new Error(`The server answered without a result for ${flag.name}.`)
      if ('error_code' in entry) return { error: entry }

      const flat = flatten(sent)
      const userId = text(flat.user_id) ?? text(flat.targetingKey)
      let inferredCustomer: string | null = null
      if (text(flat.customer_id) === undefined && userId !== undefined) {
        // A user registered with a customer stands in for that customer (SPEC §2.4); an unknown user does not.
        const user = await unwrap(client.GET('/users/{id}', { params: { path: { id: userId } } })).catch(() => null)
        inferredCustomer = user?.customer_id ?? null
        if (inferredCustomer !== null) flat.customer_id = inferredCustomer
      }
      let override = null
      if (entry.rule === 'user_override' || entry.rule === 'customer_override') {
        const subject = entry.rule === 'user_override' ? 'user' : 'customer'
        const id = text(subject === 'user' ? userId : flat.customer_id) ?? ''
        // The id itself sorts first among the ids it is a prefix of: one row answers.
        const page = await unwrap(client.GET('/environments/{environment}/flags/{name}/overrides', {
          params: { path: { environment, name: flag.name }, query: { subject, q: id, limit: 1 } }
        })).catch(() => null)
        override = page?.overrides.find((o) => o.id === id) ?? null
      }
      return { result: entry, evidence: { environment, context: flat, inferredCustomer, override } }
    }
  })
}
