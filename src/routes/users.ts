import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { actorOf } from '../plugins/auth.js'
import { readSecurity, ref, standardResponses, writeSecurity } from '../schemas/common.js'
import { idOf, SubjectParams, User, UserCreate, UserList, UserListQuery } from '../schemas/subjects.js'
import { toUserBody } from '../services/subject-view.js'

const location = (id: string): string => `/users/${encodeURIComponent(id)}`

/** Registered users (SPEC §2.3, §3), each optionally of one customer. */
const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const subjects = app.services.subjects

  app.post('/users', {
    config: { access: 'write' },
    schema: {
      operationId: 'createUser',
      tags: ['users'],
      summary: 'Register a user (an unknown customer_id registers that customer)',
      security: writeSecurity,
      body: ref(UserCreate),
      response: { 201: ref(User, 'The registered user'), ...standardResponses(400, 401, 403, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const { id, customer_id: customerId } = request.body
    const input = { id: idOf(id), ...(customerId == null ? {} : { customerId: idOf(customerId) }) }
    const user = await subjects.addUser(input, { actor: actorOf(request) })
    return reply.code(201).header('location', location(user.id)).send(toUserBody(user))
  })

  app.get('/users', {
    config: { access: 'read' },
    schema: {
      operationId: 'listUsers',
      tags: ['users'],
      summary: 'List users, by id, a page at a time; optionally of one customer',
      security: readSecurity,
      querystring: UserListQuery,
      response: { 200: ref(UserList, 'A page of users'), ...standardResponses(400, 401, 403, 503) }
    }
  }, async (request) => {
    const { customer_id: customerId, ...page } = request.query
    const result = await subjects.listUsers({ ...page, customerId })
    return { users: result.items.map(toUserBody), next_cursor: result.nextCursor }
  })

  app.get('/users/:id', {
    config: { access: 'read' },
    schema: {
      operationId: 'getUser',
      tags: ['users'],
      summary: 'Get one user',
      security: readSecurity,
      params: SubjectParams,
      response: { 200: ref(User, 'The user'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => toUserBody(await subjects.getUser(request.params.id)))

  app.delete('/users/:id', {
    config: { access: 'write' },
    schema: {
      operationId: 'deleteUser',
      tags: ['users'],
      summary: 'Remove a user and its overrides',
      security: writeSecurity,
      params: SubjectParams,
      response: { 204: Type.Null({ description: 'Removed' }), ...standardResponses(400, 401, 403, 404, 413, 415, 503) }
    }
  }, async (request, reply) => {
    await subjects.removeUser(request.params.id, { actor: actorOf(request) })
    return reply.code(204).send(null)
  })
}

export default userRoutes
