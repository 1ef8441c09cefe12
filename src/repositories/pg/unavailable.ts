import { errorChain } from './errors.js'

// Network-level failures reaching the server.
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])
// SQLSTATEs that mean "cannot serve now": connection exceptions (08), shutdown / starting up
// (57P01-57P03), statement timeout or cancel (57014), insufficient resources (53), a read-only
// standby after a failover (25006).
const SQLSTATE = /^(08...|57P0[1-3]|57014|53...|25006)$/
// node-postgres and pg-pool report these without a code.
const MESSAGES = [
  'Connection terminated', // unexpectedly, or due to connection timeout
  'timeout exceeded when trying to connect', // the pool had no free connection in time
  'Cannot use a pool after calling end on the pool',
  'is not queryable', // a client that errored or was closed
  'the database system is' // starting up / shutting down, before a SQLSTATE is available
]

/** True for node-postgres errors that mean the database cannot serve now, not that a statement is wrong. */
export function isPgUnavailable (err: unknown): boolean {
  for (const e of errorChain(err)) {
    const { code, message } = e
    if (typeof code === 'string' && (NETWORK.has(code) || SQLSTATE.test(code))) return true
    // Not drizzle's wrapper: its message quotes the statement and its parameters (user data).
    if ('query' in e) continue
    if (typeof message === 'string' && MESSAGES.some((m) => message.includes(m))) return true
  }
  return false
}
