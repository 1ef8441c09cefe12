import { useQuery, type UseQueryResult } from '@tanstack/react-query'
import { unwrap, type Environment } from './client.js'
import { useSession } from './session.js'

/** The query keys pages share, so that a change on the stream refreshes what it concerns. */
export const keys = {
  environments: ['environments'] as const,
  flags: (environment: string, q: string, tag: string) => ['flags', environment, q, tag] as const,
  flag: (environment: string, name: string) => ['flag', environment, name] as const
}

export interface Environments {
  /** The ones this key covers, in the server's order. */
  list: Environment[]
  /** What the unprefixed paths address (DEFAULT_ENVIRONMENT), if this key covers it, else its first. */
  preferred: string
}

export function useEnvironments (): UseQueryResult<Environments> {
  const { client, key } = useSession()
  return useQuery({
    queryKey: keys.environments,
    queryFn: async () => {
      const body = await unwrap(client.GET('/environments'))
      const list = body.environments.filter((e) => key.environments.length === 0 || key.environments.includes(e.key))
      const preferred = list.some((e) => e.key === body.default_environment) ? body.default_environment : (list[0]?.key ?? body.default_environment)
      return { list, preferred }
    }
  })
}
