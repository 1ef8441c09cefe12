import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { invalidField, UnauthorizedError } from '../errors.js'
import { actorOf } from '../plugins/auth.js'
import { ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyParams, CurrentApiKey } from '../schemas/api-keys.js'
import { ref, standardResponses, writeSecurity } from '../schemas/common.js'
import { toApiKeyBody } from '../services/api-key-view.js'

function expiry (raw: string | null | undefined): Date | null {
  if (raw == null) return null
  const at = new Date(raw)
  if (Number.isNaN(at.getTime())) throw invalidField('expiresAt', 'must be an RFC 3339 date-time')
  return at
}

/** Managed API keys (SPEC §10): admin keys only. */
const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const keys = app.services.apiKeys

  app.post('/api-keys', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createApiKey',
      tags: ['api-keys'],
      summary: 'Create an API key; its secret is in this answer only',
      security: writeSecurity,
      body: ref(ApiKeyCreate),
      response: { 201: ref(ApiKeyCreated, 'The key, with its secret (shown once)'), ...standardResponses(400, 401, 403, 404, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const { name, role, environments, expires_at: expiresAt } = request.body
    const { key, secret } = await keys.create({ name, role, environments, expiresAt: expiry(expiresAt) }, { actor: actorOf(request) })
    return reply.code(201).header('location', `/api-keys/${key.id}`).header('cache-control', 'no-store').send({ ...toApiKeyBody(key), secret })
  })

  app.get('/api-keys', {
    config: { access: 'admin' },
    schema: {
      operationId: 'listApiKeys',
      tags: ['api-keys'],
      summary: 'List the API keys (never their secrets)',
      security: writeSecurity,
      response: { 200: ref(ApiKeyList, 'Every key'), ...standardResponses(401, 403, 503) }
    }
  }, async () => ({ api_keys: (await keys.list()).map(toApiKeyBody), next_cursor: null }))

  // Any key may read itself (client keys too: a tool can then tell them apart); never anonymous.
  app.get('/api-keys/current', {
    config: { access: 'evaluate' },
    schema: {
      operationId: 'getCurrentApiKey',
      tags: ['api-keys'],
      summary: 'The key this request is made with: its name, role and environments (never its secret)',
      security: writeSecurity,
      response: { 200: ref(CurrentApiKey, 'The key'), ...standardResponses(401) }
    }
  }, async (request) => {
    const principal = request.principal
    if (principal === null) throw new UnauthorizedError()
    return { name: principal.actor, role: principal.role, environments: [...principal.environments] }
  })

  app.get('/api-keys/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'getApiKey',
      tags: ['api-keys'],
      summary: 'Get one API key (never its secret)',
      security: writeSecurity,
      params: ApiKeyParams,
      response: { 200: ref(ApiKey, 'The key'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => toApiKeyBody(await keys.get(request.params.id)))

  app.delete('/api-keys/:id', {
    config: { access: 'admin' },
    schema: {
      operationId: 'revokeApiKey',
      tags: ['api-keys'],
      summary: 'Revoke an API key: it stops working on every instance within the propagation bound',
      security: writeSecurity,
      params: ApiKeyParams,
      response: { 204: Type.Null({ description: 'Revoked' }), ...standardResponses(400, 401, 403, 404, 413, 415, 503) }
    }
  }, async (request, reply) => {
    await keys.revoke(request.params.id, { actor: actorOf(request) })
    return reply.code(204).send(null)
  })
}

export default apiKeyRoutes
