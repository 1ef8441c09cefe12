import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { getTableName, is, Table } from 'drizzle-orm'
import t from 'tap'
import { sqlitePath } from '../../src/db/sqlite-client.js'
import * as schema from '../../src/db/schema/sqlite.js'
import { differs, failing } from '../support/cases.js'
import { freePort, untraced } from '../support/process.js'
import { tableNames, testDatabase } from '../support/test-database.js'
import { CLI, run } from './support.js'

t.test('--help and help print the usage and exit 0', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const res = run(args)
    t.equal(res.status, 0, args.join(' '))
    t.match(res.stdout, /Usage: flagpost <command>/)
    t.match(res.stdout, /migrate/)
    t.equal(res.stderr, '')
  }
})

t.test('--version prints the package version', async (t) => {
  const res = run(['--version'])
  t.equal(res.status, 0)
  t.match(res.stdout, /^\d+\.\d+\.\d+/)
})

t.test('usage errors exit 2 with the reason on stderr', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage: flagpost/],
    [['bogus'], /unknown command "bogus"/],
    [['add-feture', 'x'], /unknown command "add-feture" \(did you mean add-feature\?\)/],
    [['help', 'bogus'], /unknown command "bogus"/],
    [['--nope'], /Unknown option '--nope'/],
    [['migrate', 'extra'], /unexpected argument "extra"[\s\S]*Usage: flagpost migrate/],
    [['serve', '--json'], /Unknown option '--json'/],
    [['add-feature'], /flagpost add-feature: missing NAME\n\nUsage: flagpost add-feature NAME/],
    [['rename-feature', 'a'], /flagpost rename-feature: missing NEW/],
    [['add-customer', '1', '2'], /flagpost add-customer: unexpected argument "2"/],
    [['add-customer', '1', '--name'], /Option '--name <value>' argument missing/],
    [['set-global', 'x', '--enabled=yes'], /Option '--enabled' does not take an argument/],
    [['list-flags', '--bogus'], /flagpost list-flags: Unknown option '--bogus'\n/]
  ]
  t.same(failing(cases, ([args, reason]) => {
    const res = run(args)
    const got = { status: res.status, reason: reason.test(res.stderr), nodeUtilAdvice: /To specify a positional argument/.test(res.stderr), stdout: res.stdout }
    return differs(`${args.join(' ')} → ${res.stderr}`, got, { status: 2, reason: true, nodeUtilAdvice: false, stdout: '' })
  }), [], `each of ${cases.length} bad command lines exits 2 with its reason on stderr (no node:util advice about --) and nothing on stdout`)
})

t.test('migrate creates the schema in DATABASE_URL and is idempotent', async (t) => {
  const db = await testDatabase(t, { shared: true })
  // On SQLite, in a folder that does not exist yet: migrate creates it.
  const url = db.file === undefined ? db.url : `file:${join(dirname(db.file), 'nested', 'flags.db')}`
  if (db.dialect === 'sqlite') t.notOk(existsSync(sqlitePath(url)), 'no database file before')
  else t.same(await tableNames(url), [], 'no table in the schema before')
  for (let i = 0; i < 2; i++) {
    const res = run(['migrate'], { DATABASE_URL: url })
    t.equal(res.status, 0, res.stderr)
    t.match(res.stdout, /migrations applied/)
  }
  // Every table of the schema file, and the migration journal (in the URL's schema, on Postgres).
  const tables = Object.values(schema).filter((x) => is(x, Table)).map((x) => getTableName(x as Table))
  t.ok(tables.length >= 6, `the schema has tables (${tables.join(', ')})`)
  t.same(await tableNames(url), ['__drizzle_migrations', ...tables].sort())
})

t.test('a bad configuration exits 2 listing the problem, without a stack trace', async (t) => {
  const res = run(['migrate'], { LOG_LEVEL: 'loud', PORT: 'x' })
  t.equal(res.status, 2)
  t.match(res.stderr, /LOG_LEVEL/)
  t.match(res.stderr, /PORT/)
  t.notMatch(res.stderr, /at .*\.js:\d+/)
})

t.test('serve runs the HTTP service until SIGTERM, then exits 0', async (t) => {
  const port = await freePort()
  const child = spawn(...untraced(process.execPath, [CLI, 'serve']), {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: (await testDatabase(t, { shared: true })).url, HOST: '127.0.0.1', PORT: String(port), API_KEY: 'test-write-key-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // Until it listens or exits, at most 60 s: a loaded machine (CI on two cores) can take over 10 s to boot and migrate.
  for (let i = 0; i < 1200 && !out.includes('Server listening') && child.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  const res = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(res.status, 200, out)
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})
