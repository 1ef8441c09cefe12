import { ValidationError } from '../../errors.js'
import { API_KEY_NAME_RULE, ENVIRONMENT_KEY_RULE } from '../../schemas/names.js'
import { ROLES, type ApiKey, type Role } from '../../services/api-key-service.js'
import { str, UsageError, type Command } from '../command.js'
import { emit, orDash, printLine, printTable } from '../output.js'
import { withSession } from '../session.js'
import { toApiKeyBody } from '../../services/api-key-view.js'

type ApiKeyView = Omit<ApiKey, 'keyHash'>

const environmentsOf = (key: ApiKeyView): string => key.environments.length === 0 ? 'all' : key.environments.join(',')

/** `--expires-at`: an ISO 8601 date or date-time (`2030-01-31`, `2030-01-31T12:00:00Z`). */
function expiry (raw: string | undefined): Date | null {
  if (raw === undefined) return null
  const at = new Date(raw)
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(at.getTime())) throw new UsageError(`--expires-at ${JSON.stringify(raw)}: expected an ISO 8601 date or date-time, e.g. 2030-01-31T12:00:00Z`)
  return at
}

const addKey: Command = {
  name: 'add-key',
  args: ['NAME'],
  synopsis: '--role R [--environment ENV]… [--expires-at ISO]',
  summary: 'create an API key and print its secret, this once only',
  optionHelp: [
    ['--role R', `${ROLES.join(', ')}: admin may do everything; editor writes, viewer reads, client evaluates only, in their environments`],
    ['-e, --environment ENV', 'an environment the key may address; repeat for more (client: exactly one; editor, viewer: none for every one; admin: none)'],
    ['--expires-at ISO', 'when the key stops working (default: never)']
  ],
  options: { role: { type: 'string' }, environment: { type: 'string', short: 'e', multiple: true }, 'expires-at': { type: 'string' } },
  json: 'the key with its secret, as POST /api-keys returns it (the only time the secret is shown)',
  async run ({ args: [name], values, json }) {
    const role = str(values, 'role')
    if (role === undefined) throw new UsageError(`--role is required: one of ${ROLES.join(', ')}`)
    if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`)
    const environments = (values.environment as string[] | undefined) ?? []
    for (const key of environments) {
      if (!ENVIRONMENT_KEY_RULE.test(key)) throw new UsageError(`--environment ${JSON.stringify(key)}: ${ENVIRONMENT_KEY_RULE.message}`)
    }
    const expiresAt = expiry(str(values, 'expires-at'))
    if (!API_KEY_NAME_RULE.test(name)) throw new ValidationError(`invalid key name ${JSON.stringify(name)}: ${API_KEY_NAME_RULE.message}`)
    const { key, secret } = await withSession((s) => s.apiKeys.create({ name, role: role as Role, environments, expiresAt }, s.write))
    emit(json, { ...toApiKeyBody(key), secret }, () => {
      printLine(`key ${key.name} added (id ${key.id}, role ${key.role}, environments ${environmentsOf(key)}${key.expiresAt === null ? '' : `, expires ${key.expiresAt.toISOString()}`})`)
      printLine(`secret: ${secret}`)
      printLine('Store the secret now: it is shown only this once (only its SHA-256 is stored).')
    })
  }
}

const listKeys: Command = {
  name: 'list-keys',
  args: [],
  summary: 'list the API keys (never their secrets)',
  json: '{"api_keys": [key…], "next_cursor": null}, as GET /api-keys returns it',
  async run ({ json }) {
    const keys = await withSession((s) => s.apiKeys.list())
    emit(json, { api_keys: keys.map(toApiKeyBody), next_cursor: null }, () => {
      if (keys.length === 0) { printLine('no keys'); return }
      printTable(['ID', 'NAME', 'ROLE', 'ENVIRONMENTS', 'PREFIX', 'CREATED', 'LAST USED', 'EXPIRES'], keys.map((k) => [
        k.id, k.name, k.role, environmentsOf(k), `${k.prefix}…`, k.createdAt.toISOString(), orDash(k.lastUsedAt?.toISOString()), orDash(k.expiresAt?.toISOString())
      ]))
    })
  }
}

const revokeKey: Command = {
  name: 'revoke-key',
  args: ['ID'],
  summary: 'revoke an API key: it stops working on every instance within the propagation bound',
  json: '{"id": ID, "revoked": true}',
  async run ({ args: [id], json }) {
    await withSession((s) => s.apiKeys.revoke(id, s.write))
    emit(json, { id, revoked: true }, () => printLine(`key ${id} revoked`))
  }
}

export const keyCommands = [addKey, listKeys, revokeKey]
