import { spawn } from 'node:child_process'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { dataDir, freePort } from '../support/process.js'
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
  for (const [args, reason] of cases) {
    const res = run(args)
    t.equal(res.status, 2, args.join(' '))
    t.match(res.stderr, reason, args.join(' '))
    t.notMatch(res.stderr, /To specify a positional argument/, 'no node:util advice about --')
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
  t.same(tables.filter((n) => !n.startsWith('sqlite_')), ['__drizzle_migrations', 'api_keys', 'change_log', 'customers', 'flags', 'meta', 'overrides', 'users'])
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
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: `file:${join(dataDir(t), 'serve.db')}`, HOST: '127.0.0.1', PORT: String(port), API_KEY: 'test-write-key-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  for (let i = 0; i < 200 && !out.includes('Server listening'); i++) await new Promise((r) => setTimeout(r, 50))
  const res = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(res.status, 200, out)
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})
