import pino from 'pino'
import t from 'tap'
import { build } from './helper.js'
import { stdoutDestination } from '../src/log-destination.js'

// Under load pino's default asynchronous destination let pending lines reach V8's old generation
// (RSS +~100 MB, bench/README.md): the server logs to stdout synchronously, through one destination.
t.test('request and container logs go to one synchronous stdout destination', async (t) => {
  const destination = stdoutDestination() as pino.DestinationStream & { sync: boolean, fd: number }
  t.equal(stdoutDestination(), destination, 'one per process')
  t.equal(destination.sync, true, 'written synchronously')
  t.equal(destination.fd, 1, 'to stdout')
  const { app } = await build(t)
  t.equal((app.log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym], destination, 'the app logs through it by default')
})
