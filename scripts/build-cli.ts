/**
 * Part of `npm run build`, after tsc: the `flagpost` binary (package.json `bin`) as one bundle,
 * dist/bin/flagpost.js, from tsc's dist/cli/index.js. Unbundled, a command loads about a thousand
 * module files (TypeBox alone 680); bundled, it starts in about a third of the time and CPU
 * (`npm run bench:cli`, bench/README "CLI start"). What a command reaches only sometimes stays a
 * separate chunk, loaded when it is: the Postgres client for a SQLite database, and so on.
 * - The chunks sit beside the entry, two levels under the package root like tsc's files, so the
 *   paths the code reads relative to itself (../../package.json, ../../drizzle/…) hold.
 * - `serve` runs dist/server.js itself, unbundled, exactly what `npm start` runs.
 * - better-sqlite3 is a native module, loaded from node_modules as before; pg-native is pg's
 *   optional driver, never installed.
 * - Bundled CommonJS packages (pg, ioredis) call require(): the banner gives the ES module one.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'

/** `import('../../server.js')` in dist/cli/commands/system.js: dist/server.js, not bundled. */
const serverOutside: Plugin = {
  name: 'server-outside',
  setup (b) {
    b.onResolve({ filter: /^\.\.\/\.\.\/server\.js$/ }, (args) =>
      args.importer.endsWith(join('dist', 'cli', 'commands', 'system.js')) ? { path: '../server.js', external: true } : undefined)
  }
}

// Chunk names are content hashes: a rebuild would leave the previous ones beside the new.
rmSync('dist/bin', { recursive: true, force: true })
await build({
  entryPoints: { flagpost: 'dist/cli/index.js' },
  outdir: 'dist/bin',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'pg-native'],
  plugins: [serverOutside],
  banner: { js: "import { createRequire as __flagpostRequire } from 'node:module'; const require = __flagpostRequire(import.meta.url);" },
  logLevel: 'warning'
})
