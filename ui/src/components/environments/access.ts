import type { Session } from '../../api/session.js'

/** Why environment writes (create, rename, delete, promote) are not offered: the API admits admin keys only. */
export const adminOnlyReason = (session: Session): string | undefined =>
  session.isAdmin ? undefined : `Read-only: environments are changed with admin keys only, and you are signed in with a ${session.key.role} key`

/** The page's own listing (every environment and which is the default); under the shared key, so writes refresh both. */
export const environmentsPageKey = ['environments', 'page'] as const
