import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf } from '../plugins/auth.js'
import { readSecurity, ref, standardResponses, writeSecurity } from '../schemas/common.js'
import { Customer, CustomerCreate, CustomerList, CustomerListQuery, idOf, SubjectParams } from '../schemas/subjects.js'
import { toCustomerBody } from '../services/subject-view.js'

const location = (id: string): string => `/customers/${encodeURIComponent(id)}`

/** Registered customers (SPEC §2.3, §3); the flags each one has are in customer-flags.ts (per environment). */
const customerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const subjects = app.services.subjects

  app.post('/customers', {
    config: { access: 'write' },
    schema: {
      operationId: 'createCustomer',
      tags: ['customers'],
      summary: 'Register a customer',
      security: writeSecurity,
      body: ref(CustomerCreate),
      response: { 201: ref(Customer, 'The registered customer'), ...standardResponses(400, 401, 403, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const customer = await subjects.addCustomer({ id: idOf(request.body.id), name: request.body.name }, { actor: actorOf(request) })
    return reply.code(201).header('location', location(customer.id)).send(toCustomerBody(customer))
  })

  app.get('/customers', {
    config: { access: 'read' },
    schema: {
      operationId: 'listCustomers',
      tags: ['customers'],
      summary: 'List customers, by id, a page at a time',
      security: readSecurity,
      querystring: CustomerListQuery,
      response: { 200: ref(CustomerList, 'A page of customers'), ...standardResponses(400, 401, 403, 503) }
    }
  }, async (request) => {
    const page = await subjects.listCustomers(request.query)
    return { customers: page.items.map(toCustomerBody), next_cursor: page.nextCursor }
  })

  app.get('/customers/:id', {
    config: { access: 'read' },
    schema: {
      operationId: 'getCustomer',
      tags: ['customers'],
      summary: 'Get one customer',
      security: readSecurity,
      params: SubjectParams,
      response: { 200: ref(Customer, 'The customer'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => toCustomerBody(await subjects.getCustomer(request.params.id)))

  app.delete('/customers/:id', {
    config: { access: 'write' },
    schema: {
      operationId: 'deleteCustomer',
      tags: ['customers'],
      security: writeSecurity,
      summary: 'Remove a customer and its overrides; its users stay, without a customer',
      params: SubjectParams,
      response: { 204: Type.Null({ description: 'Removed' }), ...standardResponses(400, 401, 403, 404, 413, 415, 503) }
    }
  }, async (request, reply) => {
    await subjects.removeCustomer(request.params.id, { actor: actorOf(request) })
    return reply.code(204).send(null)
  })
}

export default customerRoutes
