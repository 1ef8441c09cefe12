import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import t from 'tap'
import { dataDir } from '../support/process.js'

// The built binary that package.json `bin` installs as `flagpost` (npm test builds first).
const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' })

t.test('--help and help print the usage and exit 0', async (t) => {
  for (const args of [['--help'], ['-h'], ['help'], ['migrate', '--help']]) {
    const res = run(args)
    t.equal(res.status, 0, args.join(' '))
    t.match(res.stdout, /Usage: flagpost <command>/)
    t.match(res.stdout, /migrate/)
  }
})

t.test('usage errors exit 2 with the reason on stderr', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage: flagpost/],
    [['bogus'], /unknown command "bogus"/],
    [['--nope'], /Unknown option '--nope'/],
    [['migrate', 'extra'], /unexpected argument "extra"/]
  ]
  for (const [args, reason] of cases) {
    const res = run(args)
    t.equal(res.status, 2, args.join(' '))
    t.match(res.stderr, reason)
    t.equal(res.stdout, '')
  }
})

t.test('migrate creates the schema in DATABASE_URL and is idempotent', async (t) => {
  const file = join(dataDir(t), 'nested', 'flags.db')
  for (let i = 0; i < 2; i++) {
    const res = run(['migrate'], { DATABASE_URL: `file:${file}` })
    t.equal(res.status, 0, res.stderr)
    t.match(res.stdout, /migrations applied/)
  }
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").all().map((r) => (r as { name: string }).name)
  t.same(tables.filter((n) => !n.startsWith('sqlite_')), ['__drizzle_migrations', 'api_keys', 'change_log', 'customers', 'flags', 'overrides', 'users'])
})

t.test('a bad configuration exits 2 listing the problem, without a stack trace', async (t) => {
  const res = run(['migrate'], { LOG_LEVEL: 'loud', PORT: 'x' })
  t.equal(res.status, 2)
  t.match(res.stderr, /LOG_LEVEL/)
  t.match(res.stderr, /PORT/)
  t.notMatch(res.stderr, /at .*\.js:\d+/)
})
