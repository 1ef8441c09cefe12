import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { ValidationSeverity, validate, type ValidatorSettings } from 'dockerfile-utils'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { dockerignore } from './dockerignore.js'
import { execForm, ofKind, options, pairs, readRepoFile, ROOT, stageEnv, stages, words, type Stage } from './dockerfile.js'

/** The Dockerfile and .dockerignore: lint-clean, and true to the repository they package. */

const DOCKERFILE = readRepoFile('Dockerfile')
const STAGES = stages(DOCKERFILE)
const BUILD = STAGES[0]
const RUNTIME = STAGES[STAGES.length - 1]
const ignored = dockerignore(readRepoFile('.dockerignore'))
const pkg = JSON.parse(readRepoFile('package.json')) as {
  version: string, license: string, description: string, engines: { node: string }, config: { node_options: string }, scripts: Record<string, string>, dependencies: Record<string, string>
}

// Every check the linter has, as an error.
const STRICTEST: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR
}

t.test('dockerfile-utils finds no problem, at its strictest', async (t) => {
  const problems = validate(DOCKERFILE, STRICTEST)
  t.same(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`), [])
  // The linter is live: the same file with a classic mistake added is flagged.
  t.ok(validate(`${DOCKERFILE}\ncmd ['node']\n`, STRICTEST).length >= 2, 'a second, lower-case, single-quoted CMD is reported')
})

t.test('two stages: a full image builds, a slim one runs', async (t) => {
  t.equal(STAGES.length, 2)
  t.equal(BUILD.from, 'node:20-bookworm')
  t.equal(RUNTIME.from, 'node:20-bookworm-slim')
  t.equal(/^node:(\d+)-/.exec(RUNTIME.from)?.[1], /\d+/.exec(pkg.engines.node)?.[0], 'the Node major of package.json engines')
  for (const stage of STAGES) t.same(ofKind(stage, 'WORKDIR').map((i) => i.args), ['/app'], `${stage.name ?? stage.from}: WORKDIR /app`)
})

t.test('the build stage runs exactly what CI runs, then drops dev dependencies', async (t) => {
  // .ci/run installs with this line; `npm test` (which CI runs next) starts by building.
  const ciInstall = /^npm ci\b[^|&;\n]*/m.exec(readRepoFile('.ci/run'))?.[0].trim()
  t.ok(ciInstall, '.ci/run has an npm ci line')
  t.match(pkg.scripts.test, /^npm run build && /, 'npm test starts with npm run build')
  t.same(ofKind(BUILD, 'RUN').map((i) => i.args), [ciInstall, 'npm run build', 'npm prune --omit=dev'])
})

/** Where a stage's COPY sources come from: [path in the repository / build output, dest, --from]. */
function copies (stage: Stage): Array<{ source: string, dest: string, from?: string, line: number }> {
  return ofKind(stage, 'COPY').flatMap((instruction) => {
    const { flags, rest } = options(instruction.args)
    const parts = execForm(rest) ?? words(rest)
    const dest = parts[parts.length - 1]
    return parts.slice(0, -1).map((source) => {
      if (flags.from === undefined) return { source: posix.normalize(source).replace(/\/$/, ''), dest, line: instruction.line }
      // The build stage works in /app, a copy of the repository: /app/dist is the repo's dist/.
      const workdir = ofKind(STAGES.find((s) => s.name === flags.from)!, 'WORKDIR').at(-1)?.args ?? '/'
      return { source: posix.relative(workdir, source), dest, from: flags.from, line: instruction.line }
    })
  })
}

const filesUnder = (path: string): string[] => statSync(join(ROOT, path)).isDirectory()
  ? readdirSync(join(ROOT, path)).flatMap((name) => filesUnder(`${path}/${name}`))
  : [path]

t.test('every COPY source exists and reaches the builder', async (t) => {
  for (const stage of STAGES) {
    for (const copy of copies(stage)) {
      t.ok(existsSync(join(ROOT, copy.source)), `line ${copy.line}: ${copy.source} exists (${copy.from === undefined ? 'repository' : `${copy.from} stage output`})`)
      if (copy.from !== undefined) {
        t.ok(STAGES.some((s) => s.name === copy.from), `line ${copy.line}: stage ${copy.from} exists`)
        continue
      }
      const left = filesUnder(copy.source).filter(ignored)
      t.same(left, [], `line ${copy.line}: .dockerignore lets all of ${copy.source} through`)
    }
  }
})

t.test('the runtime stage: production dependencies, dist/, drizzle/, package.json', async (t) => {
  const sources = copies(RUNTIME).map((c) => `${c.from ?? 'context'}:${c.source}→${posix.join('/app', c.dest)}`)
  t.same(sources.sort(), ['build:dist→/app/dist', 'build:node_modules→/app/node_modules', 'context:drizzle→/app/drizzle', 'context:package.json→/app/'].sort())
  // Migrations are read at run time two folders above dist/db/ (src/db/migrate.ts, pg-migrate.ts): /app/drizzle.
  for (const file of ['src/db/migrate.ts', 'src/db/pg-migrate.ts']) t.match(readRepoFile(file), /new URL\('\.\.\/\.\.\/drizzle\//, `${file} reads ../../drizzle`)
  t.ok(existsSync(join(ROOT, 'dist/db/migrate.js')), 'dist/db/ is where the build puts the migrators')
  t.notOk(copies(RUNTIME).some((c) => c.source === 'src' || c.source.startsWith('src/')), 'no sources in the image')
})

t.test('the runtime environment, user and volume', async (t) => {
  const env = stageEnv(RUNTIME)
  t.match(env, { NODE_ENV: 'production', HOST: '0.0.0.0', DATABASE_URL: 'file:/data/flagpost.db' })
  const config = loadConfig(env)
  t.equal(config.port, Number(env.PORT), 'loadConfig accepts the image environment')
  t.same(ofKind(RUNTIME, 'EXPOSE').map((i) => i.args), [env.PORT], 'EXPOSE is the port the service listens on')

  const users = ofKind(RUNTIME, 'USER').map((i) => i.args)
  t.equal(users.length, 1)
  t.equal(users[0], 'node', 'the node image\'s unprivileged user')
  const volumes = ofKind(RUNTIME, 'VOLUME').map((i) => execForm(i.args) ?? words(i.args)).flat()
  t.same(volumes, ['/data'])
  t.equal(dirname(config.databaseUrl.slice('file:'.length)), '/data', 'the SQLite file lives in the volume')
  // The volume's folder is created and handed to that user before VOLUME (later changes would be lost).
  const order = RUNTIME.instructions.map((i) => i.keyword)
  const chown = RUNTIME.instructions.findIndex((i) => i.keyword === 'RUN' && new RegExp(`chown ${users[0]}:${users[0]} /data\\b`).test(i.args))
  t.ok(chown >= 0 && chown < order.indexOf('VOLUME') && order.indexOf('VOLUME') < order.indexOf('USER'), 'mkdir + chown /data, then VOLUME, then USER')
  const secrets = [...ofKind(RUNTIME, 'ENV'), ...ofKind(RUNTIME, 'ARG'), ...ofKind(BUILD, 'ENV'), ...ofKind(BUILD, 'ARG')].filter((i) => /KEY|PASSWORD|SECRET|TOKEN/i.test(i.args))
  t.same(secrets, [], 'no secret is baked into the image')
})

t.test('HEALTHCHECK, STOPSIGNAL and CMD', async (t) => {
  const checks = ofKind(RUNTIME, 'HEALTHCHECK')
  t.equal(checks.length, 1)
  const { flags, rest } = options(checks[0].args)
  t.match(flags, { interval: /^\d+s$/, timeout: /^\d+s$/, retries: /^\d+$/ })
  t.ok(parseInt(flags.timeout) < parseInt(flags.interval), 'a check ends before the next one starts')
  t.match(rest, /^CMD \[/, 'exec form: no shell needed')
  const command = execForm(rest.slice('CMD'.length).trim()) ?? []
  t.equal(command[0], 'node', 'node itself, as the slim image has no curl or wget')
  t.match(command.join(' '), /\/healthz/)
  t.notMatch(command.join(' '), /curl|wget/)

  t.same(ofKind(RUNTIME, 'STOPSIGNAL').map((i) => i.args), ['SIGTERM'])
  t.same(ofKind(RUNTIME, 'ENTRYPOINT'), [], 'no entrypoint wrapper: CMD\'s node is PID 1 and gets the signal')
  const cmd = ofKind(RUNTIME, 'CMD')
  t.equal(cmd.length, 1)
  t.same(execForm(cmd[0].args), ['node', ...pkg.config.node_options.split(' '), 'dist/bin/server.js'], 'exec form, not `sh -c`, with the node options of package.json config')
  // npm start execs it (no shell left between npm and node to swallow SIGTERM): test/server-shutdown.test.ts.
  t.ok(pkg.scripts.start.endsWith('exec node $npm_package_config_node_options dist/bin/server.js'), 'the same entry point and options as npm start')
})

t.test('OCI labels follow package.json', async (t) => {
  const args = Object.assign({}, ...ofKind(RUNTIME, 'ARG').map((i) => pairs(i.args))) as Record<string, string>
  const labels = Object.fromEntries(Object.entries(Object.assign({}, ...ofKind(RUNTIME, 'LABEL').map((i) => pairs(i.args))) as Record<string, string>)
    .map(([k, v]) => [k, v.replace(/\$\{(\w+)\}/g, (_m, name: string) => args[name] ?? '')]))
  t.match(labels, {
    'org.opencontainers.image.title': 'flagpost',
    'org.opencontainers.image.version': pkg.version,
    'org.opencontainers.image.licenses': pkg.license,
    'org.opencontainers.image.description': pkg.description,
    'org.opencontainers.image.base.name': `docker.io/library/${RUNTIME.from}`
  })
})

t.test('the image needs no dev dependency: everything dist/ imports is a dependency or built in', async (t) => {
  const { builtinModules } = await import('node:module')
  const imported = new Set<string>()
  for (const file of filesUnder('dist').filter((f) => f.endsWith('.js') && !f.startsWith('dist/bin/'))) {
    // JSDoc examples (`import … from 'flagpost'`) are not imports.
    for (const m of readRepoFile(file).replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/(?:(?<![.'"])\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"./$][^'"]*)['"]/g)) imported.add(m[1])
  }
  t.ok(imported.has('fastify'), 'the scan sees the imports')
  // dist/bin holds the server and the flagpost binary bundled with the packages they use (scripts/bundle.ts). What they
  // still load from node_modules is what esbuild left as a statement of its own: a top-level import, a dynamic import
  // or its require shim (`__require`). Bundled packages' comments and SQL templates cannot be told from imports by the
  // scan above, so it reads only those forms.
  const bundled = new Set<string>()
  for (const file of filesUnder('dist/bin').filter((f) => f.endsWith('.js'))) {
    for (const m of readRepoFile(file).matchAll(/^import\b[^;\n]*?['"]([^'"]+)['"];?$|\b__require\(['"]([^'"]+)['"]\)|\bimport\(['"]([^'"]+)['"]\)/gm)) bundled.add(m[1] ?? m[2] ?? m[3])
  }
  t.ok(bundled.has('better-sqlite3') && bundled.has('./server.js'), 'the bundle scan sees the imports')
  // pg-native is pg's optional native driver, required inside a try when asked for; never installed, never asked for.
  for (const specifier of bundled) if (!specifier.startsWith('.') && specifier !== 'pg-native') imported.add(specifier)
  const packages = [...imported].map((s) => s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0])
  const outside = packages.filter((p) => !p.startsWith('node:') && !builtinModules.includes(p) && !(p in pkg.dependencies))
  t.same([...new Set(outside)], [], 'npm prune --omit=dev keeps all of them')
})

t.test('.dockerignore keeps local state and secrets out of the build context', async (t) => {
  for (const path of ['node_modules/fastify/package.json', '.env', '.env.local', 'data/flagpost.db', 'dist/server.js', '.git/HEAD',
    'src/.env', 'src/node_modules/x/index.js', 'coverage/lcov.info', '.tap/processinfo/x.json', 'npm-debug.log', 'src/debug.log']) {
    t.ok(ignored(path), `${path} is left out`)
  }
  for (const path of ['package.json', 'package-lock.json', 'src/server.ts', 'src/db/migrate.ts', 'drizzle/pg/0000_init.sql']) t.notOk(ignored(path), `${path} is sent`)

  // The matcher itself can tell the difference (so the checks above can fail).
  const sample = dockerignore('*\n!src\n**/.env\nsrc/secret?.txt\n')
  t.same(['x', 'src/a.ts', 'src/b/.env', 'src/secret1.txt', 'src/b/secret1.txt'].map(sample), [true, false, true, true, false])
})
