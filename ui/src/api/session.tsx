import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react'
import type { FlagpostClient } from '../../../src/client/index.js'
import { ApiError, clientFor, storedKey, storeKey, unwrap, type CurrentKey } from './client.js'

export interface Session {
  client: FlagpostClient
  key: CurrentKey
  /** Editor or admin, and covering `environment` (every one when omitted). */
  canWrite: (environment?: string) => boolean
  isAdmin: boolean
  /** Why a control is read-only for this key, in words (shown beside it). */
  readOnlyReason: string
  signOut: () => void
}

interface SessionState {
  session: Session | null
  signIn: (apiKey: string) => Promise<void>
  signOut: () => void
}

const SessionContext = createContext<SessionState | null>(null)

const covers = (key: CurrentKey, environment?: string): boolean =>
  environment === undefined || key.environments.length === 0 || key.environments.includes(environment)

/** Checks a key with the server (GET /api-keys/current): a client key is refused, in words. */
async function identify (apiKey: string): Promise<{ client: FlagpostClient, key: CurrentKey }> {
  const client = clientFor(apiKey)
  const key = await unwrap(client.GET('/api-keys/current')).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 401) throw new ApiError('This API key is not valid (mistyped, revoked or expired).', 401, err.code)
    throw err
  })
  if (key.role === 'client') {
    throw new ApiError('This is a client key: it can only evaluate flags. Sign in with a viewer, editor or admin key.', 403, 'CLIENT_KEY')
  }
  return { client, key }
}

function makeSession (client: FlagpostClient, key: CurrentKey, signOut: () => void): Session {
  const writer = key.role === 'admin' || key.role === 'editor'
  return {
    client,
    key,
    canWrite: (environment) => writer && covers(key, environment),
    isAdmin: key.role === 'admin',
    readOnlyReason: writer ? 'This key does not cover this environment' : `Read-only: you are signed in with a ${key.role} key`,
    signOut
  }
}

export function SessionProvider ({ children, initial }: { children: ReactNode, initial: { client: FlagpostClient, key: CurrentKey } | null }): ReactNode {
  const [current, setCurrent] = useState(initial)
  const signOut = useCallback(() => { storeKey(null); setCurrent(null) }, [])
  const signIn = useCallback(async (apiKey: string) => {
    const identified = await identify(apiKey.trim())
    storeKey(apiKey.trim())
    setCurrent(identified)
  }, [])
  const value = useMemo<SessionState>(() => ({
    session: current === null ? null : makeSession(current.client, current.key, signOut),
    signIn,
    signOut
  }), [current, signIn, signOut])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

/** The key kept from earlier in this tab, checked again (it may have been revoked since). */
export async function restoreSession (): Promise<{ client: FlagpostClient, key: CurrentKey } | null> {
  const apiKey = storedKey()
  if (apiKey === null) return null
  try {
    return await identify(apiKey)
  } catch (err) {
    // Revoked, expired or a client key: sign in again. Anything else (the server unreachable) is shown.
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) { storeKey(null); return null }
    throw err
  }
}

export function useSessionState (): SessionState {
  const state = useContext(SessionContext)
  if (state === null) throw new Error('useSessionState outside SessionProvider')
  return state
}

/** The signed-in session (pages under the shell only render once signed in). */
export function useSession (): Session {
  const { session } = useSessionState()
  if (session === null) throw new Error('useSession before sign-in')
  return session
}
