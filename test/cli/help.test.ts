import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { differs, failing } from '../support/cases.js'
import { dataDir } from '../support/process.js'
import { run } from './support.js'

const COMMANDS = [
  'add-feature', 'remove-feature', 'rename-feature', 'set-global', 'enable', 'disable', 'list-flags',
  'add-customer', 'remove-customer', 'add-user', 'remove-user', 'set-flag', 'clear-flag',
  'list-features', 'list-customers', 'list-customers-enabled', 'list-customers-disabled', 'evaluate',
  'list-environments', 'add-environment', 'remove-environment', 'promote', 'history', 'changes', 'revert', 'add-key', 'list-keys', 'revoke-key', 'serve', 'migrate'
]

// The usage line of each command, as `flagpost <command> --help` starts.
const USAGE_LINES: Record<string, string> = {
  'add-feature': 'Usage: flagpost add-feature NAME [--default-enabled] [--type T --default-value V] [--description D] [--json]',
  'remove-feature': 'Usage: flagpost remove-feature NAME [--json]',
  'rename-feature': 'Usage: flagpost rename-feature OLD NEW [--json]',
  'set-global': 'Usage: flagpost set-global NAME --enabled|--disabled [--json]',
  enable: 'Usage: flagpost enable NAME [--json]',
  disable: 'Usage: flagpost disable NAME [--json]',
  'list-flags': 'Usage: flagpost list-flags [--json]',
  'add-customer': 'Usage: flagpost add-customer ID [--name N] [--json]',
  'remove-customer': 'Usage: flagpost remove-customer ID [--json]',
  'add-user': 'Usage: flagpost add-user ID [--customer-id C] [--json]',
  'remove-user': 'Usage: flagpost remove-user ID [--json]',
  'set-flag': 'Usage: flagpost set-flag NAME (--customer-id C | --user-id U) --enabled|--disabled [--variant V] [--json]',
  'clear-flag': 'Usage: flagpost clear-flag NAME (--customer-id C | --user-id U) [--json]',
  'list-features': 'Usage: flagpost list-features CUSTOMER_ID [--json]',
  'list-customers': 'Usage: flagpost list-customers NAME [--json]',
  'list-customers-enabled': 'Usage: flagpost list-customers-enabled NAME [--json]',
  'list-customers-disabled': 'Usage: flagpost list-customers-disabled NAME [--json]',
  evaluate: 'Usage: flagpost evaluate NAME [--user-id U] [--customer-id C] [--attr key=value]… [--json]',
  'list-environments': 'Usage: flagpost list-environments [--json]',
  'add-environment': 'Usage: flagpost add-environment KEY [--name N] [--json]',
  'remove-environment': 'Usage: flagpost remove-environment KEY [--force] [--json]',
  promote: 'Usage: flagpost promote --from ENV --to ENV [--flag NAME]… [--include-overrides] [--dry-run] [--json]',
  history: 'Usage: flagpost history NAME [--limit N] [--json]',
  changes: 'Usage: flagpost changes [--flag NAME] [--environment ENV] [--actor A] [--action X] [--from-revision N] [--to-revision N] [--since ISO] [--until ISO] [--limit N] [--json]',
  revert: 'Usage: flagpost revert NAME REVISION [--json]',
  'add-key': 'Usage: flagpost add-key NAME --role R [--environment ENV]… [--expires-at ISO] [--json]',
  'list-keys': 'Usage: flagpost list-keys [--json]',
  'revoke-key': 'Usage: flagpost revoke-key ID [--json]',
  serve: 'Usage: flagpost serve',
  migrate: 'Usage: flagpost migrate'
}

t.test('--help and help print the usage, listing every command, and exit 0', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const res = run(args)
    t.equal(res.status, 0, args.join(' '))
    t.match(res.stdout, /^Usage: flagpost <command>/)
    t.same(COMMANDS.filter((command) => !new RegExp(`^  ${command}( |$)`, 'm').test(res.stdout)), [], `${args.join(' ')} lists every command`)
    t.equal(res.stderr, '')
  }
})

t.test('every command has --help: its own usage on stdout, exit 0, the database untouched', async (t) => {
  const env = { DATABASE_URL: `file:${join(dataDir(t), 'untouched.db')}` }
  const help: Record<string, string> = {}
  t.same(failing(COMMANDS, (command) => {
    const res = run([command, '--help'], env)
    help[command] = res.stdout
    const json = USAGE_LINES[command].endsWith('[--json]')
    return differs(command, {
      status: res.status,
      usage: res.stdout.split('\n')[0],
      listsOptions: /\n {2}-h, --help +show this help\n$/.test(res.stdout),
      saysWhatJsonPrints: json && /\n {2}--json +print /.test(res.stdout),
      stderr: res.stderr
    }, { status: 0, usage: USAGE_LINES[command], listsOptions: true, saysWhatJsonPrints: json, stderr: '' })
  }), [], `all ${COMMANDS.length} commands: exit 0, their usage line, their options ending with -h, what --json prints where they take it, nothing on stderr`)
  // Help wins over anything else on the line; `help <command>` is the same text.
  for (const args of [['help', 'set-flag'], ['set-flag', '-h'], ['set-flag', 'x', '--bogus', '--enabled', '--disabled', '--help'], ['evaluate', '--attr', 'novalue', '-h']]) {
    const res = run(args, env)
    t.equal(res.status, 0, args.join(' '))
    t.equal(res.stdout, help[args[0] === 'help' ? args[1] : args[0]], args.join(' '))
  }
  t.notOk(existsSync(env.DATABASE_URL.slice('file:'.length)), 'no --help opened the database')
})
