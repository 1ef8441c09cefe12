import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { ForbiddenError, UnauthorizedError } from '../errors.js'
import type { Principal, Role } from '../services/api-key-service.js'

/**
 * What a route needs (SPEC §10): `admin` an admin key (API keys, environments); `write` an editor or
 * admin key; `read` a viewer, editor or admin key, and only under AUTH_READS; `evaluate` any key,
 * client keys included, and only under AUTH_READS; `none` nothing.
 */
export type AccessLevel = 'admin' | 'write' | 'read' | 'evaluate' | 'none'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessLevel
    /** The route addresses one environment (set by routes/environment-scope.ts): the key must cover it. */
    environmentScoped?: boolean
    /** The route changes the flag in every environment (delete, rename): the key must cover them all. */
    everyEnvironment?: boolean
  }
  interface FastifyRequest { principal: Principal | null }
}

const ANONYMOUS = 'anonymous'

/** The roles each access level admits. */
const ADMITS: Record<Exclude<AccessLevel, 'none'>, readonly Role[]> = {
  admin: ['admin'],
  write: ['admin', 'editor'],
  read: ['admin', 'editor', 'viewer'],
  evaluate: ['admin', 'editor', 'viewer', 'client']
}
const REFUSAL: Record<Exclude<AccessLevel, 'none'>, string> = {
  admin: 'This API key may not manage API keys or environments (admin keys only)',
  write: 'This API key may not perform writes',
  read: 'This API key may only evaluate flags (client keys read nothing else)',
  evaluate: ''
}

function presentedKey (request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  const auth = request.headers.authorization
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (match !== null) return match[1]
  }
  return undefined
}

/** The actor recorded in the change log for a request. */
export const actorOf = (request: FastifyRequest): string => request.principal?.actor ?? ANONYMOUS

/** Whether a principal may address `environment` (an empty list: every environment). */
export const covers = (principal: Principal, environment: string): boolean =>
  principal.environments.length === 0 || principal.environments.includes(environment)

/**
 * Checks API keys per route (`config.access`), before the body is parsed. A key presented to an open
 * route is checked too: a revoked or mistyped key is a 401 everywhere, never silently anonymous (a
 * client key decides the environment, so ignoring a bad one would answer from another environment).
 */
export default fp(async function auth (app) {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request) => {
    const { access = 'none', environmentScoped = false, everyEnvironment = false } = request.routeOptions.config
    if (access === 'none') return
    const key = presentedKey(request)
    if (key === undefined) {
      if ((access === 'read' || access === 'evaluate') && !app.config.authReads) return
      throw new UnauthorizedError()
    }
    const principal = app.services.apiKeys.authenticate(key)
    if (principal === null) throw new UnauthorizedError()
    if (!ADMITS[access].includes(principal.role)) throw new ForbiddenError(REFUSAL[access])
    request.principal = principal
    if (!environmentScoped) return
    if (everyEnvironment && app.container.snapshot.environments().some((e) => !covers(principal, e.key))) {
      throw new ForbiddenError('This API key may not change a flag in every environment (delete, rename): it covers only some')
    }
    const params = request.params as { environment?: unknown } | undefined
    const environment = typeof params?.environment === 'string'
      ? params.environment
      : principal.role === 'client' ? principal.environments[0] : app.services.environments.defaultKey
    if (!covers(principal, environment)) {
      throw new ForbiddenError(`This API key may not address environment "${environment}"`)
    }
  })
}, { name: 'flagpost-auth', dependencies: ['flagpost-services'] })
