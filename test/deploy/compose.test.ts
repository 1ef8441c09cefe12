import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { BlockList } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import {
  ENV_EXAMPLE, SCHEMA_PATH, SCHEMA_UPSTREAM_COPY, composeStrings, composeValidator, loadCompose, rawCompose, normalizedSchema, references, userEnv, type ComposeFile, type Env
} from './compose.js'
import { readRepoFile, ROOT, stageEnv, stages } from './dockerfile.js'
import { untraced } from '../support/process.js'

/** docker-compose.yml against the Compose specification, .env.example, the service's config and nginx. */

const { compose } = loadCompose(userEnv())
const IMAGE_ENV = stageEnv(stages(readRepoFile('Dockerfile')).at(-1)!)
const NGINX = readRepoFile('deploy/nginx.conf')
// The services that run the Flagpost image.
const FLAGPOST_SERVICES = Object.entries(compose.services).filter(([, s]) => s.build !== undefined).map(([name]) => name)

t.test('the compose file is valid against the official Compose specification schema', async (t) => {
  const validate = composeValidator()
  t.ok(validate(compose), JSON.stringify(validate.errors, null, 2))
  // The validator rejects what compose would: the checks above can fail.
  const broken = (mutate: (c: ComposeFile & Record<string, any>) => void): boolean => {
    const copy = structuredClone(compose) as ComposeFile & Record<string, any>
    mutate(copy)
    return validate(copy)
  }
  t.notOk(broken((c) => { c.servics = {} }), 'an unknown top-level key')
  t.notOk(broken((c) => { (c.services.flagpost.deploy as any).replicas = 'two' }), 'replicas that are not a number')
  t.notOk(broken((c) => { c.services.flagpost.depends_on!.migrate.condition = 'service_done' }), 'an unknown depends_on condition')
  t.notOk(broken((c) => { (c.services.postgres.healthcheck as any).interval = 'often' }), 'a duration that is not one')
  t.notOk(broken((c) => { c.services.nginx.ports = ['5000:80:80'] }), 'a malformed port mapping')
})

t.test('the schema is the compose-spec repository\'s own file, only normalised for Ajv', async (t) => {
  t.equal(readFileSync(SCHEMA_PATH, 'utf8').replace(/\s+/g, ''), readFileSync(SCHEMA_UPSTREAM_COPY, 'utf8').replace(/\s+/g, ''),
    'the published copy is the vendored compose-spec/schema/compose-spec.json')
  const original = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>
  t.equal(original.$schema, 'http://json-schema.org/draft/2019-09/schema#')
  const { ids } = normalizedSchema(original)
  t.ok(ids.length > 10)
  // The dropped draft-04 `id`s only restate where they are (and the root's file name): nothing is lost.
  t.same(ids.filter(({ at, id }) => id !== at && !(at === '#' && id === 'compose_spec.json')), [])
})

// eslint-disable-next-line no-template-curly-in-string -- the test's name quotes compose's syntax
t.test('every ${VAR} is in .env.example; defaults agree; the two secrets must be supplied', async (t) => {
  const used = composeStrings().flatMap(references)
  const names = [...new Set(used.map((r) => r.name))].sort()
  t.same(names.filter((n) => !(n in ENV_EXAMPLE)), [], '.env.example lists every variable')
  t.same(Object.keys(ENV_EXAMPLE).filter((n) => !names.includes(n)), [], 'and nothing compose does not read')
  for (const { name, operator, word } of used.filter((r) => r.operator === ':-' && r.word !== '')) {
    t.ok(ENV_EXAMPLE[name] === '' || ENV_EXAMPLE[name] === word, `${name}: the example's "${ENV_EXAMPLE[name]}" is the compose default ${operator}${word}`)
  }
  t.same(used.filter((r) => r.operator !== ':-' && r.operator !== ':?').map((r) => r.name), [], 'each has a default (:-) or is required (:?)')

  // Nothing secret is committed: as shipped, compose refuses to start until both are set.
  const { errors } = loadCompose(ENV_EXAMPLE)
  t.same([...new Set(errors.map((e) => e.split(':')[0]))].sort(), ['API_KEY', 'POSTGRES_PASSWORD'])
  t.equal(ENV_EXAMPLE.API_KEY, '')
  t.equal(ENV_EXAMPLE.POSTGRES_PASSWORD, '')
  // And none is written into the compose file: each secret comes from a required or empty variable.
  for (const [name, service] of Object.entries(rawCompose().services)) {
    for (const [variable, value] of Object.entries(service.environment ?? {})) {
      const secret = /PASSWORD|KEY|SECRET|TOKEN/.test(variable) ? value : /^\w+:\/\/(?:\$\{[^}]*\}|[^:/@$]+):((?:\$\{[^}]*\}|[^@$])*)@/.exec(value)?.[1]
      if (secret !== undefined) t.match(secret, /^\$\{\w+(:\?[^}]*|:-)\}$/, `${name}: ${variable} is \${…:?…} or empty by default`)
    }
  }
  t.same(loadCompose(userEnv()).errors, [], 'with them supplied, everything resolves')
  t.match(readRepoFile('.gitignore'), /^\.env$/m, '.env (the real one) is never committed')
})

/** A Flagpost service's environment inside its container: the image's ENV, then compose's. */
const containerEnv = (service: string, env: Env = userEnv()): Env => ({ ...IMAGE_ENV, ...loadCompose(env).compose.services[service].environment })

t.test('every variable the Flagpost services set is one loadConfig reads, and it accepts them', async (t) => {
  t.same(FLAGPOST_SERVICES.sort(), ['flagpost', 'migrate'])
  // Which variables loadConfig reads: ask it, through an environment that records every lookup.
  const read = new Set<string>()
  loadConfig(new Proxy({}, { get: (_target, name) => { if (typeof name === 'string') read.add(name) } }))
  t.ok(read.has('DATABASE_URL') && read.has('TRUST_PROXY'), 'the probe sees the lookups')
  for (const service of FLAGPOST_SERVICES) {
    const set = Object.keys(compose.services[service].environment ?? {})
    t.same(set.filter((name) => !read.has(name)), [], `${service}: no variable the service would ignore`)
  }
  const app = loadConfig(containerEnv('flagpost'))
  t.match(app, {
    databaseUrl: 'postgres://flagpost:compose-test-pw@postgres:5432/flagpost',
    redisUrl: 'redis://redis:6379',
    apiKeys: ['compose-test-api-key-0123456789'],
    migrateOnStart: false,
    trustProxy: [ENV_EXAMPLE.PROXY_ADDRESS],
    host: '0.0.0.0'
  })
  const defaults = loadConfig({})
  t.match(app, { logLevel: defaults.logLevel, cacheRefreshMs: defaults.cacheRefreshMs, bodyLimit: defaults.bodyLimit, authReads: false },
    'the optional settings left empty in .env.example fall back to the service defaults')
  t.match(loadConfig(containerEnv('migrate')), { databaseUrl: app.databaseUrl })
  t.match(loadConfig(containerEnv('flagpost', userEnv({ LOG_LEVEL: 'debug', RATE_LIMIT_PER_MINUTE: '600' }))), { logLevel: 'debug', rateLimitPerMinute: 600 },
    'a value set in .env reaches the service')
})

t.test('migrate is a real CLI command, run once before the replicas', async (t) => {
  const migrate = compose.services.migrate
  t.same(migrate.command?.slice(0, 2), ['node', 'dist/bin/flagpost.js'])
  t.equal(migrate.command?.[1], JSON.parse(readRepoFile('package.json')).bin.flagpost, 'the flagpost bin')
  const help = await promisify(execFile)(...untraced(process.execPath, [...migrate.command!.slice(1), '--help']), { cwd: ROOT })
  t.match(help.stdout, /^Usage: flagpost migrate\b/, 'the CLI knows the command')
  const unknown = await promisify(execFile)(...untraced(process.execPath, ['dist/bin/flagpost.js', 'migrat']), { cwd: ROOT }).catch((err: { code: number, stderr: string }) => err)
  t.match(unknown, { code: 2, stderr: /unknown command/ }, 'unlike a misspelt one')
  t.equal(compose.services.flagpost.command, undefined, 'the replicas run the image CMD (the server)')
  t.match(compose.services.flagpost.depends_on, {
    migrate: { condition: 'service_completed_successfully' }, postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }
  })
  t.match(migrate.depends_on, { postgres: { condition: 'service_healthy' } })
  t.equal(compose.services.flagpost.environment?.MIGRATE_ON_START, 'false')
  t.ok((compose.services.flagpost.deploy?.replicas ?? 1) >= 2, 'at least two replicas')
})

t.test('Postgres and Redis: health-checked, data on named volumes', async (t) => {
  for (const name of ['postgres', 'redis']) {
    const service = compose.services[name]
    t.match(service.healthcheck?.test, [/^CMD(-SHELL)?$/], `${name} has a healthcheck`)
    const volume = service.volumes?.[0]?.split(':')[0] ?? ''
    t.ok(volume in (compose.volumes ?? {}), `${name} keeps its data on the named volume ${volume}`)
  }
  t.match(compose.services.postgres.image, /^postgres:16\b/)
  t.match(compose.services.redis.image, /^redis:7\b/)
  t.match(compose.services.postgres.healthcheck?.test.join(' '), /pg_isready -U "\$\{POSTGRES_USER\}"/, '$$ leaves the variable to the container shell')
})

t.test('nginx: one published port, upstream = the replicas\' service and port, X-Forwarded-For passed', async (t) => {
  const nginx = compose.services.nginx
  t.same(nginx.volumes, ['./deploy/nginx.conf:/etc/nginx/nginx.conf:ro'])
  t.ok(existsSync(join(ROOT, 'deploy/nginx.conf')))
  t.equal(nginx.ports?.length, 1)
  const [, published, target] = /^(\d+):(\d+)$/.exec(nginx.ports?.[0] ?? '') ?? []
  t.equal(published, ENV_EXAMPLE.HTTP_PORT)
  t.match(NGINX, new RegExp(`^\\s*listen ${target};`, 'm'), 'nginx listens on the published container port')
  t.same(Object.entries(compose.services).filter(([, s]) => s.ports !== undefined).map(([n]) => n), ['nginx'], 'only nginx is published')

  const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(NGINX)
  t.ok(upstream, 'an upstream block')
  const servers = [...(upstream?.[2] ?? '').matchAll(/^\s*server\s+([^\s:;]+):(\d+)/gm)].map((m) => ({ host: m[1], port: m[2] }))
  const appPort = compose.services.flagpost.environment?.PORT ?? IMAGE_ENV.PORT
  t.same(servers, [{ host: 'flagpost', port: appPort }], 'the flagpost service on the port it listens on')
  t.ok(FLAGPOST_SERVICES.includes(servers[0]?.host ?? ''), 'a service that runs the Flagpost image')
  t.match(NGINX, new RegExp(`proxy_pass\\s+http://${upstream?.[1] ?? '?'};`))
  t.match(NGINX, /proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;/)
  t.match(nginx.depends_on, { flagpost: { condition: 'service_healthy' } })
})

t.test('the replicas trust X-Forwarded-For from nginx\'s fixed address only, outside the dynamic range', async (t) => {
  const address = (compose.services.nginx.networks as Record<string, { ipv4_address?: string }>).edge?.ipv4_address ?? ''
  t.equal(compose.services.flagpost.environment?.TRUST_PROXY, address)
  const [{ subnet, ip_range: dynamic = '' }] = compose.networks?.edge?.ipam?.config ?? [{ subnet: '' }]
  const within = (cidr: string, ip: string): boolean => {
    const [net, prefix] = cidr.split('/')
    const list = new BlockList()
    list.addSubnet(net, Number(prefix))
    return list.check(ip)
  }
  t.ok(within(subnet, address), `${address} is in ${subnet}`)
  t.notOk(within(dynamic, address), `and outside ${dynamic}, which Docker assigns from`)
  t.ok(within(subnet, dynamic.split('/')[0]) && Number(dynamic.split('/')[1]) > Number(subnet.split('/')[1]), 'the dynamic range lies in the subnet')
  t.same(compose.services.flagpost.networks, ['backend', 'edge'])
  for (const name of ['postgres', 'redis', 'migrate']) t.same(compose.services[name].networks, ['backend'], `${name} is off the edge network`)
  t.equal(compose.networks?.backend?.internal, true, 'the data stores have no way out')
})
