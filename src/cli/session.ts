import { userInfo } from 'node:os'
import { EnvironmentNotFoundError } from '../errors.js'
import type { ApiKeyService } from '../services/api-key-service.js'
import type { EnvironmentService } from '../services/environment-service.js'
import type { FlagService } from '../services/flag-service.js'
import type { HistoryService } from '../services/history-service.js'
import type { SubjectService } from '../services/subject-service.js'

/** What a command works with: the same services the server uses, and who the change log says wrote. */
export interface Session {
  flags: FlagService
  subjects: SubjectService
  environments: EnvironmentService
  apiKeys: ApiKeyService
  history: HistoryService
  /** The environment the command addresses: its `--environment`, else DEFAULT_ENVIRONMENT. */
  environment: string
  /** The configured DEFAULT_ENVIRONMENT. */
  defaultEnvironment: string
  /** Write options for the change log: `cli:<os user>`. */
  write: { actor: string }
}

/** `cli:<os user name>`; `cli` when the OS has no name for this user (a container with an arbitrary uid). */
export function cliActor (): string {
  try {
    const name = userInfo().username
    return name ? `cli:${name}` : 'cli'
  } catch {
    return 'cli'
  }
}

/**
 * Open the configured database through the container (no revision poll: a command is one shot),
 * check that `environment` (when given) exists, run `fn`, and close everything before returning,
 * whatever happened. A running server sees the writes through its own revision poll, as it sees
 * another instance's.
 */
export async function withSession<T> (fn: (session: Session) => Promise<T>, { environment }: { environment?: string } = {}): Promise<T> {
  // Loaded here, not at startup: --help and usage errors answer without loading the database layer.
  const [{ loadConfig }, { createContainer }] = await Promise.all([import('../config.js'), import('../container.js')])
  const container = await createContainer(loadConfig(), { poll: false, subscribe: false })
  try {
    const { flags, subjects, environments, apiKeys, history } = container.services
    const defaultEnvironment = container.config.defaultEnvironment
    // An unknown --environment is refused before the command does anything.
    if (environment !== undefined && !container.snapshot.hasEnvironment(environment)) throw new EnvironmentNotFoundError(environment)
    return await fn({ flags, subjects, environments, apiKeys, history, environment: environment ?? defaultEnvironment, defaultEnvironment, write: { actor: cliActor() } })
  } finally {
    await container.close()
  }
}
