import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { dataDir, start, untraced } from './support/process.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('the README walk-through runs as written against npm start', async (t) => {
  // The block that starts with `export KEY=…`, exactly as a reader would paste it.
  const block = /```sh\nexport KEY=[^\n]*\n([\s\S]*?)```/.exec(README)?.[1]
  if (block === undefined) throw new Error('README has no walk-through block starting with "export KEY="')
  t.match(block, /curl -X POST http:\/\/localhost:5000\/flags/, 'the walk-through talks to localhost:5000 as documented')

  const server = await start({ DATABASE_URL: `file:${join(dataDir(t), 'flagpost.db')}` })
  t.teardown(() => { server.child.kill('SIGKILL') })
  const key = /generated an admin key[^:]*: (fp_[A-Za-z0-9_-]+)/.exec(server.output())?.[1]
  t.ok(key, 'the first start printed a key, as the README says')

  // Only the port differs from the README: the test server listens on a free one.
  const script = `set -eu\n${block.replaceAll('http://localhost:5000', server.base)}`
  const { stdout } = await promisify(execFile)(...untraced('bash', ['-c', script]), { env: { PATH: process.env.PATH ?? '', KEY: key! } })

  // Every documented response shows up verbatim or as documented.
  t.ok(stdout.includes('{"name":"new_checkout_flow","value":true,"variant":"on","reason":"TARGETING_MATCH","type":"boolean","version":1,"rule":"user_ids","metadata":{}}'),
    'alice: the exact response the README shows')
  t.ok(stdout.includes('{"name":"new_checkout_flow","value":false,"variant":"off","reason":"SPLIT"'), 'carol: outside the 50 %, as shown')
  t.match(stdout, /etag: "1"/i, 'GET -i shows the ETag')
  t.notMatch(stdout, /"status":(4|5)\d\d/, 'no command in the walk-through got an error')

  const state = async (path: string): Promise<{ status: number, body: Record<string, unknown> }> => {
    const res = await fetch(`${server.base}${path}`)
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }
  t.equal((await state('/flags/checkout_v2')).status, 404, 'the renamed flag was deleted at the end')
  t.equal((await state('/flags/new_checkout_flow')).status, 404, 'the old name is gone after the rename')
  t.match((await state('/flags/max_cart_items')).body, { type: 'number', default_value: 25 }, '"25" was coerced to a number')
  t.match((await state('/flags/pricing_config')).body, { type: 'json', default_value: { currency: 'EUR', discount: 0.1 } }, 'JSON text was parsed')
  t.match((await state('/flags/checkout_button_color')).body, { default_value: 'green', off_value: 'blue' })
  t.match(stdout, /"action":"flag\.update","environment":"development","flag":"checkout_button_color"[^\n]*"changed":\["enabled"\]/, 'the history shows the switch in development')
  t.match((await state('/environments/development/flags/checkout_button_color')).body, { enabled: false }, 'switched on in development, then reverted to how it was created')
  t.match((await state('/changes?limit=1')).body, { changes: [{ action: 'flag.revert', environment: 'development', flag: 'checkout_button_color' }] }, 'the revert is recorded')
  t.match((await state('/flags/checkout_button_color')).body, { enabled: true }, 'production is as it was')
  t.match(stdout, /"dry_run":true,"flags":\[\{"flag":"max_cart_items","changes":\{"enabled":\{"from":true,"to":false\}\}/, 'the promotion diff, as a dry run')
  t.notMatch(stdout, /"secret"/, 'the secret went into $CLIENT, not to the screen')
  t.match(stdout, /"name":"web-dev","role":"client","environments":\["development"\],"prefix":"fp_client_/, 'the key is listed, without its secret')
  t.match(stdout, /\{"key":"checkout_button_color","value":"green","reason":"STATIC","variant":"on"/, 'the client key evaluated in development')
})
