import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { ApiKeyNotFoundError, EnvironmentNotFoundError, invalidField } from '../errors.js'
import type { ApiKeyRepository, ApiKeyRole, AuditEntry, StoredApiKey } from '../repositories/flag-repository.js'
import { API_KEY_NAME_RULE, ENVIRONMENT_KEY_RULE } from '../schemas/names.js'

export type Role = ApiKeyRole
export const ROLES: readonly Role[] = ['admin', 'editor', 'viewer', 'client']

/** Who is asking: the change log's actor, the role, and the environments it may address (empty: all). */
export interface Principal {
  actor: string
  role: Role
  environments: readonly string[]
  /**
   * Names the key without revealing it (a prefix of its SHA-256): what a stream token carries, so
   * that the token stops working when the key does (revoked, expired).
   */
  ref: string
}
export type ApiKey = StoredApiKey
export interface NewApiKey { name: string, role: Role, environments?: string[], expiresAt?: Date | null }
interface KnownKey { hash: Buffer, principal: Principal, id?: string, expiresAt?: number }
interface WriteOptions { actor: string }

const sha256 = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest()
/** A key's reference: 12 bytes of its hash, enough to tell keys apart, useless to present as the key. */
const refOf = (hash: Buffer): string => hash.subarray(0, 12).toString('base64url')
/** How much of a secret a listing shows after `fp_<role>_`: enough to tell keys apart, far too little to guess the rest. */
const SHOWN = 6
/** Last use is recorded per key at most this often, and written in one batch at most this often. */
export const LAST_USED_RESOLUTION_MS = 60_000

/** The secret format secret scanners can match: `fp_<role>_` and 43 base64url characters (256 random bits). */
export const SECRET_PATTERN = /^fp_(admin|editor|viewer|client)_[A-Za-z0-9_-]{43}$/

const view = (key: StoredApiKey): Omit<StoredApiKey, 'keyHash'> => {
  const { keyHash: _hash, ...rest } = key
  return rest
}

/**
 * API keys (SPEC §10): the operator keys of API_KEY (admin) and READ_API_KEY (viewer), every
 * environment, and the managed keys stored as SHA-256 digests, each with a role and environments.
 * Presented keys are compared in constant time against every known key. Keys are reloaded whenever
 * the snapshot advances, so a key created or revoked on one instance is known on every instance
 * within the propagation bound. When a managed key was last used is kept in memory and written at
 * most once a minute per key, in one batch: never a write per request.
 */
export function createApiKeyService ({ repo, writeKeys, readKeys, hasEnvironment = () => true, committed = async () => {}, now = () => new Date() }: {
  repo: ApiKeyRepository
  writeKeys: string[]
  readKeys: string[]
  hasEnvironment?: (key: string) => boolean
  /** After a key write commits: catch up and announce it (the snapshot's `committed`), so other instances reload their keys at once. */
  committed?: () => Promise<void>
  now?: () => Date
}) {
  let known: KnownKey[] = []
  const lastRecorded = new Map<string, number>()
  let pending = new Map<string, Date>()
  let timer: NodeJS.Timeout | undefined
  const fromEnv = (key: string, role: Role): KnownKey => {
    const hash = sha256(key)
    return { hash, principal: { actor: `env-key:${hash.toString('hex').slice(0, 8)}`, role, environments: [], ref: refOf(hash) } }
  }
  const audit = (actor: string, action: string, before: unknown, after: unknown): AuditEntry => ({ actor, action, names: [], before, after })

  const checkEnvironments = (role: Role, environments: unknown): string[] => {
    if (environments === undefined || environments === null) environments = []
    if (!Array.isArray(environments)) throw invalidField('environments', 'must be an array of environment keys')
    for (const [i, key] of environments.entries()) {
      if (typeof key !== 'string' || !ENVIRONMENT_KEY_RULE.test(key)) throw invalidField(`environments.${i}`, ENVIRONMENT_KEY_RULE.message)
      if (!hasEnvironment(key)) throw new EnvironmentNotFoundError(key)
    }
    const unique = [...new Set(environments as string[])]
    if (role === 'admin' && unique.length > 0) throw invalidField('environments', 'must be empty for an admin key: admin keys address every environment')
    if (role === 'client' && unique.length !== 1) throw invalidField('environments', 'must name exactly one environment for a client key')
    return unique
  }

  return {
    /** Load the stored keys: at startup, and whenever the snapshot advanced (a key may have been added or revoked elsewhere). */
    async load (): Promise<void> {
      const stored = (await repo.all()).map((k): KnownKey => ({
        hash: Buffer.from(k.keyHash, 'hex'),
        id: k.id,
        principal: { actor: k.name, role: k.role, environments: k.environments, ref: refOf(Buffer.from(k.keyHash, 'hex')) },
        ...(k.expiresAt === null ? {} : { expiresAt: k.expiresAt.getTime() })
      }))
      known = [...writeKeys.map((k) => fromEnv(k, 'admin')), ...readKeys.map((k) => fromEnv(k, 'viewer')), ...stored]
    },

    /** The principal for a presented key, or null (unknown, revoked or expired). Always compares against every key. */
    authenticate (presented: string): Principal | null {
      const digest = sha256(presented)
      let match: KnownKey | null = null
      for (const key of known) if (timingSafeEqual(digest, key.hash)) match = key
      if (match === null) return null
      const at = Date.now()
      if (match.expiresAt !== undefined && match.expiresAt <= at) return null
      if (match.id !== undefined && at - (lastRecorded.get(match.id) ?? 0) >= LAST_USED_RESOLUTION_MS) {
        lastRecorded.set(match.id, at)
        pending.set(match.id, new Date(at))
      }
      return match.principal
    },

    /** The principal of the key a stream token names (`Principal.ref`), or null once it is revoked or expired. */
    principalByRef (ref: string): Principal | null {
      const match = known.find((key) => key.principal.ref === ref)
      if (match === undefined || (match.expiresAt !== undefined && match.expiresAt <= Date.now())) return null
      return match.principal
    },

    /** Create a managed key; the secret is returned here and never again (only its SHA-256 is stored). */
    async create (input: NewApiKey, opts: WriteOptions): Promise<{ key: Omit<ApiKey, 'keyHash'>, secret: string }> {
      if (typeof input.name !== 'string' || !API_KEY_NAME_RULE.test(input.name)) throw invalidField('name', API_KEY_NAME_RULE.message)
      if (!ROLES.includes(input.role)) throw invalidField('role', `must be one of ${ROLES.join(', ')}`)
      const environments = checkEnvironments(input.role, input.environments)
      const expiresAt = input.expiresAt ?? null
      if (expiresAt !== null && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now().getTime())) {
        throw invalidField('expiresAt', 'must be a time in the future')
      }
      const secret = `fp_${input.role}_${randomBytes(32).toString('base64url')}`
      const key: StoredApiKey = {
        id: randomUUID(),
        name: input.name,
        keyHash: sha256(secret).toString('hex'),
        role: input.role,
        environments,
        prefix: secret.slice(0, `fp_${input.role}_`.length + SHOWN),
        createdAt: now(),
        expiresAt,
        lastUsedAt: null
      }
      await repo.create(key, audit(opts.actor, 'api_key.create', null, view(key)))
      await this.load()
      await committed()
      return { key: view(key), secret }
    },

    /** Every managed key (never a hash), with when each was last used as far as this instance knows. */
    async list (): Promise<Array<Omit<ApiKey, 'keyHash'>>> {
      return (await repo.all()).map((k) => {
        const seen = pending.get(k.id)
        return view(seen !== undefined && (k.lastUsedAt === null || k.lastUsedAt < seen) ? { ...k, lastUsedAt: seen } : k)
      })
    },

    async get (id: string): Promise<Omit<ApiKey, 'keyHash'>> {
      const key = await repo.get(id)
      if (key === undefined) throw new ApiKeyNotFoundError(id)
      const seen = pending.get(id)
      return view(seen !== undefined && (key.lastUsedAt === null || key.lastUsedAt < seen) ? { ...key, lastUsedAt: seen } : key)
    },

    /** Revoke: the key stops working here at once, and on every other instance when it catches up. */
    async revoke (id: string, opts: WriteOptions): Promise<void> {
      const key = await repo.get(id)
      if (key === undefined) throw new ApiKeyNotFoundError(id)
      const revision = await repo.delete(id, audit(opts.actor, 'api_key.revoke', view(key), null))
      if (revision === null) throw new ApiKeyNotFoundError(id)
      pending.delete(id)
      await this.load()
      await committed()
    },

    /** Write the batched last-use times; a failure only leaves them for the next flush. */
    async flushUsage (): Promise<void> {
      if (pending.size === 0) return
      const batch = pending
      pending = new Map()
      try {
        await repo.touch([...batch].map(([id, at]) => ({ id, at })))
      } catch {
        for (const [id, at] of batch) if (!pending.has(id)) pending.set(id, at)
      }
    },

    /** Flush last-use times every LAST_USED_RESOLUTION_MS (unref'd timer). */
    start (): void {
      timer = setInterval(() => { void this.flushUsage() }, LAST_USED_RESOLUTION_MS)
      timer.unref()
    },

    async close (): Promise<void> {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      await this.flushUsage()
    },

    /**
     * On a first start with no configured and no stored key, create a random admin key, store
     * only its hash and return it (to be printed once). Returns null when keys already exist.
     */
    async ensureBootstrapKey (): Promise<string | null> {
      if (writeKeys.length > 0 || readKeys.length > 0 || (await repo.all()).length > 0) return null
      const secret = `fp_admin_${randomBytes(32).toString('base64url')}`
      const stored: StoredApiKey = {
        id: randomUUID(),
        name: 'bootstrap-admin',
        keyHash: sha256(secret).toString('hex'),
        role: 'admin',
        environments: [],
        prefix: secret.slice(0, 'fp_admin_'.length + SHOWN),
        createdAt: now(),
        expiresAt: null,
        lastUsedAt: null
      }
      // Instances started together on a fresh database race here: one stores its key, the others
      // get null and learn that key when their snapshot catches up past its change-log row.
      const revision = await repo.addFirst(stored, audit('system', 'api_key.create', null, view(stored)))
      await this.load()
      return revision === null ? null : secret
    }
  }
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>
