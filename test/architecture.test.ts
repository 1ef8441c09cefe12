import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm'
import t from 'tap'

/**
 * Dependencies point down (issue 13): no import cycle in src/, type-only imports included, and no
 * module imports a layer above its own. Read by dpdm from the sources, so a new back-edge fails here,
 * not in review.
 *
 * Layers, top to bottom: edges (server, app, library, cli, routes, plugins, metrics) → services →
 * cache → repositories → db; schemas and the engine are below everything that uses them, and the
 * engine imports nothing of the project but itself.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** For each folder of src/, the folders (and top-level modules) it must never import. */
const FORBIDDEN: Record<string, string[]> = {
  engine: ['problem.ts', 'client-errors.ts', 'cache', 'cli', 'db', 'metrics', 'plugins', 'repositories', 'routes', 'schemas', 'services', 'errors.ts', 'app.ts', 'container.ts', 'library.ts', 'config.ts'],
  db: ['problem.ts', 'client-errors.ts', 'cache', 'cli', 'metrics', 'plugins', 'repositories', 'routes', 'schemas', 'services', 'app.ts', 'library.ts'],
  repositories: ['problem.ts', 'client-errors.ts', 'cache', 'cli', 'metrics', 'plugins', 'routes', 'services', 'app.ts', 'library.ts', 'container.ts'],
  cache: ['problem.ts', 'client-errors.ts', 'cli', 'metrics', 'plugins', 'routes', 'services', 'app.ts', 'library.ts'],
  schemas: ['problem.ts', 'client-errors.ts', 'cache', 'cli', 'db', 'metrics', 'plugins', 'repositories', 'routes', 'services', 'app.ts', 'library.ts', 'container.ts'],
  services: ['problem.ts', 'client-errors.ts', 'cli', 'metrics', 'plugins', 'routes', 'app.ts', 'library.ts'],
  metrics: ['problem.ts', 'client-errors.ts', 'cli', 'plugins', 'routes', 'app.ts', 'library.ts']
}

/** The project's own edges, as [importer, imported] paths relative to src/. */
function edgesOf (tree: DependencyTree): Array<[string, string]> {
  const edges: Array<[string, string]> = []
  for (const [file, deps] of Object.entries(tree)) {
    for (const dep of deps ?? []) {
      if (dep.id === null || !dep.id.startsWith('src/')) continue
      edges.push([file.replace(/^src\//, ''), dep.id.replace(/^src\//, '')])
    }
  }
  return edges
}

const folderOf = (path: string): string => path.includes('/') ? path.split('/')[0] : path

t.test('src/ has no import cycle and no import of a layer above', async (t) => {
  const tree = await parseDependencyTree('src/**/*.ts', { context: ROOT, transform: false, skipDynamicImports: false, tsconfig: undefined })
  const files = Object.keys(tree).filter((f) => f.startsWith('src/'))
  t.ok(files.length > 80, `${files.length} modules read`)

  const cycles = parseCircular(tree).map((cycle) => cycle.map((f) => relative('src', f)).join(' → '))
  t.strictSame(cycles, [], 'no cycle, type-only imports included')

  const edges = edgesOf(tree)
  t.ok(edges.length > 200, `${edges.length} imports read`)
  const backEdges = edges.filter(([from, to]) => FORBIDDEN[folderOf(from)]?.includes(folderOf(to)) === true).map(([from, to]) => `${from} → ${to}`)
  t.strictSame(backEdges, [], 'no module imports a layer above its own')
})

t.test('the checks see what they look for', async (t) => {
  // A cycle and a back-edge in a made-up tree are found: the checks above cannot pass vacuously.
  const made: DependencyTree = {
    'src/engine/a.ts': [{ issuer: 'src/engine/a.ts', request: '../services/b.js', kind: 0 as never, id: 'src/services/b.ts' }],
    'src/services/b.ts': [{ issuer: 'src/services/b.ts', request: '../engine/a.js', kind: 0 as never, id: 'src/engine/a.ts' }]
  }
  t.equal(parseCircular(made).length, 1, 'the cycle')
  t.strictSame(edgesOf(made).filter(([from, to]) => FORBIDDEN[folderOf(from)]?.includes(folderOf(to)) === true), [['engine/a.ts', 'services/b.ts']], 'the back-edge')
})
