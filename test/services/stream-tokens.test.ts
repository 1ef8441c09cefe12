import t from 'tap'
import { createStreamTokens, STREAM_TOKEN_WINDOW_S } from '../../src/services/stream-tokens.js'

const HOUR = STREAM_TOKEN_WINDOW_S * 1000

t.test('a token is signed once per window, environment and key, and what verify accepts is what it would sign again', async (t) => {
  let now = Date.parse('2026-12-01T10:15:00Z')
  const tokens = createStreamTokens('stream-secret-0123456789', () => now)
  const first = tokens.issue('production', 'key-1')
  t.equal(tokens.issue('production', 'key-1'), first, 'the same window: the same token')
  t.match(tokens.verify(first), { environment: 'production', ref: 'key-1' })
  const fresh = createStreamTokens('stream-secret-0123456789', () => now)
  t.equal(fresh.issue('production', 'key-1'), first, 'another instance signs the same token')

  t.not(tokens.issue('development', 'key-1'), first, 'another environment: another token')
  t.not(tokens.issue('production', 'key-2'), first, 'another key: another token')
  t.equal(tokens.issue('production', 'key-1'), first, 'and the first is still the one handed out')

  now += HOUR
  const next = tokens.issue('production', 'key-1')
  t.not(next, first, 'the next window: a new token')
  t.equal(next, fresh.issue('production', 'key-1'), 'as any instance signs it')
  t.ok(tokens.verify(first) !== null && tokens.verify(next) !== null, 'both valid: a token lasts until the end of the next window')
  now += 2 * HOUR
  t.equal(tokens.verify(first), null, 'expired after that')
})
