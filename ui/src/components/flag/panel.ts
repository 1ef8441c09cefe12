import type { Flag } from '../../api/client.js'

/** What every tab of a flag's page gets: the flag as the environment serves it, and whether this key may change it there. */
export interface FlagPanelProps {
  flag: Flag
  environment: string
  canWrite: boolean
}
