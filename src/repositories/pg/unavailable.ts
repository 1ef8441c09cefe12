import { errorChain } from './errors.js'

// Network-level failures reaching the server.
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])
// SQLSTATEs that mean "cannot serve now": connection exceptions (08), shutdown / starting up
// (57P01-57P03), statement timeout or cancel (57014), lock timeout (55P03: the change-log lock held
// past PG_BOUNDS.lock), a session ended for idling in a transaction (25P03) or idling (57P05),
// insufficient resources (53), a read-only standby after a failover (25006); and a write
// transaction out of time (FLAGPOST_DB_WRITE_TIMEOUT, repositories/pg/change-log.ts).
const SQLSTATE = /^(08...|57P0[1-35]|57014|55P03|25P03|53...|25006|FLAGPOST_DB_WRITE_TIMEOUT)$/
// node-postgres and pg-pool report these without a code.
const MESSAGES = [
  'Connection terminated', // unexpectedly, or due to connection timeout
  'timeout exceeded when trying to connect', // the pool had no free connection in time
  'Cannot use a pool after calling end on the pool',
  'is not queryable', // a client that errored or was closed
  'Query read timeout', // no answer within PG_BOUNDS.query (a stalled link); the connection is destroyed
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
