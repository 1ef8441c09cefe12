/** What an API key may do (SPEC §10). */
export type ApiKeyRole = 'admin' | 'editor' | 'viewer' | 'client'

/**
 * One override, as the change log names it: [flag name, subject, subject id, environment]. Rows written
 * before environments have no fourth element: a cache reloads that flag whole instead.
 */
export type OverrideKey = [string, 'customer' | 'user', string, string?]
