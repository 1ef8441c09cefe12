import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf } from '../plugins/auth.js'
import { readSecurity, ref, standardResponses, writeSecurity } from '../schemas/common.js'
import {
  Environment, EnvironmentCreate, EnvironmentDeleteQuery, EnvironmentList, EnvironmentParams, EnvironmentPatch, PromoteRequest, PromoteResult
} from '../schemas/environments.js'
import { toEnvironmentBody } from '../services/environment-view.js'

/** Environments (SPEC §9): list, create, rename, delete, and promote flags' configuration between them. */
const environmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const environments = app.services.environments

  app.get('/environments', {
    config: { access: 'read' },
    schema: {
      operationId: 'listEnvironments',
      tags: ['environments'],
      summary: 'List the environments, in order',
      security: readSecurity,
      response: { 200: ref(EnvironmentList, 'Every environment'), ...standardResponses(401, 403, 503) }
    }
  }, async () => ({ environments: (await environments.list()).map(toEnvironmentBody), next_cursor: null, default_environment: environments.defaultKey }))

  app.post('/environments', {
    config: { access: 'admin' },
    schema: {
      operationId: 'createEnvironment',
      tags: ['environments'],
      summary: 'Create an environment: every flag is configured there as in the default environment, served off',
      security: writeSecurity,
      body: ref(EnvironmentCreate),
      response: { 201: ref(Environment, 'The created environment'), ...standardResponses(400, 401, 403, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const environment = await environments.create(request.body, { actor: actorOf(request) })
    return reply.code(201).header('location', `/environments/${environment.key}`).send(toEnvironmentBody(environment))
  })

  app.get('/environments/:environment', {
    config: { access: 'read' },
    schema: {
      operationId: 'getEnvironment',
      tags: ['environments'],
      summary: 'Get one environment',
      security: readSecurity,
      params: EnvironmentParams,
      response: { 200: ref(Environment, 'The environment'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => toEnvironmentBody(await environments.get(request.params.environment)))

  app.patch('/environments/:environment', {
    config: { access: 'admin' },
    schema: {
      operationId: 'updateEnvironment',
      tags: ['environments'],
      summary: 'Rename an environment (its display name; the key stays) or move it in the list',
      security: writeSecurity,
      params: EnvironmentParams,
      body: ref(EnvironmentPatch),
      response: { 200: ref(Environment, 'The environment'), ...standardResponses(400, 401, 403, 404, 413, 415, 503) }
    }
  }, async (request) => toEnvironmentBody(await environments.update(request.params.environment, request.body, { actor: actorOf(request) })))

  app.delete('/environments/:environment', {
    config: { access: 'admin' },
    schema: {
      operationId: 'deleteEnvironment',
      tags: ['environments'],
      summary: 'Delete an environment; one that configures flags only with force=true (its configurations and overrides go too)',
      security: writeSecurity,
      params: EnvironmentParams,
      querystring: EnvironmentDeleteQuery,
      response: { 204: Type.Null({ description: 'Deleted' }), ...standardResponses(400, 401, 403, 404, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    await environments.remove(request.params.environment, { force: request.query.force }, { actor: actorOf(request) })
    return reply.code(204).send(null)
  })

  app.post('/environments/:environment/promote', {
    config: { access: 'admin' },
    schema: {
      operationId: 'promoteEnvironment',
      tags: ['environments'],
      summary: 'Copy flags\' configuration (and optionally overrides) from another environment into this one; dry_run answers the diff only',
      security: writeSecurity,
      params: EnvironmentParams,
      body: ref(PromoteRequest),
      response: { 200: ref(PromoteResult, 'What changed (or would)'), ...standardResponses(400, 401, 403, 404, 409, 413, 415, 503) }
    }
  }, async (request) => {
    const { from, flags, include_overrides: includeOverrides, dry_run: dryRun } = request.body
    const result = await environments.promote(request.params.environment, { from, flags, includeOverrides, dryRun }, { actor: actorOf(request) })
    return { dry_run: result.dryRun, flags: result.flags }
  })
}

export default environmentRoutes
