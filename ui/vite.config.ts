import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const outDir = process.env.FLAGPOST_UI_OUT ?? fileURLToPath(new URL('../dist/ui', import.meta.url))

/**
 * Brotli and gzip copies of every built text file, made once here so that the service sends them as they
 * are (@fastify/static preCompressed) instead of compressing per request: the first load goes from
 * ~810 KB to ~175 KB on the wire (bench/ui.ts).
 */
const precompress = (): Plugin => ({
  name: 'flagpost-precompress',
  apply: 'build',
  closeBundle () {
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])
    for (const file of files(outDir).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
      const body = readFileSync(file)
      writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
      writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }))
    }
  }
})

// Built into the package's dist/ui, which the service serves at /ui (src/routes/ui.ts; UI_DIR elsewhere).
// FLAGPOST_UI_OUT builds somewhere else (a second checkout's tests, a customised build).
export default defineConfig({
  base: '/ui/',
  plugins: [react(), precompress()],
  // Other tools in the workspace bring an older React to the root node_modules: one copy, the UI's own.
  resolve: { dedupe: ['react', 'react-dom'] },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024
  },
  // `npm run dev -w ui`: the pages on Vite's dev server, the API of a service on :5000.
  server: { proxy: Object.fromEntries(['/flags', '/evaluate', '/environments', '/api-keys', '/changes', '/events', '/customers', '/users', '/ofrep'].map((p) => [p, 'http://127.0.0.1:5000'])) }
})
