import fp from 'fastify-plugin'
import type { FastifyContextConfig, FastifyRequest, onRequestHookHandler } from 'fastify'
import { ForbiddenError, UnauthorizedError } from '../errors.js'
import type { Principal, Role } from '../services/api-key-service.js'
import { ANONYMOUS_REF, type StreamGrant } from '../services/stream-tokens.js'

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
    /** The route (an event stream) also takes a stream token in `?token=` instead of a key (SPEC §12). */
    streamToken?: boolean
  }
  interface FastifyRequest {
    principal: Principal | null
    /** What a stream token in the URL granted, on the routes that take one. */
    streamGrant: StreamGrant | null
  }
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
 * Whether the key a request was authorized with still may do it, for a response that outlives the
 * request (an event stream): not revoked, not expired, still covering `environment`. Undefined for
 * anonymous requests (open reads stay open for the life of the process).
 */
export function stillAllowed (request: FastifyRequest, environment?: string): (() => boolean) | undefined {
  const principal = request.principal
  if (principal === null) return undefined
  const apiKeys = request.server.services.apiKeys
  return () => {
    const current = apiKeys.principalByRef(principal.ref)
    return current !== null && (environment === undefined || covers(current, environment))
  }
}

/**
 * A stream token (services/stream-tokens.ts) instead of a key: valid only while the key it names
 * still is (not revoked, not expired, still covering the environment), and, for anonymous tokens,
 * while reads are open. A token is for one environment: under another's prefix it is refused.
 */
function grantFromToken (request: FastifyRequest, token: string): void {
  const app = request.server
  const grant = app.services.streamTokens.verify(token)
  if (grant === null) throw new UnauthorizedError()
  const anonymous = grant.ref === ANONYMOUS_REF
  const principal = anonymous ? null : app.services.apiKeys.principalByRef(grant.ref)
  if (anonymous ? app.config.authReads : principal === null) throw new UnauthorizedError()
  if (principal !== null && !covers(principal, grant.environment)) throw new ForbiddenError(`This API key may not address environment "${grant.environment}"`)
  const params = request.params as { environment?: unknown } | undefined
  if (typeof params?.environment === 'string' && params.environment !== grant.environment) {
    throw new ForbiddenError(`This stream token is for environment "${grant.environment}"`)
  }
  request.principal = principal
  request.streamGrant = grant
}

/**
 * Checks API keys per route (`config.access`), before the body is parsed. A key presented to an open
 * route is checked too: a revoked or mistyped key is a 401 everywhere, never silently anonymous (a
 * client key decides the environment, so ignoring a bad one would answer from another environment).
 */
export default fp(async function auth (app) {
  app.decorateRequest('principal', null)
  app.decorateRequest('streamGrant', null)
  /** Throws the refusal; returns when the request may go on. */
  function authorize (request: FastifyRequest, access: Exclude<AccessLevel, 'none'>, config: FastifyContextConfig): void {
    const { environmentScoped = false, everyEnvironment = false, streamToken = false } = config
    const token = streamToken ? (request.query as { token?: unknown } | undefined)?.token : undefined
    if (typeof token === 'string') return grantFromToken(request, token)
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
  }
  // A hook on each route that needs a key, none on the others. A callback hook, not an async one: an
  // async hook costs every request a promise and a microtask.
  app.addHook('onRoute', (route) => {
    const access = route.config?.access ?? 'none'
    if (access === 'none') return
    const hook: onRequestHookHandler = (request, _reply, done) => {
      try {
        // The route's options as the later onRoute hooks leave them (routes/environment-scope.ts adds to its config).
        authorize(request, access, route.config ?? {})
      } catch (err) {
        done(err as Error)
        return
      }
      done()
    }
    // First among the route's own hooks, so before rate limiting; after the app's (CORS preflights need no key).
    route.onRequest = [hook, ...[route.onRequest ?? []].flat()]
  })
}, { name: 'flagpost-auth', dependencies: ['flagpost-services'] })
