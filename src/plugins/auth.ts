import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { ForbiddenError, UnauthorizedError } from '../errors.js'
import type { Principal } from '../services/api-key-service.js'

/** What a route needs: `write` always a write key; `read` a key only under AUTH_READS; `none` nothing. */
export type AccessLevel = 'write' | 'read' | 'none'

declare module 'fastify' {
  interface FastifyContextConfig { access?: AccessLevel }
  interface FastifyRequest { principal: Principal | null }
}

const ANONYMOUS = 'anonymous'

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

/** Checks API keys per route (`config.access`), before the body is parsed. */
export default fp(async function auth (app) {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access ?? 'none'
    if (access === 'none' || (access === 'read' && !app.config.authReads)) return
    const key = presentedKey(request)
    const principal = key === undefined ? null : app.services.apiKeys.authenticate(key)
    if (principal === null) throw new UnauthorizedError()
    if (access === 'write' && principal.scope !== 'write') throw new ForbiddenError()
    request.principal = principal
  })
}, { name: 'flagpost-auth', dependencies: ['flagpost-services'] })
