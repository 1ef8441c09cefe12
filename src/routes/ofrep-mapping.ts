import { createHash, hash } from 'node:crypto'
import { memoized } from '../engine/index.js'
import type { EvaluationContext, EvaluationResult } from '../engine/types.js'
import type { OfrepContextBody, OfrepEvaluationFailureBody, OfrepEvaluationSuccessBody, OfrepFlagNotFoundBody } from '../schemas/ofrep.js'
import { evaluationContext } from '../services/evaluation-context.js'
import { perPlan, type BulkPlan } from '../services/bulk-plan.js'
import type { BulkEntry, BulkRender, SingleRender } from '../services/flag-service.js'
import { joinedBytes, laidOut, listedBytes, madeOnce } from './json-text.js'
import { ownBytes } from './lent-bytes.js'

/** Mapping between the OpenFeature Remote Evaluation Protocol and Flagpost's evaluation results. */

/**
 * OFREP context → Flagpost context. The engine reads `targetingKey` as `user_id`; null means unset;
 * nested objects are dotted attributes.
 */
export const toContext = (context: OfrepContextBody): EvaluationContext => evaluationContext(context, 'context')

/** One evaluation as OFREP reports it. `value` is always sent (provider 0.1.3 rejects a 200 without it). */
function toOfrepSuccess (result: EvaluationResult): OfrepEvaluationSuccessBody {
  return { key: result.name, value: result.value, reason: result.reason, variant: result.variant, metadata: result.metadata }
}

/** One bulk entry as OFREP's `flags` array holds it; a flag that could not be evaluated stays in it with its key and errorCode. */
export function toOfrepEntry (entry: BulkEntry): OfrepEvaluationSuccessBody | OfrepEvaluationFailureBody | OfrepFlagNotFoundBody {
  if (!('error_code' in entry)) return toOfrepSuccess(entry)
  // FLAG_NOT_FOUND, or GENERAL for a flag whose stored row cannot be served.
  return { key: entry.name, errorCode: entry.error_code, errorDetails: entry.error_message }
}

/**
 * An entry's JSON in the array, and the first 8 bytes of its SHA-256 as two 32-bit words (for the ETag):
 * made once per entry object (engine/memo.ts). Results are the engine's shared objects, one per flag,
 * step and variant, and fixed entries the bulk plan's, so a plan's pieces (`bulkPieces`) are made from
 * these without serializing its entries again, and a single evaluation answers with the same JSON.
 */
interface Piece { json: string, d0: number, d1: number }
const pieceOf = memoized((entry: BulkEntry): Piece => {
  const json = JSON.stringify(toOfrepEntry(entry))
  const digest = createHash('sha256').update(json).digest()
  return { json, d0: digest.readInt32LE(0), d1: digest.readInt32LE(4) }
})
/** Per outcome of a plan (a result), its OFREP answer, found by the outcome's index (json-text.ts, `madeOnce`). */
const successJson = perPlan((plan) => madeOnce(plan.outcomes.length, (j) => pieceOf(plan.outcomes[j]).json))
/**
 * A single evaluation's OFREP answer (OfrepEvaluationSuccess), the same JSON as its bulk entry, from its
 * entry in the plan or from its result (services/flag-service.ts, `serveOne`).
 */
export const OFREP_SUCCESS: SingleRender<string> = {
  fromPlan: (plan, index) => successJson(plan)(index),
  fromResult: (result) => pieceOf(result).json
}

/**
 * Per outcome of a plan (services/bulk-plan.ts), its bytes in the bulk array (with the comma before
 * it), laid out as first served (json-text.ts, `laidOut`), and its digest's two words, written when
 * its bytes are made: from each entry's own piece, once per plan.
 */
const bulkPieces = perPlan((plan) => {
  const digests = new Int32Array(2 * plan.outcomes.length)
  const bytes = laidOut(plan.outcomes.length, (j) => {
    const { json, d0, d1 } = pieceOf(plan.outcomes[j])
    digests[2 * j] = d0
    digests[2 * j + 1] = d1
    return listedBytes(json)
  })
  return { bytes, digests }
})

/** The digests of one answer's entries, in order (reused: building an answer is synchronous). */
let digests = new Int32Array(2 * 1024)
const OPEN = Buffer.from('{"flags":[')

/**
 * The end of a bulk answer's body after its flags, `,"eventStreams":[…]}` (routes/ofrep.ts), as text
 * and as the bytes that close the flags array (`]` then the text), made together once per tail.
 */
export interface BulkTail { readonly text: string, readonly closing: Buffer }
export const bulkTail = (text: string): BulkTail => ({ text, closing: Buffer.from(`]${text}`) })
const NO_TAIL = bulkTail('')

/**
 * An OFREP bulk answer: its ETag, and its body as bytes: `{"flags":[…]` (the first `flagsBytes`),
 * closed with the stream the route advertises (`tail`, which changes with the key and the stream
 * token's window). An answer the flag service keeps for its context is sent again as it is while the
 * tail stays the same, and closed again when it does not (`ofrepBulkBody`).
 */
export interface OfrepBulk { readonly etag: string, readonly flagsBytes: number, body: Buffer, tail: BulkTail }

/**
 * A bulk answer: each flag's entry in `plan.outcomes` (`chosen`, answerAll's order), closed with
 * `tail`, so that the same result is the same bytes and the same ETag on every instance. The ETag is a
 * strong one over the entries: SHA-256 of their own digests in order (each made once, with its JSON),
 * not of the ~40 KB the answer is at 350 flags. It changes exactly when an entry does, that is when
 * what this context sees changes; the tail is not part of it.
 */
export function ofrepBulkAnswer (plan: BulkPlan, chosen: readonly number[], tail = NO_TAIL): OfrepBulk {
  const { bytes, digests: byOutcome } = bulkPieces(plan)
  if (digests.length < 2 * chosen.length) digests = new Int32Array(4 * chosen.length)
  const close = tail.closing
  const body = joinedBytes(OPEN, chosen, (j, i) => {
    // First: the outcome's digest is written when its bytes are made.
    const piece = bytes(j)
    digests[2 * i] = byOutcome[2 * j]
    digests[2 * i + 1] = byOutcome[2 * j + 1]
    return piece
  }, close)
  // One-shot: no Hash object per request.
  const tag = hash('sha256', new Uint8Array(digests.buffer, 0, 8 * chosen.length), 'base64url')
  return { etag: `"${tag}"`, flagsBytes: body.length - close.length + 1, body, tail }
}

/**
 * How the flag service makes an OFREP bulk answer for a request whose body ends with `tail()`: closed
 * with it at once, so the answer is copied together once. One render per request; the id, and so the
 * kept answers, are the same for every tail. `tail` is asked only when an answer is made, that is after
 * the environment was found.
 */
export const ofrepBulk = (tail: () => BulkTail): BulkRender<OfrepBulk> => ({
  id: 'ofrep',
  make: (plan, chosen) => ofrepBulkAnswer(plan, chosen, tail()),
  size: ({ body, etag }) => body.length + etag.length,
  own: (answer) => ({ ...answer, body: ownBytes(answer.body) })
})

/** The answer's body closed with `tail`: as it is when it was made or last sent with that tail, else closed again. */
export function ofrepBulkBody (answer: OfrepBulk, tail: BulkTail): Buffer {
  if (answer.tail.text !== tail.text) {
    answer.body = Buffer.concat([answer.body.subarray(0, answer.flagsBytes - 1), tail.closing])
    answer.tail = tail
  }
  return answer.body
}

/** RFC 9110 If-None-Match (weak comparison): `*`, or a list of tags one of which is ours; bare tags are accepted too. */
export function ifNoneMatches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const opaque = etag.slice(1, -1)
  return header.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '')
    return tag === '*' || tag === etag || tag === opaque
  })
}
