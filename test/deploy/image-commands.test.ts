import { spawn } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { dataDir, freePort, untraced } from '../support/process.js'
import { until } from '../support/until.js'
import { execForm, ofKind, options, readRepoFile, ROOT, stageEnv, stages } from './dockerfile.js'

/**
 * The runtime stage's commands, run here as the container would run them (no Docker engine on this
 * machine): CMD from WORKDIR (the repository root stands for /app, with the built dist/) and the
 * image's ENV, then the HEALTHCHECK command, then `docker stop`'s SIGTERM.
 */

const RUNTIME = stages(readRepoFile('Dockerfile')).at(-1)!
const IMAGE_ENV = stageEnv(RUNTIME)
const CMD = execForm(ofKind(RUNTIME, 'CMD')[0].args)!
const HEALTHCHECK = execForm(options(ofKind(RUNTIME, 'HEALTHCHECK')[0].args).rest.replace(/^CMD\s+/, ''))!

interface Exited { code: number | null, signal: NodeJS.Signals | null, output: string }

/** Run an exec-form command as the container would (`node` is this Node); resolves when it exits. */
function run (argv: string[], env: Record<string, string>): { child: ReturnType<typeof spawn>, output: () => string, exited: Promise<Exited> } {
  const [file, ...args] = argv
  // Only the image's environment (plus PATH to find nothing else): no DATABASE_URL/API_KEY from this shell or CI.
  const child = spawn(...untraced(file === 'node' ? process.execPath : file, args), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<Exited>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output })))
  return { child, output: () => output, exited }
}

t.test('CMD with the image ENV serves, passes its HEALTHCHECK, and exits 0 on SIGTERM', async (t) => {
  const port = String(await freePort())
  // Only what a container run would change: the volume's path and the published port.
  const env = { ...IMAGE_ENV, DATABASE_URL: `file:${join(dataDir(t), 'flagpost.db')}`, PORT: port }
  t.match([CMD[0], CMD.at(-1)], ['node', /\.js$/])
  const server = run(CMD, env)
  t.teardown(() => { if (server.child.exitCode === null) server.child.kill('SIGKILL') })
  await until(() => server.output().includes('Server listening') || server.child.exitCode !== null, 40_000, 100, 'the server to listen')
  t.match(server.output(), `Server listening at http://127.0.0.1:${port}`, 'listening on the given PORT, every interface (HOST=0.0.0.0)')
  t.match(server.output(), /generated an admin key/, 'a first start without API_KEY prints a key (docker logs shows it)')

  const check = await run(HEALTHCHECK, env).exited
  t.equal(check.code, 0, `the HEALTHCHECK command succeeds: ${check.output}`)
  // The same check against a port nobody listens on fails: it really asks the server.
  const down = await run(HEALTHCHECK, { ...env, PORT: String(await freePort()) }).exited
  t.equal(down.code, 1, 'and fails when nothing answers')
  // The admin UI comes with dist/ (built into dist/ui by npm run build), nothing else to copy or build.
  const ui = await fetch(`http://127.0.0.1:${port}/ui/flags`)
  t.equal(ui.status, 200, 'the admin UI is served at /ui')
  t.match(await ui.text(), /<div id="root">/)

  server.child.kill('SIGTERM')
  const stopped = await server.exited
  t.same({ code: stopped.code, signal: stopped.signal }, { code: 0, signal: null }, 'SIGTERM: drained and exited 0')
  t.match(stopped.output, /shutting down/)
})

t.test('the HEALTHCHECK fails when the service answers /healthz with an error', async (t) => {
  // A stand-in that is up but unhealthy: only a 2xx counts.
  const { createServer } = await import('node:http')
  const sick = createServer((_req, res) => { res.statusCode = 503; res.end() })
  await new Promise<void>((resolve) => sick.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { sick.close() })
  const address = sick.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const check = await run(HEALTHCHECK, { ...IMAGE_ENV, PORT: String(port) }).exited
  t.equal(check.code, 1)
})
