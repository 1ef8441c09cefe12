import type { FastifyReply, FastifyRequest } from 'fastify'
import { actorOf } from '../plugins/auth.js'
import type { StoredFlag } from '../repositories/flag-repository.js'
import { toFlagBody } from '../services/flag-view.js'

/** The ETag of a flag is its version. */
export const versionEtag = (version: number): string => `"${version}"`

/**
 * The version an `If-Match` header asks for: `"3"`, `W/"3"` or `3`; undefined for none or `*`.
 * Anything else can match no version, so it yields -1 and the write answers 412.
 */
export function parseIfMatch (header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined
  const match = /^\s*(?:W\/"(\d{1,15})"|"(\d{1,15})"|(\d{1,15}))\s*$/.exec(header)
  return match === null ? -1 : Number(match[1] ?? match[2] ?? match[3])
}

/** A conditional flag write's options: who writes (the change log's actor) and the version `If-Match` asks for. */
export const conditionalWrite = (request: FastifyRequest): { actor: string, ifMatch: number | undefined } =>
  ({ actor: actorOf(request), ifMatch: parseIfMatch(request.headers['if-match']) })

/** A flag as a write answers it: the body, with its version as the ETag. */
export const sendFlag = (reply: FastifyReply, flag: StoredFlag): FastifyReply =>
  reply.header('etag', versionEtag(flag.version)).send(toFlagBody(flag))
