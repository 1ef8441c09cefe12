import { useQueryClient } from '@tanstack/react-query'
import { createParser } from 'eventsource-parser'
import { useEffect, useRef, useState } from 'react'
import type { Change } from './client.js'
import { useSession } from './session.js'

export type LiveState = 'connecting' | 'live' | 'reconnecting'

/** The longest wait between reconnections (the first is 1 s, then doubling). */
const MAX_BACKOFF_MS = 30_000

/**
 * Follows the change stream (`GET /events`, SPEC §12) through the generated client, so the key goes in
 * its header, never the URL. Every change (or a `reset`: too much was missed) refreshes the queries of
 * the open pages; `onChange` hears each one. Resumes with Last-Event-ID after a cut, backing off.
 */
export function useLiveChanges (onChange?: (change: Change) => void): LiveState {
  const { client } = useSession()
  const queries = useQueryClient()
  const [state, setState] = useState<LiveState>('connecting')
  // The latest callback, read when a change arrives: a new one must not restart the stream.
  const listener = useRef(onChange)
  listener.current = onChange

  useEffect(() => {
    const abort = new AbortController()
    let lastId: string | undefined
    let backoff = 1000
    const refresh = (): void => { void queries.invalidateQueries() }

    async function follow (): Promise<void> {
      const { response } = await client.GET('/events', {
        parseAs: 'stream',
        signal: abort.signal,
        headers: lastId === undefined ? {} : { 'Last-Event-ID': lastId }
      })
      if (!response.ok || response.body === null) throw new Error(`the change stream answered ${response.status}`)
      setState('live')
      backoff = 1000
      const parser = createParser({
        onEvent: (event) => {
          if (event.id !== undefined) lastId = event.id
          if (event.event === 'change') {
            refresh()
            listener.current?.(JSON.parse(event.data) as Change)
          } else if (event.event === 'reset') refresh()
        }
      })
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        parser.feed(value)
      }
    }

    void (async () => {
      while (!abort.signal.aborted) {
        try { await follow() } catch { /* cut, refused or unreachable: try again after a while */ }
        if (abort.signal.aborted) return
        setState('reconnecting')
        await new Promise((resolve) => setTimeout(resolve, backoff))
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
        refresh()
      }
    })()
    return () => abort.abort()
  }, [client, queries])
  return state
}
