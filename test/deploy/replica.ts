import { start, type Running } from '../support/process.js'

/**
 * A server process (dist/bin/server.js) that has started listening. start() gives it 10 s, which a
 * loaded 2-core machine (several test files at once) can exceed: wait up to 30 s more here.
 */
export async function startReplica (env: Record<string, string>): Promise<Running> {
  const node = await start(env)
  const deadline = Date.now() + 30_000
  while (!node.output().includes('Server listening') && node.child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (!node.output().includes('Server listening')) {
    node.child.kill('SIGKILL')
    throw new Error(`the server did not start:\n${node.output()}`)
  }
  return node
}
