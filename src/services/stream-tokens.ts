import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Stream tokens (SPEC §12): what a stream URL carries instead of the API key. Browsers' EventSource
 * (and so the OFREP web provider) cannot send a header, and a URL ends up in access logs, browser
 * history and proxies: the key must not be in it. A token names the environment and the key (by its
 * `ref`, never the key), expires, and is signed with the database's stream secret, so any instance
 * verifies what any other issued, and a revoked key's tokens stop working at once.
 *
 * Tokens are issued per hour, valid until the end of the next one: the URL a bulk evaluation
 * advertises stays the same for an hour (providers keep their connection when the URL set is
 * unchanged) and a leaked one is good for two hours at most.
 */
export const STREAM_TOKEN_WINDOW_S = 3600
/** The `ref` of an anonymous reader (reads open: AUTH_READS unset). */
export const ANONYMOUS_REF = '-'
const SIGNATURE_BYTES = 16
const TOKEN = /^([a-z0-9][a-z0-9_-]{0,31})\.([A-Za-z0-9_-]{1,32})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/

export interface StreamGrant { environment: string, ref: string, expiresAt: number }

export function createStreamTokens (secret: string, now: () => number = Date.now) {
  const sign = (payload: string): string => createHmac('sha256', secret).update(payload).digest().subarray(0, SIGNATURE_BYTES).toString('base64url')
  // Every bulk evaluation advertises a token, and within a window it is the same one for an
  // environment and key: signed once per window, not per request. Cleared when the window turns, so
  // it holds at most one token per environment and key in use.
  let issuedIn = -1
  const issued = new Map<string, string>()
  return {
    /** A token for `ref` (a key's, or ANONYMOUS_REF) to stream `environment`. */
    issue (environment: string, ref: string): string {
      const window = Math.floor(now() / 1000 / STREAM_TOKEN_WINDOW_S)
      if (window !== issuedIn) { issued.clear(); issuedIn = window }
      const payload = `${environment}.${ref}.${(window + 2) * STREAM_TOKEN_WINDOW_S}`
      let token = issued.get(payload)
      if (token === undefined) issued.set(payload, token = `${payload}.${sign(payload)}`)
      return token
    },
    /** What a token grants, or null: malformed, forged, or expired. */
    verify (token: string): StreamGrant | null {
      const match = TOKEN.exec(token)
      if (match === null) return null
      const [, environment, ref, exp, signature] = match
      const expected = Buffer.from(sign(`${environment}.${ref}.${exp}`), 'base64url')
      const given = Buffer.from(signature, 'base64url')
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
      const expiresAt = Number(exp) * 1000
      return expiresAt > now() ? { environment, ref, expiresAt } : null
    }
  }
}

export type StreamTokens = ReturnType<typeof createStreamTokens>
