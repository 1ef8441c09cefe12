/**
 * Part of `npm run build`, after tsc: the two programs Flagpost ships, each one bundle in dist/bin made from
 * tsc's output.
 * - `dist/bin/server.js` from dist/server.js: the HTTP service, what `npm start`, the image's CMD and the
 *   `serve` command run. It is ready in about 60 % of the unbundled start's time (bench/README "Server start").
 * - `dist/bin/flagpost.js` from dist/cli/index.js: the `flagpost` binary (package.json `bin`). Unbundled, a
 *   command loads about a thousand module files (TypeBox alone 680); bundled, it starts in about a third of the
 *   time and CPU (`npm run bench:cli`, bench/README "CLI start").
 * What the two share, and what a command reaches only sometimes (the Postgres client for a SQLite database, the
 * server for `serve`), are separate chunks, loaded when they are.
 * - The chunks sit beside the entries, two levels under the package root like tsc's files, so the paths the
 *   code reads relative to itself (../../package.json, ../../drizzle/…, ../../dist/ui/) hold.
 * - Left as packages, loaded from node_modules: better-sqlite3 (a native module); pg-native (pg's optional
 *   driver, never installed); and the packages that read files beside their own code through `__dirname`,
 *   which an ES module bundle does not have: @fastify/swagger (its package.json), @fastify/swagger-ui (the
 *   Swagger UI files it serves) and ioredis (its version, sent to Redis as the client's library version).
 * - Bundled CommonJS packages (pg, fastify's) call require(): the banner gives the ES module one.
 */
import { rmSync } from 'node:fs'
import { build } from 'esbuild'

/** The packages loaded from node_modules at run time (see above); test/deploy/dockerfile.test.ts checks that the image keeps them. */
const EXTERNAL = ['better-sqlite3', 'pg-native', '@fastify/swagger', '@fastify/swagger-ui', 'ioredis']

// Chunk names are content hashes: a rebuild would leave the previous ones beside the new.
rmSync('dist/bin', { recursive: true, force: true })
await build({
  entryPoints: { server: 'dist/server.js', flagpost: 'dist/cli/index.js' },
  outdir: 'dist/bin',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  banner: { js: "import { createRequire as __flagpostRequire } from 'node:module'; const require = __flagpostRequire(import.meta.url);" },
  logLevel: 'warning'
})
