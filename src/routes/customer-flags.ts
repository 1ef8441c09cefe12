import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { readSecurity, ref, standardResponses } from '../schemas/common.js'
import { CustomerFlagList, SubjectParams } from '../schemas/subjects.js'
import { environmentOf } from './environment-scope.js'

/** The flags one customer has: evaluated in one environment, so served under /environments/{env} too. */
const customerFlagRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const subjects = app.services.subjects

  app.get('/customers/:id/flags', {
    config: { access: 'read' },
    schema: {
      operationId: 'listCustomerFlags',
      tags: ['customers'],
      security: readSecurity,
      summary: 'The flags a customer has (effective: evaluated for {customer_id}, not the off variant), by name',
      params: SubjectParams,
      response: { 200: ref(CustomerFlagList, 'The flags on for this customer, evaluated'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => ({ flags: await subjects.listFlagsForCustomer(environmentOf(request), request.params.id) }))
}

export default customerFlagRoutes
