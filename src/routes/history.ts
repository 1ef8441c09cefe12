import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { readSecurity, ref, standardResponses, writeSecurity } from '../schemas/common.js'
import { Flag, FlagParams, IfMatchHeaders } from '../schemas/flags.js'
import { ChangeList, FlagHistoryQuery, RevertRequest } from '../schemas/history.js'
import { toChangeBody } from '../services/change-view.js'
import { environmentOf, flagLocation } from './environment-scope.js'
import { conditionalWrite, sendFlag } from './etag.js'

/** A flag's history in one environment, and reverting it there (SPEC §11). */
const flagHistoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const history = app.services.history

  app.get('/flags/:name/history', {
    config: { access: 'read' },
    schema: {
      operationId: 'getFlagHistory',
      tags: ['history'],
      summary: 'A flag\'s changes in this environment, newest first (across renames; override changes included)',
      security: readSecurity,
      params: FlagParams,
      querystring: FlagHistoryQuery,
      response: { 200: ref(ChangeList, 'A page of changes'), ...standardResponses(400, 401, 403, 404, 503) }
    }
  }, async (request) => {
    const result = await history.flagHistory(environmentOf(request), request.params.name, request.query)
    return { changes: result.items.map(toChangeBody), next_cursor: result.nextCursor }
  })

  app.post('/flags/:name/revert', {
    config: { access: 'write' },
    schema: {
      operationId: 'revertFlag',
      tags: ['history'],
      summary: 'Serve the flag in this environment as it was at a revision: its configuration then (on/off, default and off variant, targeting), with the variants it has now; recorded as a new change',
      security: writeSecurity,
      params: FlagParams,
      headers: IfMatchHeaders,
      body: ref(RevertRequest),
      response: { 200: ref(Flag, 'The flag as it is now served'), ...standardResponses(400, 401, 403, 404, 409, 412, 413, 415, 503) }
    }
  }, async (request, reply) => {
    const flag = await history.revert(environmentOf(request), request.params.name, request.body.revision, conditionalWrite(request))
    return sendFlag(reply.header('content-location', flagLocation(request, flag.name)), flag)
  })
}

export default flagHistoryRoutes
