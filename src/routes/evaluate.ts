import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { memoized } from '../engine/index.js'
import type { EvaluationResult as Result } from '../engine/types.js'
import { readSecurity, ref, standardResponses } from '../schemas/common.js'
import { BulkEvaluateBody, BulkEvaluateResponse, EvaluateQuery, EvaluationResult } from '../schemas/evaluate.js'
import { FlagParams } from '../schemas/flags.js'
import { evaluationContext } from '../services/evaluation-context.js'
import { perPlan } from '../services/bulk-plan.js'
import type { BulkEntry, BulkRender, SingleRender } from '../services/flag-service.js'
import { environmentOf } from './environment-scope.js'
import { joinedBytes, JSON_TYPE, laidOut, listedBytes, madeOnce } from './json-text.js'
import { giveBackWhenClosed, ownBytes } from './lent-bytes.js'

/** One entry of `results` (BulkEvaluateResponse), `,"name":{…}` as bytes, the entry as the schema has it; made once per entry (engine/memo.ts). */
const memberOf = memoized((entry: BulkEntry) => listedBytes(`${JSON.stringify(entry.name)}:${JSON.stringify(entry)}`))
/** A result as GET answers it (EvaluationResult), made once per result. */
const resultJson = memoized((result: Result) => JSON.stringify(result))
/** Per outcome of a plan (a result), its JSON, found by the outcome's index (json-text.ts, `madeOnce`). */
const planResults = perPlan((plan) => madeOnce(plan.outcomes.length, (j) => resultJson(plan.outcomes[j] as Result)))
/** A single evaluation's answer, from its entry in the plan or from its result. */
const ONE_RESULT: SingleRender<string> = {
  fromPlan: (plan, index) => planResults(plan)(index),
  fromResult: resultJson
}
const OPEN = Buffer.from('{"results":{')
const CLOSE = Buffer.from('}}')
/** The whole answer (BulkEvaluateResponse) from its entries' members. */
const resultsBytes = (entries: readonly BulkEntry[]): Buffer => joinedBytes(OPEN, entries, memberOf, CLOSE)
/** Per outcome of a plan, its member, laid out as first served (json-text.ts, `laidOut`). */
const planMembers = perPlan((plan) => laidOut(plan.outcomes.length, (j) => memberOf(plan.outcomes[j])))
/** Every flag's answer, kept per context by the flag service. */
const ALL_RESULTS: BulkRender<Buffer> = {
  id: 'evaluate',
  make: (plan, chosen) => {
    const members = planMembers(plan)
    return joinedBytes(OPEN, chosen, members, CLOSE)
  },
  size: (body) => body.length,
  own: ownBytes
}

/** Evaluation from the in-process snapshot: the original GET endpoint and the bulk POST. */
const evaluateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The flag service counts each evaluation for /metrics (plugins/metrics.ts observes it).
  const flags = app.services.flags

  app.get('/evaluate/:name', {
    config: { access: 'evaluate', rateLimit: {} },
    schema: {
      operationId: 'evaluateFlag',
      tags: ['evaluation'],
      security: readSecurity,
      summary: 'Evaluate one flag for the context in the query string (user_id, customer_id, any attribute)',
      params: FlagParams,
      querystring: EvaluateQuery,
      // From the in-process snapshot: no database, so no 503.
      response: { 200: ref(EvaluationResult, 'The value served to this context and why'), ...standardResponses(400, 401, 403, 404, 429, 500) }
    }
    // Synchronous (a throw is the error reply): no promise per request.
  }, (request, reply) => {
    // Already JSON, made once per result: not serialized per request.
    reply.type(JSON_TYPE).send(flags.serveOne(environmentOf(request), request.params.name, request.query, ONE_RESULT) as never)
  })

  app.post('/evaluate', {
    config: { access: 'evaluate', rateLimit: {} },
    schema: {
      operationId: 'evaluateFlags',
      tags: ['evaluation'],
      security: readSecurity,
      summary: 'Evaluate all flags, or the named ones, for one context',
      body: ref(BulkEvaluateBody),
      // A flag that cannot be served is reported in `results` (GENERAL), not as a 500.
      response: { 200: ref(BulkEvaluateResponse, 'One result per flag'), ...standardResponses(400, 401, 403, 413, 415, 429) }
    }
  }, async (request, reply) => {
    const environment = environmentOf(request)
    const context = evaluationContext(request.body.context ?? {})
    const names = request.body.flags
    // Already JSON, from each entry's own (made once per entry): not re-serialized.
    const body = names === undefined ? flags.answerAll(environment, context, ALL_RESULTS) : resultsBytes(flags.evaluateNamed(environment, context, names))
    giveBackWhenClosed(reply.raw, body)
    return reply.type(JSON_TYPE).send(body as never)
  })
}

export default evaluateRoutes
