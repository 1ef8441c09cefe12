import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf } from '../plugins/auth.js'
import { readSecurity, ref, standardResponses, writeSecurity } from '../schemas/common.js'
import { FlagParams } from '../schemas/flags.js'
import { CustomerList, FlagCustomersQuery, FlagSubjectParams, Override, OverrideList, OverrideListQuery, OverrideWrite } from '../schemas/subjects.js'
import { toCustomerBody, toOverrideBody } from '../services/subject-view.js'
import { environmentOf } from './environment-scope.js'

/** The two override paths: `/flags/{name}/overrides/customers/{id}` and `…/users/{id}`. */
const KINDS = [
  { segment: 'customers', subject: 'customer', label: 'Customer' },
  { segment: 'users', subject: 'user', label: 'User' }
] as const

/** Explicit per-subject switches of one flag (SPEC §2.3, evaluation steps 3–4) and the customers that have it. */
const overrideRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const subjects = app.services.subjects

  for (const { segment, subject, label } of KINDS) {
    app.put(`/flags/:name/overrides/${segment}/:id`, {
      config: { access: 'write' },
      schema: {
        operationId: `set${label}Override`,
        tags: ['overrides'],
        security: writeSecurity,
        summary: `Switch a flag on or off for one ${subject} (registers an unknown ${subject})`,
        params: FlagSubjectParams,
        body: ref(OverrideWrite),
        response: { 200: ref(Override, 'The override as stored'), ...standardResponses(400, 401, 403, 404, 413, 415, 503) }
      }
    }, async (request) => {
      const { name, id } = request.params
      return toOverrideBody(await subjects.setOverride(environmentOf(request), name, subject, id, request.body, { actor: actorOf(request) }))
    })

    app.delete(`/flags/:name/overrides/${segment}/:id`, {
      config: { access: 'write' },
      schema: {
        operationId: `clear${label}Override`,
        tags: ['overrides'],
        security: writeSecurity,
        summary: `Remove a flag's override for one ${subject}`,
        params: FlagSubjectParams,
        response: { 204: Type.Null({ description: 'Removed' }), ...standardResponses(400, 401, 403, 404, 413, 415, 503) }
      }
    }, async (request, reply) => {
      await subjects.clearOverride(environmentOf(request), request.params.name, subject, request.params.id, { actor: actorOf(request) })
      return reply.code(204).send(null)
    })
  }

  app.get('/flags/:name/overrides', {
    config: { access: 'read' },
    schema: {
      operationId: 'listOverrides',
      tags: ['overrides'],
      security: readSecurity,
      summary: 'List a flag\'s overrides, by subject then id, a page at a time',
      params: FlagParams,
      querystring: OverrideListQuery,
      response: { 200: ref(OverrideList, 'A page of overrides'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => {
    const page = await subjects.listOverrides(environmentOf(request), request.params.name, request.query)
    return { overrides: page.items.map(toOverrideBody), next_cursor: page.nextCursor }
  })

  app.get('/flags/:name/customers', {
    config: { access: 'read' },
    schema: {
      operationId: 'listFlagCustomers',
      tags: ['customers'],
      security: readSecurity,
      summary: 'List the customers that have a flag (effective, or explicitly switched), by id, a page at a time',
      params: FlagParams,
      querystring: FlagCustomersQuery,
      response: { 200: ref(CustomerList, 'A page of customers'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => {
    const page = await subjects.listCustomersForFlag(environmentOf(request), request.params.name, { ...request.query, state: request.query.state ?? 'enabled' })
    return { customers: page.items.map(toCustomerBody), next_cursor: page.nextCursor }
  })
}

export default overrideRoutes
