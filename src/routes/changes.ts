import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidField } from '../errors.js'
import { readSecurity, ref, standardResponses } from '../schemas/common.js'
import { ChangeList, ChangeListQuery } from '../schemas/history.js'
import { toChangeBody } from '../services/change-view.js'
import { visibilityOf } from '../services/history-service.js'

/** A time the pattern admits but no calendar has (month 13) is a 400 naming the parameter. */
function timeOf (name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const time = new Date(value)
  if (Number.isNaN(time.getTime())) throw invalidField(`query.${name}`, 'is not a date-time that exists')
  return time
}

/** The change log, read (SPEC §11): every environment the key covers. */
const changeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const history = app.services.history

  app.get('/changes', {
    config: { access: 'read' },
    schema: {
      operationId: 'listChanges',
      tags: ['history'],
      summary: 'The change log, newest first: who changed what, when, before and after; filtered, a page at a time, restricted to the environments the key covers',
      security: readSecurity,
      querystring: ChangeListQuery,
      response: { 200: ref(ChangeList, 'A page of changes'), ...standardResponses(400, 401, 403, 503) }
    }
  }, async (request) => {
    const q = request.query
    const filter = {
      flag: q.flag,
      environment: q.environment,
      actor: q.actor,
      action: q.action,
      fromRevision: q.from_revision,
      toRevision: q.to_revision,
      since: timeOf('since', q.since),
      until: timeOf('until', q.until)
    }
    const result = await history.list(filter, { limit: q.limit, cursor: q.cursor }, visibilityOf(request.principal))
    return { changes: result.items.map(toChangeBody), next_cursor: result.nextCursor }
  })
}

export default changeRoutes
