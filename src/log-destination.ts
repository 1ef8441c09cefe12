import pino from 'pino'

/**
 * Where the server's log lines go: stdout, written synchronously, as Node itself writes stdout to
 * files and pipes on Linux. pino's default destination is asynchronous: under load the lines
 * waiting for the previous write pile up in a buffer that lives long enough to be promoted to V8's
 * old generation, which then grew by ~10 MB/s and held RSS ~100 MB higher (bench/README.md,
 * "Memory under load"). One per process, shared by the request logger and the container's logger.
 */
let destination: pino.DestinationStream | undefined

export function stdoutDestination (): pino.DestinationStream {
  destination ??= pino.destination({ dest: 1, sync: true })
  return destination
}
