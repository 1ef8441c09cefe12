/**
 * The Postgres pass of `npm test` (`npm run test:postgres [-- <test files>]`): every suite whose tests
 * open a database runs again with FLAGPOST_TEST_DB=postgres, so each test's database
 * (test/support/test-database.ts: build(), the CLI workspaces, the library, spawned servers) is a
 * fresh schema of DATABASE_URL's database, dropped when the test ends. Every test file is listed
 * below, either to run here or with the reason it need not: a new file that is in neither list fails
 * the pass. Afterwards no schema of this run may be left (FLAGPOST_TEST_RUN tags them; scripts/test.sh
 * sets it for both passes). Without a reachable DATABASE_URL=postgres://… this prints why and passes
 * on a laptop; under CI=true that is a failure.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { dropSchema, leftoverSchemas, postgresRequired, probePostgres, TEST_RUN } from '../test/support/postgres.js'

/** Run on Postgres: a folder covers every file under it not listed in ONCE. */
const TWICE = [
  'test/routes', // the HTTP API, one app per test (build())
  'test/plugins', // auth: API keys stored and looked up, the change log's actor
  'test/services', // services on the database: subject rules, optimistic-concurrency races
  'test/cli', // the built binary on a schema of the test's own, with a server or container beside it
  'test/library.test.ts', // createFlagpost() on a schema; two instances on one; close() closes the pool
  'test/library-hostile.test.ts', // bad arguments to every library call write nothing to the schema
  'test/library-environments.test.ts', // environments and promote through the library on a schema; the environment option
  'test/library-history.test.ts', // history, changes and revert through the library: the change log's filters and revert's writes on a schema
  'test/agreement.test.ts', // HTTP, CLI and library sharing one schema
  'test/client.test.ts', // the generated client against a live server
  'test/clients', // OpenFeature SDKs through OFREP against a live server
  'test/conformance', // flagd's evaluator scenarios through the API: flags stored, read back, evaluated
  'test/server.test.ts', // the server process: bootstrap key stored once, SIGTERM drain
  'test/server-shutdown.test.ts', // SIGTERM with keep-alive pools and through npm start, the server on a schema
  'test/server-streams.test.ts', // SIGTERM with event streams open and a write in flight: the write commits to the schema after the hub has shut down, the streams' replay reads the change log
  'test/logs-secrets.test.ts', // managed keys created, used, revoked on the test's schema while the server's log is captured
  'test/faults/kill9.test.ts', // kill -9 mid-burst: every acknowledged write is committed
  'test/faults/redis-outage.test.ts', // two instances on one schema converge by poll while Redis is cut
  'test/cache', // the snapshot, the Redis feed and the Redis flag copy over two or three containers on one schema
  'test/fuzz', // the OpenAPI-driven fuzz: hostile requests to every operation, every table compared after each refusal
  'test/db/legacy-fixture.test.ts' // a pre-environments database (test/fixtures/legacy/postgres.sql) restored into a schema, migrated, every answer as recorded
]

/** Dialect-independent, or on Postgres in the first pass already: run once, by the first pass. */
const ONCE: Record<string, string> = {
  'test/engine': 'the pure evaluation engine: no I/O',
  'test/metrics': 'the evaluation counter over engine results and plans in memory: no database',
  'test/config.test.ts': 'loadConfig(env) is a pure function',
  'test/schemas': 'the input rule on values in memory: no I/O',
  'test/architecture.test.ts': 'reads the import graph of src/; no database',
  'test/log-destination.test.ts': 'where log lines are written; the database is incidental',
  'test/tick-shape.test.ts': 'V8\'s feedback for nextTick in the server process, on its own SQLite file; the database is incidental',
  'test/schema-compilers.test.ts': 'the serializer and validator compilers over schemas in memory; no database',
  'test/request-log.test.ts': 'the level and form of request log lines; its app is on SQLite in memory, the database is incidental',
  'test/openapi.test.ts': 'the document is built from the route schemas; no flag is read',
  'test/openapi-examples.test.ts': 'examples against their schemas; the two flag writes it sends are ordinary creates and merge patches, which test/routes runs on Postgres',
  'test/openapi-responses.test.ts': 'auth and the rate limit come before the database, and the outage is made at the repository port (dialect-free)',
  'test/openapi-lint.test.ts': 'Redocly and Spectral over the document, which no database shapes: one pass is enough',
  'test/openapi-generators.test.ts': 'hey-api and orval clients generated from the document and compiled; no database',
  'test/readme.test.ts': 'the README walk-through as written, on the default SQLite file it documents',
  'test/db/migrations-current.test.ts': 'drizzle-kit against the schema files, both dialects, no database',
  'test/db/schema-parity.test.ts': 'compares the two schema files; no database',
  'test/db/pg.test.ts': 'Postgres-only already (URL, pool, migrate, outage errors), in the first pass',
  'test/repositories': 'the contract suites run on memory, SQLite and Postgres in the first pass',
  'test/faults/multi-instance.test.ts': 'always three servers on Postgres and Redis, in the first pass',
  'test/faults/database-outage.test.ts': 'always Postgres, in the first pass: only a networked database can be cut at a TCP proxy',
  'test/faults/database-stall.test.ts': 'always Postgres, in the first pass: a stalled link needs a networked database behind a TCP proxy',
  'test/faults/redis-stall.test.ts': 'always Postgres and Redis, in the first pass: Redis stalled at a TCP proxy under a Postgres-backed instance',
  'test/cli/help.test.ts': 'usage text; --help never opens the database',
  'test/services/keyed-queue.test.ts': 'an in-process queue; no database',
  'test/services/bulk-plan.test.ts': 'bulk plans and the outcome each flag is answered with, over compiled flags in memory; no database (test/routes/bulk-kept.test.ts and ofrep.test.ts answer from plans on Postgres)',
  'test/services/bulk-answers.test.ts': 'the kept bulk answers\' keys, budget and admission, in memory; no database (test/routes/bulk-kept.test.ts runs them on Postgres)',
  'test/services/stream-hub.test.ts': 'the stream hub over a fake change log and fake connections; no database (test/routes/streams*.test.ts run it on Postgres)',
  'test/services/history-retention.test.ts': 'ages a SQLite file\'s change log in place to start with CHANGE_RETENTION_DAYS; prune itself is in the repository contract, Postgres included',
  'test/cache/redis-timers.test.ts': 'ioredis\'s timeouts against Redis and a silent socket; no database',
  'test/routes/cors.test.ts': 'CORS headers follow from the request alone (Origin, path, method); the database is incidental',
  'test/ui': 'the admin UI in chromium against a live server on SQLite (SPEC §13); the pages call the same API test/routes runs on Postgres',
  'test/routes/lent-bytes.test.ts': 'the pool of answer memory over fake responses; no database (test/routes/bulk-lent.test.ts runs it over sockets on Postgres)',
  'test/routes/json-text.test.ts': 'joining an answer\'s pieces into one buffer, in memory; no database (test/routes/bulk-kept.test.ts and ofrep.test.ts send joined answers on Postgres)',
  'test/routes/ui.test.ts': 'static files of the built UI and their headers; no database',
  'test/browser': 'chromium against a live server tests CORS and the OFREP web provider in a page, not the dialect (test/routes and test/clients cover the API on Postgres)',
  'test/deploy': 'container files: the compose topology is on Postgres and Redis in the first pass; the image runs its own SQLite default; TRUST_PROXY is Fastify\'s'
}

/** Every test file (as .taprc includes them) on the pass, by the longest matching entry; throws on an unlisted one. */
function postgresSuites (): string[] {
  const files = (readdirSync('test', { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f.split('\\').join('/')}`).sort()
  const match = (file: string, entries: string[]): number =>
    Math.max(-1, ...entries.filter((e) => file === e || file.startsWith(`${e}/`)).map((e) => e.length))
  const unlisted: string[] = []
  const selected = files.filter((file) => {
    const twice = match(file, TWICE)
    const once = match(file, Object.keys(ONCE))
    if (twice < 0 && once < 0) unlisted.push(file)
    return twice > once
  })
  if (unlisted.length > 0) throw new Error(`list ${unlisted.join(', ')} in scripts/test-postgres.ts: TWICE, or ONCE with the reason`)
  return selected
}

const probe = await probePostgres()
if (probe.url === null) {
  if (postgresRequired()) {
    process.stdout.write(`not ok - Postgres pass: ${probe.reason}, and CI=true requires it\n`)
    process.exit(1)
  }
  process.stdout.write(`# SKIP Postgres pass: ${probe.reason}\n`)
  process.exit(0)
}

let files = process.argv.slice(2)
if (files.length === 0) {
  try {
    files = postgresSuites()
  } catch (err) {
    process.stdout.write(`not ok - Postgres pass: ${(err as Error).message}\n`)
    process.exit(1)
  }
}
const run = process.env.FLAGPOST_TEST_RUN ?? randomBytes(4).toString('hex')
if (!TEST_RUN.test(run)) {
  process.stdout.write(`not ok - Postgres pass: FLAGPOST_TEST_RUN must match ${String(TEST_RUN)}, got "${run}"\n`)
  process.exit(1)
}
const started = performance.now()
process.stdout.write(`# Postgres pass: ${files.length} files on ${probe.url.replace(/\/\/[^@/]*@/, '//***@')}\n`)
const result = spawnSync('tap', files, {
  stdio: 'inherit',
  env: { ...process.env, FLAGPOST_TEST_DB: 'postgres', FLAGPOST_TEST_RUN: run }
})
let status = result.status ?? 1

// A schema this run made and did not drop is a test that does not clean up after itself.
const leaked = await leftoverSchemas(probe.url, run)
if (leaked.length > 0) {
  process.stdout.write(`not ok - ${leaked.length} test schemas of this run were left behind (now dropped): ${leaked.join(', ')}\n`)
  for (const schema of leaked) await dropSchema(probe.url, schema)
  status = 1
}
process.stdout.write(`# Postgres pass: ${((performance.now() - started) / 1000).toFixed(0)} s, no test schema left behind: ${leaked.length === 0}\n`)
process.exit(status)
