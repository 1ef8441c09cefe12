import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { dataDir, start, untraced, type Running } from './support/process.js'

// src/tick-shape.ts: a full collection while no nextTick entry is alive turns nextTick's property definitions
// megamorphic for the rest of the process, unless an entry is held. The probe (a fixture loaded with --import)
// runs such collections on SIGUSR2 and prints V8's own feedback for nextTick; no timing is read.
const PROBE = fileURLToPath(new URL('./fixtures/tick-shape/probe.mjs', import.meta.url))
const PROBE_ARGS = ['--expose-gc', '--allow-natives-syntax', '--import', PROBE]
const KEY = 'tick-shape-test-key-0123456789'

/** The states of nextTick's DefineKeyedOwnPropertyInLiteral slots in the probe's print, in slot order. */
const literalSlots = (output: string): string[] => [...output.matchAll(/slot #\d+ DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1])

async function until (output: () => string, text: string): Promise<void> {
  for (let i = 0; i < 300 && !output().includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  if (!output().includes(text)) throw new Error(`no "${text}" in:\n${output().slice(-2000)}`)
}

/** SIGUSR2 to the probe in `child`, then the slot states it printed. */
async function probe (child: Running['child'], output: () => string): Promise<string[]> {
  child.kill('SIGUSR2')
  await until(output, 'tick-shape probe: printed')
  return literalSlots(output())
}

t.test('the probe sees the slowdown: a process that holds no entry goes megamorphic', async (t) => {
  // Without this, the server test below could pass on a Node whose feedback the probe cannot read.
  const child = spawn(...untraced(process.execPath, [...PROBE_ARGS, '-e', 'setInterval(() => {}, 1000)']), { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  await until(() => out, 'tick-shape probe: ready')
  const slots = await probe(child, () => out)
  t.equal(slots.length, 4, 'one slot per property of the entry literal')
  t.ok(slots.includes('MEGAMORPHIC'), `after the collections: ${slots.join(', ')}`)
})

t.test('the server holds an entry: nextTick stays monomorphic after a write and collections with none queued', async (t) => {
  const server = await start({ DATABASE_URL: `file:${join(dataDir(t), 'flagpost.db')}`, API_KEY: KEY }, PROBE_ARGS)
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.ok(server.ready, server.output())
  // What set servers on the slow speed: a first write, then a quiet spell with a full collection in it.
  const created = await fetch(`${server.base}/flags`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body: JSON.stringify({ name: 'checkout', default_value: true })
  })
  t.equal(created.status, 201)
  const slots = await probe(server.child, server.output)
  t.same(slots, ['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC'])
  const evaluated = await fetch(`${server.base}/evaluate/checkout?user_id=carol`)
  t.equal(evaluated.status, 200, 'and it still serves')
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0)
})
