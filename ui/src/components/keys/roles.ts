import type { Role } from '../../api/client.js'

/** What each role may do (SPEC §10), for the role picker and the list. */
export const ROLES: Array<{ value: Role, label: string, description: string }> = [
  { value: 'admin', label: 'admin', description: 'Everything, API keys and environments included; every environment' },
  { value: 'editor', label: 'editor', description: 'Writes flags, customers, users and overrides in its environments' },
  { value: 'viewer', label: 'viewer', description: 'Reads in its environments' },
  { value: 'client', label: 'client', description: 'Evaluates flags only, in exactly one environment (for applications)' }
]

/** What the environments field says for a role: what the server expects of it. */
export const ENVIRONMENTS_HELP: Record<Role, string> = {
  admin: 'Admin keys address every environment: none to pick',
  editor: 'The environments it covers; none: every one',
  viewer: 'The environments it covers; none: every one',
  client: 'Exactly one environment'
}
