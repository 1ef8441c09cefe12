import type { ApiKey } from './api-key-service.js'

/** An API key as the API and the CLI's --json show it: snake_case, never its secret, never its hash. */
export interface ApiKeyBody {
  id: string
  name: string
  role: ApiKey['role']
  environments: string[]
  prefix: string
  created_at: string
  expires_at: string | null
  last_used_at: string | null
}

export const toApiKeyBody = (key: Omit<ApiKey, 'keyHash'>): ApiKeyBody => ({
  id: key.id,
  name: key.name,
  role: key.role,
  environments: [...key.environments],
  prefix: key.prefix,
  created_at: key.createdAt.toISOString(),
  expires_at: key.expiresAt?.toISOString() ?? null,
  last_used_at: key.lastUsedAt?.toISOString() ?? null
})
