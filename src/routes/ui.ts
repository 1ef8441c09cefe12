import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { RouteNotFoundError, UnavailableError } from '../errors.js'
import { pathOf } from '../problem.js'

/**
 * Where `npm run build` puts the admin UI (ui/vite.config.ts): dist/ui at the package root, found the same
 * way from src/ (tests, tsx) and dist/ (npm start, the image), both one level below it.
 */
export const UI_ROOT = fileURLToPath(new URL('../../dist/ui/', import.meta.url))
/** Where the UI is served (SPEC §13). */
export const UI_PREFIX = '/ui'

/**
 * What the pages may load and call: their own scripts, the API on the same origin, styles Mantine sets
 * inline (its CSS variables), data: images. Nothing else, no framing (the key is in the page's session).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'", "object-src 'none'"
].join('; ')

function secureHeaders (reply: FastifyReply): void {
  void reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
}

/**
 * A path the browser's router owns (`/ui/flags/search.ranking`: flag names have dots), not a file that is
 * missing: Vite puts every built file but index.html under assets/, so only those are files.
 */
const isPagePath = (path: string): boolean => !path.startsWith(`${UI_PREFIX}/assets/`)

export async function uiRoutes (app: FastifyInstance): Promise<void> {
  const root = app.config.uiDir ?? UI_ROOT
  app.get(UI_PREFIX, { schema: { hide: true } }, async (_request, reply) => reply.redirect(`${UI_PREFIX}/`, 308))
  if (!existsSync(join(root, 'index.html'))) {
    const notBuilt = async (): Promise<never> => { throw new UnavailableError('The admin UI is not built: run npm run build (npm install does it)') }
    app.get(`${UI_PREFIX}/`, { schema: { hide: true } }, notBuilt)
    app.get(`${UI_PREFIX}/*`, { schema: { hide: true } }, notBuilt)
    return
  }
  await app.register(async (ui) => {
    ui.addHook('onSend', async (_request, reply) => { secureHeaders(reply) })
    await ui.register(fastifyStatic, {
      root,
      prefix: '/',
      index: 'index.html',
      decorateReply: true,
      // The build writes .br and .gz copies (ui/vite.config.ts): sent as they are to browsers that take them.
      preCompressed: true,
      cacheControl: false,
      setHeaders: (reply, path) => {
        void reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable')
      }
    })
    ui.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
      const path = pathOf(request.url)
      if ((request.method === 'GET' || request.method === 'HEAD') && isPagePath(path)) {
        return reply.header('cache-control', 'no-cache').sendFile('index.html')
      }
      throw new RouteNotFoundError(request.method, path)
    })
  }, { prefix: UI_PREFIX })
}
