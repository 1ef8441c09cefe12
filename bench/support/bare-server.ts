/**
 * The baseline of the HTTP benches, as a process of its own: Fastify with its defaults (no logger,
 * no hooks), one route per entry of the JSON file BARE_ROUTES, each answering the same body the
 * Flagpost route it stands for answered, as an object Fastify serializes on every request, or with
 * `bytes`, as the JSON's bytes made once (what sending the body alone costs). What Node and Fastify
 * cost to answer that body on this machine: the limit the targets are a share of.
 * Started by support/server-process.ts (`startBareServer`), with HOST and PORT.
 *
 * It holds one nextTick entry, as Flagpost's server does (src/tick-shape.ts): without it, whether the
 * baseline's nextTick stays on V8's fast path depends on when its first full collections come, and the
 * benches' ratios read that draw instead of the routes (bench/README, the thirtieth session).
 */
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { keepTickShape } from '../../src/tick-shape.js'

export interface BareRoute { method: 'GET' | 'POST', url: string, body: unknown, bytes?: boolean }

keepTickShape()
const routes = JSON.parse(readFileSync(process.env.BARE_ROUTES ?? '', 'utf8')) as BareRoute[]
const app = Fastify()
for (const { method, url, body, bytes } of routes) {
  const json = Buffer.from(JSON.stringify(body))
  app.route({ method, url, handler: bytes === true ? async (_request, reply) => reply.type('application/json; charset=utf-8').send(json) : async () => body })
}
app.get('/readyz', async () => ({ status: 'ready' }))
await app.listen({ port: Number(process.env.PORT), host: process.env.HOST })
// Exits normally on SIGTERM (what ServerProcess.stop sends), so that `--cpu-prof` can write its profile.
process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
