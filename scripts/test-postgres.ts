/**
 * The Postgres pass of `npm test` (`npm run test:postgres [-- <test files>]`): the suites that build
 * the whole app run again with every test app on a private schema of DATABASE_URL's database
 * (FLAGPOST_TEST_DB=postgres; see test/helper.ts). The repository contract suites already cover
 * Postgres in the first pass. Without a reachable DATABASE_URL=postgres://… this prints why and
 * passes on a laptop; under CI=true that is a failure.
 */
import { spawnSync } from 'node:child_process'
import { postgresRequired, probePostgres } from '../test/support/postgres.js'

const SUITES = ['test/routes', 'test/plugins', 'test/services/subject-service.test.ts']

const probe = await probePostgres()
if (probe.url === null) {
  if (postgresRequired()) {
    process.stdout.write(`not ok - Postgres pass: ${probe.reason}, and CI=true requires it\n`)
    process.exit(1)
  }
  process.stdout.write(`# SKIP Postgres pass: ${probe.reason}\n`)
  process.exit(0)
}
const files = process.argv.slice(2)
process.stdout.write(`# Postgres pass: ${(files.length > 0 ? files : SUITES).join(' ')} on ${probe.url.replace(/\/\/[^@/]*@/, '//***@')}\n`)
const run = spawnSync('tap', files.length > 0 ? files : SUITES, {
  stdio: 'inherit',
  env: { ...process.env, FLAGPOST_TEST_DB: 'postgres' }
})
process.exit(run.status ?? 1)
