import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { ApiKeyRepository } from '../repositories/flag-repository.js'

export type Scope = 'read' | 'write'
export interface Principal { actor: string, scope: Scope }
interface KnownKey { hash: Buffer, principal: Principal }

const sha256 = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest()

/**
 * API keys: from API_KEY / READ_API_KEY (comma-separated, so keys can be rotated) and the
 * hashes of keys the service generated itself. Keys are only ever held as SHA-256 digests and
 * compared in constant time against every known key.
 */
export function createApiKeyService ({ repo, writeKeys, readKeys }: { repo: ApiKeyRepository, writeKeys: string[], readKeys: string[] }) {
  let known: KnownKey[] = []
  const fromEnv = (key: string, scope: Scope): KnownKey => {
    const hash = sha256(key)
    return { hash, principal: { actor: `env-key:${hash.toString('hex').slice(0, 8)}`, scope } }
  }

  return {
    /** Load the stored key hashes: at startup, and whenever the snapshot advanced (a key may have been added elsewhere). */
    async load (): Promise<void> {
      const stored = (await repo.all()).map((k) => ({ hash: Buffer.from(k.keyHash, 'hex'), principal: { actor: `key:${k.name}`, scope: k.scope } }))
      known = [...writeKeys.map((k) => fromEnv(k, 'write')), ...readKeys.map((k) => fromEnv(k, 'read')), ...stored]
    },

    /** The principal for a presented key, or null. Always compares against every key. */
    authenticate (presented: string): Principal | null {
      const digest = sha256(presented)
      let match: Principal | null = null
      for (const key of known) if (timingSafeEqual(digest, key.hash)) match = key.principal
      return match
    },

    /**
     * On a first start with no configured and no stored key, create a random admin key, store
     * only its hash and return it (to be printed once). Returns null when keys already exist.
     */
    async ensureBootstrapKey (): Promise<string | null> {
      if (writeKeys.length > 0 || readKeys.length > 0 || (await repo.all()).length > 0) return null
      const key = `fp_${randomBytes(24).toString('base64url')}`
      const stored = { id: randomUUID(), name: 'bootstrap-admin', keyHash: sha256(key).toString('hex'), scope: 'write' as const, createdAt: new Date() }
      // Instances started together on a fresh database race here: one stores its key, the others
      // get null and learn that key when their snapshot catches up past its change-log row.
      const revision = await repo.addFirst(stored, { actor: 'system', action: 'api_key.create', names: [], before: null, after: { id: stored.id, name: stored.name, scope: stored.scope } })
      await this.load()
      return revision === null ? null : key
    }
  }
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>
