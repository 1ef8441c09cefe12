import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import Type from 'typebox'
import { FlagUnservableError } from '../errors.js'
import { actorOf } from '../plugins/auth.js'
import { readSecurity, ref, standardResponses, writeSecurity } from '../schemas/common.js'
import { Flag, FlagCreate, FlagList, FlagListQuery, FlagParams, FlagPatch, IfMatchHeaders, RenameBody, type FlagBody } from '../schemas/flags.js'
import { toFlagBody } from '../services/flag-view.js'
import { conditionalWrite, sendFlag, versionEtag } from './etag.js'
import { toFlagChange, toNewFlag } from './flag-body.js'
import { environmentOf, flagLocation } from './environment-scope.js'
import { JSON_TYPE } from './json-text.js'

/** `payload` through the route's response serializer, or undefined when it does not fit the response schema. */
function serialized (reply: FastifyReply, payload: unknown): string | undefined {
  try { return String(reply.serialize(payload)) } catch { return undefined }
}

/**
 * A page of flags as JSON. A flag whose stored row cannot be rendered (written by an older version)
 * is left out and logged instead of failing the page; the cursor still follows the rows read.
 */
function renderPage (reply: FastifyReply, flags: FlagBody[], nextCursor: string | null): string {
  const whole = serialized(reply, { flags, next_cursor: nextCursor })
  if (whole !== undefined) return whole
  const servable = flags.filter((flag) => {
    if (serialized(reply, { flags: [flag], next_cursor: null }) !== undefined) return true
    reply.log.warn({ flag: flag.name }, 'flag left out of the listing: its stored row cannot be rendered; rewrite it (PUT) to repair it')
    return false
  })
  return String(reply.serialize({ flags: servable, next_cursor: nextCursor }))
}

/** Flag CRUD and rename (SPEC §3). */
const flagRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const flags = app.services.flags

  app.post('/flags', {
    config: { access: 'write' },
    schema: {
      operationId: 'createFlag',
      tags: ['flags'],
      summary: 'Create a flag',
      security: writeSecurity,
      body: ref(FlagCreate),
      response: { 201: ref(Flag, 'The created flag'), ...standardResponses(400, 401, 403, 409, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const flag = await flags.create(environmentOf(request), toNewFlag(request.body), { actor: actorOf(request) })
    return sendFlag(reply.code(201).header('location', flagLocation(request, flag.name)), flag)
  })

  app.get('/flags', {
    config: { access: 'read' },
    schema: {
      operationId: 'listFlags',
      tags: ['flags'],
      summary: 'List flags, by name, a page at a time',
      security: readSecurity,
      querystring: FlagListQuery,
      response: { 200: ref(FlagList, 'A page of flags'), ...standardResponses(400, 401, 403, 503) }
    }
  }, async (request, reply) => {
    const page = await flags.list(environmentOf(request), request.query)
    return reply.type(JSON_TYPE).send(renderPage(reply, page.items.map(toFlagBody), page.nextCursor))
  })

  app.get('/flags/:name', {
    config: { access: 'read' },
    schema: {
      operationId: 'getFlag',
      tags: ['flags'],
      summary: 'Get one flag (ETag: its version)',
      security: readSecurity,
      params: FlagParams,
      response: { 200: ref(Flag, 'The flag'), ...standardResponses(400, 401, 403, 404, 500, 503) }
    }
  }, async (request, reply) => {
    const flag = await flags.get(environmentOf(request), request.params.name)
    const body = serialized(reply, toFlagBody(flag))
    if (body === undefined) throw new FlagUnservableError(flag.name)
    return reply.header('etag', versionEtag(flag.version)).type(JSON_TYPE).send(body)
  })

  app.put('/flags/:name', {
    config: { access: 'write' },
    schema: {
      operationId: 'updateFlag',
      tags: ['flags'],
      security: writeSecurity,
      summary: 'Update a flag with JSON Merge Patch semantics (If-Match for optimistic concurrency)',
      params: FlagParams,
      headers: IfMatchHeaders,
      body: ref(FlagPatch),
      response: { 200: ref(Flag, 'The updated flag'), ...standardResponses(400, 401, 403, 404, 409, 412, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const flag = await flags.update(environmentOf(request), request.params.name, toFlagChange(request.body), conditionalWrite(request))
    return sendFlag(reply, flag)
  })

  app.delete('/flags/:name', {
    config: { access: 'write', everyEnvironment: true },
    schema: {
      operationId: 'deleteFlag',
      tags: ['flags'],
      summary: 'Delete a flag',
      security: writeSecurity,
      params: FlagParams,
      headers: IfMatchHeaders,
      response: { 204: Type.Null({ description: 'Deleted' }), ...standardResponses(400, 401, 403, 404, 409, 412, 413, 415, 503) }
    }
  }, async (request, reply) => {
    await flags.remove(environmentOf(request), request.params.name, conditionalWrite(request))
    return reply.code(204).send(null)
  })

  app.post('/flags/:name/rename', {
    config: { access: 'write', everyEnvironment: true },
    schema: {
      operationId: 'renameFlag',
      tags: ['flags'],
      summary: 'Rename a flag; its targeting and history follow',
      security: writeSecurity,
      params: FlagParams,
      headers: IfMatchHeaders,
      body: ref(RenameBody),
      response: { 200: ref(Flag, 'The renamed flag'), ...standardResponses(400, 401, 403, 404, 409, 412, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const flag = await flags.rename(environmentOf(request), request.params.name, request.body.new_name, conditionalWrite(request))
    return sendFlag(reply.header('location', flagLocation(request, flag.name)), flag)
  })
}

export default flagRoutes
